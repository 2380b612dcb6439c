"""Stores: one store per noun, all over one sessionmaker (one database)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from orchestrator.db.documents import DocumentStore
from orchestrator.db.eval_runs import EvalRunStore
from orchestrator.db.experts import ExpertStore
from orchestrator.db.gate_artifacts import GateArtifactStore
from orchestrator.db.jobs import JobStore
from orchestrator.db.keys import KeyStore
from orchestrator.db.profile_sets import ProfileSetStore
from orchestrator.db.traces import TraceStore
from orchestrator.db.workflows import WorkflowStore


class Stores:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.traces = TraceStore(sessions)
        self.profile_sets = ProfileSetStore(sessions)
        self.experts = ExpertStore(sessions)
        self.eval_runs = EvalRunStore(sessions)
        self.jobs = JobStore(sessions)
        self.keys = KeyStore(sessions)
        self.documents = DocumentStore(sessions)
        self.gate_artifacts = GateArtifactStore(sessions)
        self.workflows = WorkflowStore(sessions)
