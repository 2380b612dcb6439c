"""Replay backend: serve a real model's recorded answer instead of running the model.

This lets recruiting, aggregation and evaluation be measured against real model behaviour on
a CPU. `spec.model` names the recorded model (e.g. "gemini-1.5-flash-002"). The recordings
(`model_outputs_<MODEL>_<N>shots.zip` files) are read from the worker's `replay_dir` and
compact index files that make later loads faster are kept in its `cache_dir` (WorkerSettings).
`spec.options`:

- `on_missing`: "error" (default) raises BackendError for a question the model never answered;
  "empty" returns an empty completion, so one miss counts as a wrong answer instead of failing
  the whole group;
- `replay_dir`, `cache_dir`: an expert's own folders, in place of the worker's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from workers.backends.base import LLMBackend
from workers.backends.replay_index import ModelRecording, Recording, normalise_question
from workers.backends.replay_store import ReplayStore
from workers.settings import WorkerSettings
from workers.types import BackendError, Completion, GenerationParams, ModelSpec, Prompt

OnMissing = Literal["error", "empty"]
_ON_MISSING: tuple[OnMissing, ...] = ("error", "empty")


class ReplayBackend(LLMBackend):
    """Answers from recordings, cut at the request's stop strings as a live model would have
    stopped there (a recorded base model often runs on into an invented next question). The
    other generation params are ignored: the recorded run fixed them, and cutting a recorded
    chain of thought at `max_tokens` would only drop its final answer."""

    def __init__(self, spec: ModelSpec, settings: WorkerSettings | None = None) -> None:
        super().__init__(spec, settings)
        self._recording: ModelRecording | None = None
        on_missing = spec.options.get("on_missing", "error")
        if on_missing not in _ON_MISSING:
            raise BackendError(
                f"replay: on_missing must be one of {', '.join(_ON_MISSING)}, not {on_missing!r}"
            )
        self.on_missing: OnMissing = on_missing

    def load(self) -> None:
        options = self.spec.options
        replay_dir = options.get("replay_dir") or self.settings.replay_dir
        cache_dir = options.get("cache_dir") or self.settings.cache_dir
        store = ReplayStore(Path(str(replay_dir)), Path(str(cache_dir)))
        self._recording = store.recording(self.spec.model)

    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        """Token counts are approximations: prompt tokens are the words of the question and
        completion tokens the words of the recorded text; `seconds` is 0 (nothing is run)."""
        if self._recording is None:
            raise BackendError(f"{self.spec.name}: generate() before load()")
        out = []
        for prompt in prompts:
            question = _question_text(prompt)
            rec = _find(self._recording, prompt, question)
            prompt_tokens = len(question.split())
            if rec is None:
                if self.on_missing == "error":
                    raise BackendError(
                        f"replay: model {self.spec.model!r} has no recording of question "
                        f"{_snippet(question)!r} (id {prompt.question_id})"
                    )
                out.append(Completion(text="", prompt_tokens=prompt_tokens))
                continue
            text = _cut_at_stop(rec.generated_text, params.stop)
            out.append(
                Completion(
                    text=text,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(text.split()),
                )
            )
        return out

    def unload(self) -> None:
        # The parsed recording stays in the store's process cache, so a reload is instant.
        self._recording = None


def _question_text(prompt: Prompt) -> str:
    if prompt.question is not None:
        return prompt.question
    users = [m.content for m in prompt.messages if m.role == "user"]
    return users[-1] if users else ""


def _find(recording: ModelRecording, prompt: Prompt, question: str) -> Recording | None:
    if prompt.question_id is not None:
        rec = recording.by_id(prompt.question_id)
        # An id from another numbering could hit an unrelated record: when the prompt also
        # carries the question, trust the id only if the texts agree.
        if rec is not None and (
            prompt.question is None
            or normalise_question(rec.question) == normalise_question(prompt.question)
        ):
            return rec
    return recording.by_question(question) if question else None


def _cut_at_stop(text: str, stop: list[str]) -> str:
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(cuts)] if cuts else text


def _snippet(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
