"""The research workflow's team: a hard question's sub-questions answered by symoe itself,
checked by an LLM, and synthesised into one cited answer. Registered in
`orchestrator.workflows.tools` and `orchestrator.workflows.assemblers` as lazy
"module:Class" entries.

- `text`: a text artifact (UTF-8, named by its sha256) written and read back.
- `answer_tool`: the `symoe_answer` tool (a sub-question through the normal planner and
  recruiter, `WorkflowContext.answer`).
- `check`: the `llm_check` supervisor (the judge role's expert scores consistency and
  support, its output constrained to a JSON schema).
- `synthesis`: the `research_synthesis` assembler (the synthesizer role writes the final
  answer citing the numbered sub-answers; answer.md).
"""
