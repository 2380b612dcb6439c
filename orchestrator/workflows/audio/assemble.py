"""`soundscape_mix`: the soundscape's last step. The kept clip of every event is placed at its
start and mixed into one WAV as long as the timeline; the timeline (each event with the clip
it kept, its scores and whether it passed) is written as JSON; the waveform is drawn with the
events on it (PNG). An event whose every try failed has no clip: it is left out of the mix,
and the timeline says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from orchestrator.workflows.assemblers import Assembler
from orchestrator.workflows.audio.event import SoundEvent
from orchestrator.workflows.audio.mix import mix_timeline
from orchestrator.workflows.audio.waveform import waveform_png
from orchestrator.workflows.types import Attempt, SubTask

MIX, TIMELINE, PLOT = "soundscape.wav", "timeline.json", "waveform.png"


class SoundscapeMix(Assembler):
    name = "soundscape_mix"

    def assemble(
        self,
        input_text: str,
        tasks: list[SubTask],
        accepted: dict[str, Attempt],
        artifacts_dir: Path,
    ) -> dict[str, Any]:
        events = [SoundEvent.from_task(t) for t in tasks]
        duration = max(e.end for e in events)
        clips = []
        for event in events:
            kept = accepted[event.task_id].artifact
            if kept is not None:
                clips.append((event.start, artifacts_dir / kept.path))
        report = mix_timeline(clips, duration, artifacts_dir / MIX)
        timeline = {
            "scene": input_text,
            "duration_s": report.duration_s,
            "mix_gain_db": report.gain_db,
            "events": [
                {
                    **t.model_dump(mode="json"),
                    "clip": a.artifact.path if a.artifact else None,
                    "candidate": a.candidate,
                    "try": a.number,
                    "scores": {s.dimension: s.value for s in a.scores},
                    "error": a.error,
                }
                for t in tasks
                for a in [accepted[t.id]]
            ],
        }
        (artifacts_dir / TIMELINE).write_text(json.dumps(timeline, indent=1) + "\n")
        waveform_png(artifacts_dir / MIX, tasks, artifacts_dir / PLOT)
        left_out = [t.id for t in tasks if accepted[t.id].artifact is None]
        return {
            "files": [MIX, TIMELINE, PLOT],
            "duration_s": report.duration_s,
            "events": len(tasks),
            "left_out": left_out,
        }
