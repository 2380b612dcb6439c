"""Persistence: SQLAlchemy models, engines and migrations, and one store per noun (traces,
profile sets, experts, eval runs, jobs, API keys, documents, gate artifacts), bundled over one
database by Stores."""

from orchestrator.db.documents import DocumentInfo, DocumentStore
from orchestrator.db.engine import make_engine, migrate, session_factory
from orchestrator.db.eval_runs import EvalRunInfo, EvalRunStore
from orchestrator.db.experts import DuplicateExpertError, ExpertStore
from orchestrator.db.gate_artifacts import GateArtifactInfo, GateArtifactStore
from orchestrator.db.jobs import JobStore
from orchestrator.db.keys import KeyStore
from orchestrator.db.profile_sets import ProfileSetInfo, ProfileSetStore
from orchestrator.db.stores import Stores
from orchestrator.db.traces import DuplicateBatchError, TraceStore

__all__ = [
    "DocumentInfo",
    "DocumentStore",
    "DuplicateBatchError",
    "DuplicateExpertError",
    "EvalRunInfo",
    "EvalRunStore",
    "ExpertStore",
    "GateArtifactInfo",
    "GateArtifactStore",
    "JobStore",
    "KeyStore",
    "ProfileSetInfo",
    "ProfileSetStore",
    "Stores",
    "TraceStore",
    "make_engine",
    "migrate",
    "session_factory",
]
