"""What /readyz checks: the database answers, and the runner can reach what it depends on
(a broker) and load an enabled expert where the models run."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from orchestrator.experts import ExpertRegistry
from orchestrator.runners import Runner


class HealthService:
    def __init__(
        self, sessions: sessionmaker[Session], registry: ExpertRegistry, runner: Runner
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.runner = runner

    def checks(self) -> dict[str, str]:
        """ "ok" or "failed: ..." per dependency."""
        checks: dict[str, str] = {}
        try:
            with self.sessions() as session:
                session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"failed: {type(exc).__name__}: {exc}"
        checks.update(self.runner.check([e.spec() for e in self.registry.all() if e.enabled]))
        return checks
