"""The `espeak` tool: speech from the espeak-ng binary (Debian's offline TTS), fitted to its
slot on the timeline.

The words come from a `say:` (or `text:`) line of the instruction when it has one (so a
refinement can rewrite them: fewer words, other words), else from the event's `text` field,
else from the instruction itself. espeak-ng speaks at a words-per-minute rate: the tool
speaks once at the default rate, then scales the rate so the speech fills the slot, and pads
a short result with trailing silence. Speech that stays too long at the fastest rate is kept
as it is, and the duration supervisor asks for fewer words."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np

from orchestrator.workflows.audio.clip import (
    SAMPLE_RATE,
    ClipError,
    finish_clip,
    load_wav,
    resample,
)
from orchestrator.workflows.audio.event import EventError, SoundEvent
from orchestrator.workflows.audio.loudness import Samples, SilentClipError
from orchestrator.workflows.tools import Tool, ToolError, WorkflowContext
from orchestrator.workflows.types import Artifact, SubTask

DEFAULT_WPM = 175  # espeak-ng's own default rate
MIN_WPM, MAX_WPM = 90, 370  # beyond these espeak-ng's speech is hard to follow
FIT_SLACK = 0.95  # aim a little under the slot: a pause of the mix is better than overlap
SPEED_ROUNDS = 3
SILENCE_DBFS = -50.0  # what trimming treats as the silence espeak-ng adds around speech
MAX_TEXT_CHARS = 2000

_SAY_LINE = re.compile(r"^\s*(?:say|text)\s*:\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def spoken_text(event: SoundEvent, instruction: str) -> str:
    """What to say: an instruction's `say:` line, else the event's text, else the instruction."""
    line = _SAY_LINE.search(instruction)
    if line:
        return line.group(1).strip().strip("\"'")
    return (event.text or instruction).strip()


def trim_silence(samples: Samples, rate: int) -> Samples:
    """Cut the silence espeak-ng leaves before and after the speech, keeping 20 ms of each."""
    loud = np.flatnonzero(np.abs(samples) > 10 ** (SILENCE_DBFS / 20))
    if loud.size == 0:
        return samples[:0]
    margin = int(0.02 * rate)
    return samples[max(0, loud[0] - margin) : loud[-1] + margin + 1]


class EspeakTool(Tool):
    name: ClassVar[str] = "espeak"
    handles: ClassVar[tuple[str, ...]] = ("speech",)

    def __init__(
        self,
        context: WorkflowContext | None = None,
        binary: str = "espeak-ng",
        voice: str = "en",
        timeout_s: float = 30.0,
    ) -> None:
        super().__init__(context)
        self.binary = binary
        self.voice = voice  # an event's own `voice` field wins
        self.timeout_s = timeout_s

    def generate(self, task: SubTask, instruction: str, out_dir: Path) -> Artifact:
        try:
            event = SoundEvent.from_task(task)
        except EventError as exc:
            raise ToolError(str(exc)) from exc
        text = spoken_text(event, instruction)
        if not text:
            raise ToolError(
                f"sub-task {task.id!r}: nothing to say (field 'text' is empty and the "
                "instruction has no words)"
            )
        if len(text) > MAX_TEXT_CHARS:
            raise ToolError(
                f"sub-task {task.id!r}: the text to say has {len(text)} characters, "
                f"over {MAX_TEXT_CHARS}"
            )
        voice = str(task.fields.get("voice") or self.voice)
        samples, wpm = self._fit_rate(text, voice, event.duration_s)
        slot = round(event.duration_s * SAMPLE_RATE)
        if samples.shape[0] < slot:
            samples = np.pad(samples, (0, slot - samples.shape[0]))
        meta = {"tool": self.name, "text": text, "voice": voice, "wpm": wpm}
        try:
            return finish_clip(samples, event.volume_lufs, out_dir, meta)
        except SilentClipError as exc:
            raise ToolError(f"sub-task {task.id!r}: espeak-ng spoke only silence") from exc

    def _fit_rate(self, text: str, voice: str, slot_s: float) -> tuple[Samples, int]:
        """Speak at the default rate, then rescale the rate toward the slot a few times
        (the length is not exactly inverse to the rate: pauses do not scale)."""
        target = slot_s * FIT_SLACK
        wpm = DEFAULT_WPM
        best = self.speak(text, voice, wpm)
        for _ in range(SPEED_ROUNDS):
            length = best.shape[0] / SAMPLE_RATE
            if target * 0.9 <= length <= target:
                break
            wanted = int(np.clip(round(wpm * length / target), MIN_WPM, MAX_WPM))
            if wanted == wpm:
                break
            wpm, best = wanted, self.speak(text, voice, wanted)
        return best, wpm

    def speak(self, text: str, voice: str, wpm: int) -> Samples:
        """One espeak-ng run: the speech at SAMPLE_RATE, silence trimmed."""
        executable = shutil.which(self.binary)
        if executable is None:
            raise ToolError(
                f"espeak-ng is not installed ({self.binary!r} is not on PATH): "
                "run scripts/setup or `apt-get install espeak-ng`"
            )
        with tempfile.TemporaryDirectory(prefix="espeak-") as folder:
            wav = Path(folder) / "speech.wav"
            command = [executable, "-v", voice, "-s", str(wpm), "-w", str(wav), "--stdin"]
            try:
                done = subprocess.run(
                    command,
                    input=text,
                    capture_output=True,
                    text=True,
                    timeout=self.timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ToolError(f"espeak-ng took over {self.timeout_s:.0f} s") from exc
            if done.returncode != 0:
                detail = done.stderr.strip() or done.stdout.strip() or "no message"
                raise ToolError(
                    f"espeak-ng failed (exit {done.returncode}, voice {voice!r}): {detail}"
                )
            try:
                samples, rate = load_wav(wav)
            except ClipError as exc:
                raise ToolError(f"espeak-ng wrote no readable audio: {exc}") from exc
        speech = trim_silence(samples, rate)
        if speech.size == 0:
            raise ToolError(f"espeak-ng produced no speech for {text[:60]!r} (voice {voice!r})")
        return resample(speech, rate, SAMPLE_RATE)
