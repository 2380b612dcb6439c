"""Agent-team workflows (AudioGenie-style): a planner writes typed sub-tasks, a generation
team of tools makes each, a supervisor team scores it, a bounded refinement loop retries,
an assembler puts the results together; every step is checkpointed (see engine.py)."""
