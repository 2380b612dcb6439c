"""What an evaluation run is: the config that identifies it (and guards resumption)."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, Field, field_validator

from orchestrator.errors import InputError

METHOD_NAMES = (
    "symoe",
    "best-single",
    "random-k",
    "top-k",
    "all-vote",
    "self-consistency",
    "oracle",
)


class EvalConfig(BaseModel):
    benchmark: str
    split: str
    methods: list[str] = Field(min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0])
    limit: int | None = None
    k: int = Field(default=3, ge=1, le=32)
    experts_file: str
    profile_split: str | None = Field(default="train", description="validation split for profiles")
    profile_file: str | None = None
    tagger: str = "embedding"
    aggregation: str = "vote"
    dynamic_k: float | None = None
    min_share: float | None = None
    max_tokens: int | None = None

    @field_validator("methods")
    @classmethod
    def _known_methods(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in METHOD_NAMES:
                raise InputError(f"unknown method {name!r} (known: {', '.join(METHOD_NAMES)})")
        return value

    def key(self) -> str:
        return hashlib.sha1(json.dumps(self.model_dump(), sort_keys=True).encode()).hexdigest()[:12]
