"""Persistence: SQLAlchemy models, engines and migrations, and the TraceStore that saves
batches of traces, profile sets and experts."""

from orchestrator.db.engine import make_engine, migrate, session_factory
from orchestrator.db.store import DuplicateBatchError, ProfileSetInfo, TraceStore

__all__ = [
    "DuplicateBatchError",
    "ProfileSetInfo",
    "TraceStore",
    "make_engine",
    "migrate",
    "session_factory",
]
