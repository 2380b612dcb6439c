"""Builds the long-lived objects of one deployment from Settings (no I/O at import)."""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path

from orchestrator.aggregators import AggregatorPolicy, all_aggregators
from orchestrator.answering import AnsweringService, ObserveBatch, SaveBatch
from orchestrator.db.engine import make_engine, migrate, session_factory
from orchestrator.db.stores import Stores
from orchestrator.errors import ConfigError
from orchestrator.execution import PlanExecutor
from orchestrator.experts import ExpertRegistry, load_experts
from orchestrator.options import RequestedOptions, batch_options
from orchestrator.planner import Planner
from orchestrator.recruiters import RECRUITERS, Recruiter, RecruiterOptions
from orchestrator.retrieval import GATES, GateContext, RetrievalGate
from orchestrator.retrieval.artifacts import GateArtifact
from orchestrator.retrieval.chunking import Chunker
from orchestrator.retrieval.ingest import Ingester
from orchestrator.retrieval.probe import SearchProbe
from orchestrator.retrieval.retrievers import (
    RETRIEVERS,
    HybridRetriever,
    Retriever,
    RetrieverOptions,
)
from orchestrator.runners import RUNNERS, MicroBatchingRunner, Runner
from orchestrator.settings import Settings
from orchestrator.stages import StageExecutor
from orchestrator.taggers import TAGGERS, Tagger, TaggerOptions
from orchestrator.workflows.service import WorkflowService
from skills.embedding_batcher import BatchingEmbedder
from skills.embedding_cache import CachedEmbedder
from skills.embeddings import MiniLMEmbedder
from skills.profiles import ProfileSet
from skills.vocabulary import SkillVocabulary, load_default_skills

log = logging.getLogger(__name__)


class Deployment:
    """Lazily built components; each is created once and shared (a service object)."""

    def __init__(self, settings: Settings, registry: ExpertRegistry | None = None) -> None:
        RUNNERS.check(settings.runner)  # an unknown SYMOE_RUNNER fails before anything is built
        self.settings = settings
        self._registry = registry

    @cached_property
    def registry(self) -> ExpertRegistry:
        return self._registry or load_experts(self.settings.experts_file)

    @cached_property
    def stores(self) -> Stores:
        engine = make_engine(
            self.settings.db_url, sqlite_synchronous=self.settings.sqlite_synchronous
        )
        migrate(engine)
        stores = Stores(session_factory(engine))
        stores.experts.sync_experts(self.registry.all())
        return stores

    @cached_property
    def profile(self) -> ProfileSet | None:
        """The active profile set in the database, else the configured file, else none."""
        active = self.stores.profile_sets.active_profile_set()
        if active is not None:
            return active
        path = self.settings.profile_file
        if path is not None and path.exists():
            try:
                return ProfileSet.load(path)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        return None

    def forget_profile(self) -> None:
        """The next read of `profile` loads the active set again (after an activation)."""
        self.__dict__.pop("profile", None)

    @cached_property
    def minilm(self) -> MiniLMEmbedder:
        """The bundled all-MiniLM-L6-v2: one model for everything that embeds (it loads its
        weights on first use)."""
        return MiniLMEmbedder()

    @cached_property
    def embedder(self) -> BatchingEmbedder:
        """The model with its vectors cached on disk: skills and queries, read again and again.
        Concurrent requests' texts are embedded together, recent ones answered from memory."""
        return BatchingEmbedder(CachedEmbedder(self.minilm, self.settings.cache_dir))

    def ingester(self, text_field: str = "text", id_field: str | None = None) -> Ingester:
        """Reads, chunks and embeds into the document store; chunks are embedded without
        the on-disk cache (each is embedded once, then stored)."""
        s = self.settings
        chunker = Chunker(s.chunk_tokens, s.chunk_overlap)
        return Ingester(self.stores.documents, self.minilm, chunker, text_field, id_field)

    def make_retriever(self, name: str | None = None) -> Retriever:
        """A retriever by name (default: `settings.retriever`) over the document store."""
        s = self.settings
        options = RetrieverOptions(
            bm25_weight=s.bm25_weight,
            dense_weight=s.dense_weight,
            langchain_factory=s.langchain_retriever,
        )
        return RETRIEVERS.create(name or s.retriever, self.stores.documents, self.embedder, options)

    @cached_property
    def retriever(self) -> Retriever:
        """The deployment's retriever; its index follows the store (built on first use)."""
        return self.make_retriever()

    @cached_property
    def vocabulary(self) -> SkillVocabulary:
        return SkillVocabulary(
            load_default_skills(),
            self.embedder,
            floor=self.settings.skill_floor,
            cache_dir=self.settings.cache_dir,
        )

    def make_runner(self, microbatch: bool = False) -> Runner:
        """A runner by `settings.runner`. In process it has its own model pool (evaluation
        counts each method's loads apart); distributed, the workers hold the pools.
        `microbatch` (online serving, many concurrent callers) merges their groups for the
        same expert, continuously (`microbatch_window_ms` is the longest wait under load);
        batch jobs group already and skip it."""
        runner = self._base_runner()
        window_s = self.settings.microbatch_window_ms / 1000
        if microbatch and window_s > 0:
            return MicroBatchingRunner(runner, window_s=window_s)
        return runner

    def _base_runner(self) -> Runner:
        return RUNNERS.create(self.settings.runner, self.settings)

    @cached_property
    def runner(self) -> Runner:
        return self.make_runner()

    def new_stages(self, runner: Runner | None = None) -> StageExecutor:
        return StageExecutor(runner or self.runner, self.registry)

    def tagger(self, name: str | None = None) -> Tagger:
        factory = TAGGERS.get(name or self.settings.tagger)  # an unknown name fails first
        role = self.registry.with_role("tagger")
        options = TaggerOptions(
            skills_per_query=self.settings.skills_per_query,
            samples=self.settings.tagger_samples,
            expert=role[0].name if role else None,
        )
        return factory(self.vocabulary, options)

    def recruiter(self, profile: ProfileSet | None = None) -> Recruiter:
        s = self.settings
        options = RecruiterOptions(dynamic_k=s.dynamic_k, min_share=s.min_share)
        return RECRUITERS.create(s.recruiter, profile, s.seed, options)

    def aggregators(self) -> dict[str, AggregatorPolicy]:
        return all_aggregators()

    @cached_property
    def search_probe(self) -> SearchProbe:
        """BM25 and dense rankings side by side for `expert_rag`: the parts of the hybrid
        retriever when that is the deployment's (one index each), else their own."""

        def rankers() -> tuple[Retriever, Retriever]:
            if isinstance(self.retriever, HybridRetriever):
                return self.retriever.bm25, self.retriever.dense
            return self.make_retriever("bm25"), self.make_retriever("dense")

        return SearchProbe(rankers)

    def gate_context(
        self, profile: ProfileSet | None = None, artifact: GateArtifact | None = None
    ) -> GateContext:
        """What gates are built from; a fitted gate reads its active artifact from the
        database (only then: `never` and `always` open no database and search nothing)."""
        return GateContext(
            profile=profile,
            embedder=self.embedder,
            artifacts=lambda gate: self.stores.gate_artifacts.active(gate),
            artifact=artifact,
            probe=self.search_probe,
        )

    def gate(self, profile: ProfileSet | None = None) -> RetrievalGate:
        """The configured gate."""
        return GATES.create(self.settings.retrieval_gate, self.gate_context(profile))

    def planner(self, tagger: str | None = None) -> Planner:
        """A planner over the active profile set."""
        profile = self.profile
        return Planner(
            registry=self.registry,
            tagger=self.tagger(tagger),
            gate=self.gate(profile),
            recruiter=self.recruiter(profile),
            aggregators=self.aggregators(),
            profile=profile,
            search=self.retriever.search,
            passages=self.settings.retrieval_passages,
        )

    def plan_executor(self, runner: Runner | None = None) -> PlanExecutor:
        """Execution on `runner` (default: the deployment's own)."""
        return PlanExecutor(self.registry, self.aggregators(), lambda: self.new_stages(runner))

    def answering(
        self,
        tagger: str | None = None,
        runner: Runner | None = None,
        observe: ObserveBatch | None = None,
        save: SaveBatch | None = None,
    ) -> AnsweringService:
        """The answering service that stores every batch it answers in the database (by
        `save`; default: one transaction per batch, from the caller's thread)."""
        return AnsweringService(
            self.planner(tagger),
            self.plan_executor(runner),
            save or self.stores.traces.save_batch,
            observe,
        )

    @property
    def workflow_runs_dir(self) -> Path:
        """Each workflow run's folder (its artifacts) lies under this one."""
        return self.settings.data_dir / "workflows"

    def workflows(
        self, runner: Runner | None = None, subtask_runner: str | None = None
    ) -> WorkflowService:
        """Workflow runs over this deployment's experts; run folders under data_dir; the
        workflow files are the built-in ones and SYMOE_WORKFLOWS_DIR's; sub-tasks where
        `subtask_runner` (default SYMOE_WORKFLOW_RUNNER) says: in process or on Celery."""
        options = batch_options(self.settings, RequestedOptions())
        subtasks = None
        if (subtask_runner or self.settings.workflow_runner) == "celery":
            from orchestrator.workflows.celery_subtasks import CelerySubtasks

            subtasks = CelerySubtasks.from_settings(self.settings)
        return WorkflowService(
            self.stores.workflows,
            self.workflow_runs_dir,
            self.answering(runner=runner),
            self.registry,
            options,
            extra_dir=self.settings.workflows_dir,
            subtasks=subtasks,
        )

    def close(self) -> None:
        if "runner" in self.__dict__:
            self.runner.close()
