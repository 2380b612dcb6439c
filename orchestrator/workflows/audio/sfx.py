"""The `numpy_sfx` tool: a sound effect synthesised in numpy from the words of the event's
description and the instruction. Every recipe whose keywords appear is layered ("rain and
thunder" gives both); none gives a generic ambience. Deterministic per task and instruction."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from orchestrator.workflows.audio import sfx_recipes as recipes
from orchestrator.workflows.audio.clip import SAMPLE_RATE, finish_clip
from orchestrator.workflows.audio.event import EventError, SoundEvent
from orchestrator.workflows.audio.loudness import Samples, SilentClipError
from orchestrator.workflows.audio.synthesis import fade_edges, seeded_rng, unit_rms
from orchestrator.workflows.tools import Tool, ToolError
from orchestrator.workflows.types import Artifact, SubTask

Recipe = Callable[[int, np.random.Generator, set[str]], Samples]

# Word starts (so "footsteps" and "raindrops" match); short ambiguous words are whole words.
RECIPES: tuple[tuple[str, Recipe], ...] = (
    (r"\b(rain|drizzl|downpour|storm)", recipes.rain),
    (r"\b(wind|gust|breez|gale|blizzard)", recipes.wind),
    (r"\b(footstep|steps?\b|walk|running\b|stomp)", recipes.footsteps),
    (r"\b(door|knock|slam)", recipes.door),
    (r"\b(bells?\b|chime|ding\b|church)", recipes.bell),
    (r"\b(bird|chirp|tweet|songbird)", recipes.birds),
    (r"\b(thunder|lightning|storm)", recipes.thunder),
    (r"\b(crowd|chatter|people|murmur|audience|market|cafe|restaurant)", recipes.crowd),
    (r"\b(water|stream|river|brook|waves?\b|ocean|sea\b|surf|shore|beach)", recipes.water),
    (r"\b(fire|flame|crackl|campfire|burning)", recipes.fire),
    (r"\b(engine|cars?\b|traffic|motor|machine|truck)", recipes.engine),
)


def choose_recipes(text: str) -> list[Recipe]:
    """The recipes whose keywords appear in `text` (in table order), else the ambience."""
    lowered = text.lower()
    chosen = [recipe for pattern, recipe in RECIPES if re.search(pattern, lowered)]
    return chosen or [recipes.ambience]


class NumpySfxTool(Tool):
    name: ClassVar[str] = "numpy_sfx"
    handles: ClassVar[tuple[str, ...]] = ("sfx",)

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        try:
            event = SoundEvent.from_task(task)
        except EventError as exc:
            raise ToolError(str(exc)) from exc
        text = f"{event.description} {instruction}"
        words = set(re.findall(r"[a-z]+", text.lower()))
        rng = seeded_rng(task.id, instruction)
        n = round(event.duration_s * SAMPLE_RATE)
        chosen = choose_recipes(text)
        layers = [unit_rms(recipe(n, rng, words)) for recipe in chosen]
        samples = fade_edges(np.sum(layers, axis=0))
        meta = {"tool": self.name, "recipes": [r.__name__ for r in chosen]}
        try:
            return finish_clip(samples, event.volume_lufs, out_dir, meta)
        except SilentClipError as exc:
            raise ToolError(f"sub-task {task.id!r}: {exc}") from exc
