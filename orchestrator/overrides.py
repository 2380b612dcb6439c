"""Generation settings a request sets for the model calls of its queries, beyond the
/v1/answers options (the chat completion fields top_p, the penalties and response_format)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Stage = Literal["experts", "aggregate"]


class CallOverrides(BaseModel):
    """None leaves an expert's own setting. `top_p` is sampling, so it shapes the expert
    calls only, as BatchOptions.temperature does (the aggregator synthesises at its own
    settings); the penalties and the JSON schema shape the text the client reads, so they
    apply to every call, the aggregator's included."""

    model_config = ConfigDict(extra="forbid")

    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    presence_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    json_schema: dict[str, Any] | None = Field(
        default=None, description="every answer is JSON matching this schema"
    )

    def update(self, stage: Stage) -> dict[str, object]:
        """The GenerationParams fields to replace for a call of `stage`."""
        every = ("presence_penalty", "frequency_penalty", "json_schema")
        names = (*every, "top_p") if stage == "experts" else every
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}
