"""Experts: declared in experts.yaml, validated at the boundary, turned into ModelSpecs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from orchestrator.answers import NEXT_ITEM_STOPS
from orchestrator.errors import ConfigError, UnknownExpertError
from workers.backends import BACKENDS
from workers.types import BackendError, ChatFormat, GenerationParams, ModelSpec

Role = Literal["expert", "aggregator", "tagger"]


class Expert(BaseModel):
    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    backend: str
    model: str
    chat_format: ChatFormat = "chat"
    n_ctx: int = Field(default=2048, ge=64, le=2**31 - 1)
    memory_mb: int = Field(default=512, ge=0, le=2**31 - 1)
    roles: list[Role] = Field(default_factory=lambda: list[Role](["expert"]))
    enabled: bool = True
    generation: GenerationParams = Field(default_factory=GenerationParams)
    options: dict[str, object] = Field(default_factory=dict)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        try:
            return BACKENDS.check(value)
        except BackendError as exc:  # pydantic reports a ValueError as the field's error
            raise ValueError(str(exc)) from None

    def generation_params(self, max_tokens: int | None = None) -> GenerationParams:
        """The declared generation params, `max_tokens` (when given) as the budget. A
        completion-format (base) model also stops where a next few-shot item begins: left
        alone it invents the next question and answers that too."""
        update: dict[str, object] = {}
        if max_tokens:
            update["max_tokens"] = max_tokens
        if self.chat_format == "completion":
            declared = self.generation.stop
            update["stop"] = [*declared, *(s for s in NEXT_ITEM_STOPS if s not in declared)]
        return self.generation.model_copy(update=update) if update else self.generation

    def spec(self) -> ModelSpec:
        """The data-plane view of this expert. It names the model and carries no path of
        this host: the worker that runs it resolves files from its own settings."""
        return ModelSpec(
            name=self.name,
            backend=self.backend,
            model=self.model,
            chat_format=self.chat_format,
            n_ctx=self.n_ctx,
            memory_mb=self.memory_mb,
            options=dict(self.options),
        )


class ExpertsFile(BaseModel):
    model_config = {"extra": "forbid"}

    experts: list[Expert] = Field(min_length=1)


class ExpertRegistry:
    """The experts of one deployment, by name. It is shared by concurrent requests: `put`
    swaps in a new dict (copy on write, under a lock), so readers never see a half-made
    change and Expert objects are never edited in place."""

    def __init__(self, experts: list[Expert]) -> None:
        names = [e.name for e in experts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ConfigError(f"duplicate expert names: {', '.join(dupes)}")
        self._experts = {e.name: e for e in experts}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._experts)

    def all(self) -> list[Expert]:
        return list(self._experts.values())

    def get(self, name: str) -> Expert:
        try:
            return self._experts[name]
        except KeyError:
            known = ", ".join(self._experts)
            raise UnknownExpertError(f"unknown expert {name!r} (known: {known})") from None

    def with_role(self, role: Role) -> list[Expert]:
        return [e for e in self._experts.values() if e.enabled and role in e.roles]

    def select(self, names: list[str]) -> list[Expert]:
        return [self.get(n) for n in names]

    def put(self, expert: Expert, *, new: bool) -> None:
        """Add a `new` expert (ConfigError if its name is taken) or replace a known one
        (UnknownExpertError if there is none)."""
        with self._lock:
            if new and expert.name in self._experts:
                raise ConfigError(f"expert {expert.name!r} already exists")
            if not new:
                self.get(expert.name)
            self._experts = {**self._experts, expert.name: expert}


def load_experts(path: Path) -> ExpertRegistry:
    """Parse and validate an experts.yaml; every problem becomes one ConfigError line."""
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"experts file not found: {path}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"malformed experts file {path}{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"malformed experts file {path}: expected a mapping with 'experts:'")
    try:
        parsed = ExpertsFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid experts file {path}: {loc}: {first['msg']}") from None
    return ExpertRegistry(parsed.experts)
