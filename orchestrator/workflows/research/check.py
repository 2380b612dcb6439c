"""The `llm_check` supervisor: an LLM reads a sub-question and its answer and scores
`consistency` (the answer addresses the question and does not contradict itself or it) and
`support` (its claims come with reasons or facts), each in [0, 1], with a reason a retry can
use.

The expert is the workflow's judge role's (its `max_tokens` too), so a workflow names one
judge for the whole result and for each sub-answer; the prompt is this module's, because the
judge role's own prompt is about the plan's coverage. Decoding is constrained to
CHECK_SCHEMA where the backend can (llama.cpp's grammar); scores outside [0, 1] are clamped,
and output that is not such an object scores 0 on both, its raw text in the reason."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

from orchestrator.errors import ConfigError
from orchestrator.workflows.llm_steps import fill
from orchestrator.workflows.research.text import attempt_text
from orchestrator.workflows.tools import Supervisor, WorkflowContext
from orchestrator.workflows.types import Attempt, RoleSpec, Score, SubTask

JUDGE_ROLE = "judge"
DIMENSIONS = ("consistency", "support")
RAW_KEPT = 300  # characters of unparseable output kept in the reason
ANSWER_MAX_CHARS = 3000  # what the judge reads of a long answer
CHECK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "consistency": {"type": "number"},
        "support": {"type": "number"},
        "reason": {"type": "string", "maxLength": 160},
    },
    "required": ["consistency", "support", "reason"],
}
CHECK_PROMPT = """Check this answer to a question.
Question: {question}
Answer: {answer}
Score two things from 0 (not at all) to 1 (fully):
- consistency: the answer addresses the question and contradicts neither itself nor the question;
- support: the answer backs its claims with reasons or facts.
Then give a short reason."""


def clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


def _score(value: object) -> float:
    """A JSON number as a score in [0, 1]; anything else (a string, true, NaN) is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"not a number: {value!r}")
    return clamp(float(value))


def parse_check(raw: str) -> tuple[float, float, str]:
    """(consistency, support, reason) from the checker's output; (0, 0, why) when the output
    is not an object with both numbers."""
    try:
        verdict = json.loads(raw)
        if not isinstance(verdict, dict):
            raise ValueError("not an object")
        consistency, support = _score(verdict["consistency"]), _score(verdict["support"])
    except (json.JSONDecodeError, KeyError, ValueError):
        return 0.0, 0.0, f"the checker's output was not a score: {raw[:RAW_KEPT]!r}"
    return consistency, support, str(verdict.get("reason", "")).strip()


class LlmCheckSupervisor(Supervisor):
    name: ClassVar[str] = "llm_check"
    dimensions: ClassVar[tuple[str, ...]] = DIMENSIONS
    needs_roles: ClassVar[tuple[str, ...]] = (JUDGE_ROLE,)

    def __init__(
        self, context: WorkflowContext | None = None, roles: dict[str, RoleSpec] | None = None
    ) -> None:
        super().__init__(context, roles)
        if JUDGE_ROLE not in self.roles:
            # refused when the engine is built, before any model runs
            raise ConfigError(
                f"supervisor {self.name!r} needs roles.{JUDGE_ROLE}: its expert scores the "
                "sub-answers"
            )
        self.judge = self.roles[JUDGE_ROLE]

    def review(self, task: SubTask, attempt: Attempt, artifacts_dir: Path) -> list[Score]:
        answer = attempt_text(attempt, artifacts_dir)
        if not answer or not answer.strip():
            why = f" ({attempt.error})" if attempt.error else ""
            return self._scores(0.0, 0.0, f"no answer to check{why}")
        if self.context.ask is None:
            raise ConfigError(f"supervisor {self.name!r} needs experts, and none were given")
        question = task.description() or attempt.instruction
        prompt = fill(CHECK_PROMPT, question=question, answer=answer[:ANSWER_MAX_CHARS])
        try:
            raw = self.context.ask(self.judge.expert, prompt, CHECK_SCHEMA, self.judge.max_tokens)
        except Exception as exc:  # a failed checker scores 0; the run goes on
            return self._scores(0.0, 0.0, f"the checker {self.judge.expert} failed: {exc}")
        return self._scores(*parse_check(raw))

    def _scores(self, consistency: float, support: float, reason: str) -> list[Score]:
        return [
            Score(supervisor=self.name, dimension="consistency", value=consistency, reason=reason),
            Score(supervisor=self.name, dimension="support", value=support, reason=reason),
        ]
