"""A soundscape timeline event, read from the planner's sub-task and checked once, so tools
and supervisors share one reading of start, end, volume and text."""

from __future__ import annotations

import math
from dataclasses import dataclass

from orchestrator.workflows.types import SubTask

EVENT_TYPES = ("speech", "sfx", "music")
MAX_EVENT_S = 600.0  # one clip is held in memory whole; a longer event is a planning error
MIN_VOLUME_LUFS = -70.0  # BS.1770's absolute gate: anything quieter measures as silence


class EventError(ValueError):
    """A sub-task whose fields do not describe a playable event; the message names the field."""


@dataclass(frozen=True)
class SoundEvent:
    task_id: str
    type: str
    start: float
    end: float
    volume_lufs: float
    description: str
    text: str

    @property
    def duration_s(self) -> float:
        return self.end - self.start

    @classmethod
    def from_task(cls, task: SubTask) -> SoundEvent:
        if task.type not in EVENT_TYPES:
            raise EventError(
                f"sub-task {task.id!r}: type {task.type!r} is not one of {', '.join(EVENT_TYPES)}"
            )
        start = _number(task, "start")
        end = _number(task, "end")
        volume = _number(task, "volume")
        if start < 0:
            raise EventError(f"sub-task {task.id!r}: field 'start' is negative ({start})")
        if end <= start:
            raise EventError(
                f"sub-task {task.id!r}: field 'end' ({end}) must be after 'start' ({start})"
            )
        if end - start > MAX_EVENT_S:
            raise EventError(
                f"sub-task {task.id!r}: fields 'start'..'end' span {end - start:.1f} s, "
                f"over the {MAX_EVENT_S:.0f} s an event may last"
            )
        if not MIN_VOLUME_LUFS < volume < 0:
            raise EventError(
                f"sub-task {task.id!r}: field 'volume' is {volume} LUFS; "
                f"expected a loudness between {MIN_VOLUME_LUFS:.0f} and 0 (e.g. -23)"
            )
        text = task.fields.get("text", "")
        if not isinstance(text, str):
            raise EventError(f"sub-task {task.id!r}: field 'text' must be a string")
        return cls(task.id, task.type, start, end, volume, task.description(), text)


def _number(task: SubTask, field: str) -> float:
    value = task.fields.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise EventError(f"sub-task {task.id!r}: field {field!r} must be a number (got {value!r})")
    return float(value)
