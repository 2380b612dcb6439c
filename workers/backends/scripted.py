"""Deterministic backend for unit tests of orchestration logic. Never the proof of a feature."""

from __future__ import annotations

import time

from workers.backends.base import LLMBackend
from workers.backends.formatting import render_completion
from workers.types import (
    BackendError,
    BackendFeature,
    Completion,
    GenerationParams,
    ModelSpec,
    Prompt,
    TextSink,
)


class ScriptedBackend(LLMBackend):
    """Answers from `options.responses` (substring of the last message -> reply), else
    `options.default` (which may use {name}). `options.fail_load` simulates a broken model;
    `options.delay_s` makes each generate call slow (to interrupt a run in tests), and
    `options.load_delay_s` each load (to see loads overlap generation). `options.echo`
    answers with what the model was given instead: "prompt" (a chat model's messages as
    "role: content" lines, a base model's rendered text) or "params" (the generation params
    as JSON). `options.features` lists the
    optional features it claims (it honours none: the orchestration around them is tested)."""

    loaded = False

    @classmethod
    def features(cls, spec: ModelSpec) -> frozenset[BackendFeature]:
        claimed = spec.options.get("features", [])
        assert isinstance(claimed, list)
        return frozenset(claimed)

    def load(self) -> None:
        if self.spec.options.get("fail_load"):
            raise BackendError(f"model {self.spec.model!r} for expert {self.spec.name!r} failed")
        _sleep(self.spec.options.get("load_delay_s", 0))
        self.loaded = True

    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        if not self.loaded:
            raise BackendError(f"{self.spec.name}: generate() before load()")
        _sleep(self.spec.options.get("delay_s", 0))
        responses = self.spec.options.get("responses", {})
        assert isinstance(responses, dict)
        default = str(self.spec.options.get("default", "The answer is (A)."))
        out = []
        echo = self.spec.options.get("echo")
        for prompt in prompts:
            last = prompt.messages[-1].content
            text = next((r for key, r in responses.items() if key in last), None)
            if text is None:
                text = default.format(name=self.spec.name)
            if echo == "prompt" and self.spec.chat_format == "completion":
                text = render_completion(prompt)
            elif echo == "prompt":
                text = "\n".join(f"{m.role}: {m.content}" for m in prompt.messages)
            elif echo == "params":
                text = params.model_dump_json()
            words = text.split()[: params.max_tokens]
            out.append(
                Completion(
                    text=" ".join(words),
                    prompt_tokens=sum(len(m.content.split()) for m in prompt.messages),
                    completion_tokens=len(words),
                )
            )
        return out

    def generate_streaming(
        self, prompts: list[Prompt], params: GenerationParams, on_text: TextSink
    ) -> list[Completion]:
        """Word by word, every prompt's first word before any second word (as a batched
        decoder interleaves), so streaming is testable without a model."""
        completions = self.generate(prompts, params)
        pieces = [c.text.split(" ") if c.text else [] for c in completions]
        for step in range(max((len(p) for p in pieces), default=0)):
            for i, words in enumerate(pieces):
                if step < len(words):
                    on_text(i, (" " if step else "") + words[step])
        return completions

    def unload(self) -> None:
        self.loaded = False


def _sleep(delay: object) -> None:
    if isinstance(delay, int | float) and delay > 0:
        time.sleep(delay)
