"""`rainy`: a soundscape-style workflow for end-to-end tests of `symoe workflow` processes:
a scripted planner (its plan given), the real numpy tools, measuring supervisors and mix."""

from __future__ import annotations

import json
from pathlib import Path

WORKFLOW = """
name: rainy
roles:
  planner: {expert: planner, prompt: "Plan: {input}", asks: 1}
subtasks:
  items: events
  schema:
    type: object
    properties:
      events:
        type: array
        items:
          type: object
          required: [type, start, end, description, volume]
          properties:
            type: {type: string, enum: [sfx]}
            start: {type: number}
            end: {type: number}
            description: {type: string}
            volume: {type: number}
  types:
    sfx: {candidates: [numpy_sfx], supervisors: [duration, loudness, signal]}
thresholds: {duration: 0.7, loudness: 0.7, clipping: 0.7, silence: 0.7}
parallel: 1
assembler: soundscape_mix
steps:
  - {name: plan, kind: plan}
  - {name: generate, kind: tasks, after: [plan]}
  - {name: mix, kind: assemble, after: [generate]}
"""


def rainy_plan(events: int, seconds: int = 2, description: str = "rain on a roof") -> str:
    """The planner's answer: `events` rain events, one a second, each `seconds` long."""
    planned = [
        {"type": "sfx", "start": n, "end": n + seconds, "description": description, "volume": -25}
        for n in range(events)
    ]
    return json.dumps({"events": planned})


def planner_experts(path: Path, plan: str) -> Path:
    """An experts file whose one expert, `planner`, answers any `Plan:` prompt with `plan`."""
    options = {"responses": {"Plan:": plan}, "features": ["json_schema"]}
    path.write_text(
        "experts:\n"
        f"  - {{name: planner, backend: scripted, model: p, options: {json.dumps(options)}}}\n"
    )
    return path
