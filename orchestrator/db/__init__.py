"""Persistence: SQLAlchemy models, engines and migrations, and the TraceStore that saves
batches of traces, profile sets, experts and eval runs."""

from orchestrator.db.engine import make_engine, migrate, session_factory
from orchestrator.db.eval_store import EvalRunInfo, EvalRunStore
from orchestrator.db.store import DuplicateBatchError, ProfileSetInfo, TraceStore

__all__ = [
    "DuplicateBatchError",
    "EvalRunInfo",
    "EvalRunStore",
    "ProfileSetInfo",
    "TraceStore",
    "make_engine",
    "migrate",
    "session_factory",
]
