"""A fitted retrieval gate's artifact: what `symoe gate fit` stores (versioned, like profile
sets, by orchestrator/db/gate_artifacts.py) and a fitted gate loads. Here, not in db/, so the
gates and the store both import it without a cycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from orchestrator.errors import ConfigError

# The bundled embedder (skills/embeddings.py MiniLMEmbedder) and its vector size: an artifact
# embedded with anything else cannot be compared with the queries the gate embeds.
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384

# Whether retrieval helped the LLM on a question (SKR's and FlashRAG's labels).
Judgement = Literal["same", "ir_better", "ir_worse"]
JUDGEMENTS: tuple[Judgement, ...] = ("same", "ir_better", "ir_worse")


def _float32_matrix(value: Any) -> npt.NDArray[np.float32]:
    matrix = np.asarray(value, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"embeddings must be a matrix, got shape {matrix.shape}")
    return matrix


Float32Matrix = Annotated[
    npt.NDArray[np.float32],
    BeforeValidator(_float32_matrix),
    PlainSerializer(lambda m: m.tolist(), return_type=list[list[float]]),
]


class LabelledSplit(BaseModel):
    """Which labelled questions were fitted on and which were held out for `symoe gate eval`:
    indices into the labels file, which is checked by its SHA-256 when read again."""

    source: str = Field(description="the labels file the gate was fitted from")
    sha256: str
    description: str = ""
    seed: int
    test_fraction: float = Field(ge=0.0, lt=1.0)
    train: list[int]
    test: list[int]


class LogisticModel(BaseModel):
    """A fitted logistic model over named features: p = sigmoid(coef . (x - mean) / scale +
    intercept), and the gate retrieves when p >= threshold."""

    features: list[str]
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    c: float = Field(gt=0.0, description="inverse L2 strength, chosen by cross-validation")
    c_scores: dict[str, float] = Field(
        default_factory=dict, description="cross-validated score per candidate c (train only)"
    )
    objective: str = Field(default="", description="what c (and the threshold) were chosen by")

    @model_validator(mode="after")
    def _lengths_agree(self) -> LogisticModel:
        n = len(self.features)
        if not len(self.mean) == len(self.scale) == len(self.coef) == n:
            raise ValueError(f"{n} features but other lengths differ")
        return self

    def standardise(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        result: npt.NDArray[np.float64] = (x - np.array(self.mean)) / np.array(self.scale)
        return result

    def contributions(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each feature's term of the log-odds, per row (what a decision's reasons name)."""
        result: npt.NDArray[np.float64] = self.standardise(x) * np.array(self.coef)
        return result

    def probability(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        logits = self.contributions(x).sum(axis=1) + self.intercept
        result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-logits))
        return result


class GateArtifact(BaseModel):
    """A fitted gate: its labelled examples' embeddings and labels, and how they were chosen
    (`skr_knn` votes with them; `expert_rag` also holds its logistic model)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    gate: str
    version: int = 0  # given by the store when saved
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    embedding_model: str = EMBEDDING_MODEL
    dim: int = EMBEDDING_DIM
    k: int = Field(ge=1)
    k_scores: dict[int, float] = Field(
        default_factory=dict, description="cross-validated accuracy per candidate k (train only)"
    )
    embeddings: Float32Matrix
    labels: list[Judgement]
    questions: list[str] = Field(default_factory=list, description="the labelled questions")
    split: LabelledSplit
    command: str = ""
    logistic: LogisticModel | None = None

    @model_validator(mode="after")
    def _shapes_agree(self) -> GateArtifact:
        rows, cols = self.embeddings.shape
        if rows != len(self.labels):
            raise ValueError(f"{rows} embeddings for {len(self.labels)} labels")
        if cols != self.dim:
            raise ValueError(f"embeddings have {cols} dimensions, the artifact says {self.dim}")
        if self.questions and len(self.questions) != rows:
            raise ValueError(f"{len(self.questions)} questions for {rows} embeddings")
        return self

    def check_embedding(self, model: str = EMBEDDING_MODEL, dim: int = EMBEDDING_DIM) -> None:
        """Refuses an artifact whose examples another embedding model produced."""
        if self.embedding_model != model or self.dim != dim:
            raise ConfigError(
                f"gate artifact {self.gate}@v{self.version} was fitted with "
                f"{self.embedding_model} ({self.dim} dimensions); this deployment embeds with "
                f"{model} ({dim}): refit it with `symoe gate fit --gate {self.gate}`"
            )


# Looks up the active artifact of a gate by its name (None: never fitted).
ArtifactLookup = Callable[[str], GateArtifact | None]
