"""Local GGUF models on the CPU through llama-cpp-python, with true batched decoding.

`llamacpp_model.load_model` brings the model up (weights, tokenizer, chat template and a
batch-capable context of our own); this backend turns prompts into tokens and decodes a whole
group of them together through `llamacpp_batch.BatchDecoder`.

A chunked `pkg:` model is assembled into the worker's `models_dir` (WorkerSettings).

Options (ModelSpec.options):
    n_threads    CPU threads (default: all cores)
    n_seq_max    most prompts decoded together (default 16)
    kv_unified   one KV pool of n_ctx cells for the whole group (default True), see
                 llamacpp_model._new_context; a group also stops growing when its prompts plus their
                 max_tokens would overflow that pool
    n_batch      most tokens per llama_decode call (default 512)
    batched      False decodes one prompt at a time through the same code (default True)
    reserve_tokens  room a prompt must leave in the context to count as fitting (default 32)
"""

from __future__ import annotations

import os
import time
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from workers.backends.base import LLMBackend
from workers.backends.formatting import render_completion
from workers.backends.llamacpp_batch import Sequence, plan_sub_batches
from workers.backends.llamacpp_model import ContextShape, LoadedModel, import_llama_cpp, load_model
from workers.backends.llamacpp_sampling import json_grammar
from workers.backends.streaming import TextStream
from workers.models import resolve_model_path
from workers.settings import WorkerSettings
from workers.types import (
    BackendError,
    BackendFeature,
    Completion,
    GenerationParams,
    ModelSpec,
    Prompt,
    PromptTooLongError,
    TextSink,
)


class LlamaCppBackend(LLMBackend):
    """A GGUF model; `generate` decodes a whole group of prompts in shared llama_decode calls."""

    def __init__(self, spec: ModelSpec, settings: WorkerSettings | None = None) -> None:
        super().__init__(spec, settings)
        self._loaded: LoadedModel | None = None

    @classmethod
    def features(cls, spec: ModelSpec) -> frozenset[BackendFeature]:
        return frozenset({"penalties", "json_schema", "logprobs"})

    @classmethod
    def check_json_schema(cls, spec: ModelSpec, schema: dict[str, Any]) -> None:
        if find_spec("llama_cpp") is not None:  # else the worker that runs it says so
            json_grammar(schema)

    # -- options -------------------------------------------------------------------------
    def _int_option(self, key: str, default: int) -> int:
        try:  # str() first: YAML may give "8"; True and 8.5 are refused
            return int(str(self.spec.options.get(key, default)))
        except ValueError:
            raise BackendError(
                f"expert {self.spec.name!r}: option {key} must be an integer"
            ) from None

    @property
    def _batched(self) -> bool:
        return bool(self.spec.options.get("batched", True))

    # -- lifecycle -----------------------------------------------------------------------
    def check(self) -> None:
        import_llama_cpp()
        self._model_path()

    def _model_path(self) -> Path:
        return resolve_model_path(self.spec.model, self.settings.models_dir.expanduser())

    def load(self) -> None:
        if self._loaded is not None:
            return
        import_llama_cpp()  # a missing library is named before a missing model
        path = self._model_path()
        shape = ContextShape(
            n_threads=self._int_option("n_threads", os.cpu_count() or 1),
            n_seq_max=self._int_option("n_seq_max", 16),
            kv_unified=bool(self.spec.options.get("kv_unified", True)),
            n_batch=self._int_option("n_batch", 512),
        )
        self._loaded = load_model(self.spec, path, shape)

    def unload(self) -> None:
        if self._loaded is not None:
            self._loaded.close()
            self._loaded = None

    def _require(self) -> LoadedModel:
        if self._loaded is None:
            raise BackendError(f"expert {self.spec.name!r}: model not loaded; call load() first")
        return self._loaded

    # -- prompts -------------------------------------------------------------------------
    def tokenize(self, prompt: Prompt) -> list[int]:
        """The prompt as the model will see it: chat template or plain completion text."""
        loaded = self._require()
        if loaded.chat_template is not None:
            text = self._apply_template(loaded.chat_template, prompt)
            # The template writes its own BOS and role markers: no extra BOS, parse specials.
            tokens: list[int] = loaded.llm.tokenize(text.encode(), add_bos=False, special=True)
        else:
            # User text is data for a base model: special-token strings stay plain text.
            text = render_completion(prompt)
            tokens = loaded.llm.tokenize(text.encode(), add_bos=True, special=False)
        return tokens

    def _apply_template(self, template: Any, prompt: Prompt) -> str:
        try:
            text: str = template(messages=[m.model_dump() for m in prompt.messages]).prompt
        except Exception as exc:  # jinja errors, raise_exception() in the template
            raise BackendError(
                f"expert {self.spec.name!r}: the chat template rejected the prompt: {exc}"
            ) from exc
        return text

    def _room(self) -> int:
        return self._int_option("reserve_tokens", 32)

    def fits(self, prompt: Prompt) -> bool:
        return len(self.tokenize(prompt)) + self._room() < self.spec.n_ctx

    def _check_fits(self, tokens: list[int]) -> None:
        if len(tokens) + self._room() >= self.spec.n_ctx:
            raise PromptTooLongError(
                f"prompt of {len(tokens)} tokens exceeds the context of {self.spec.n_ctx} "
                f"tokens of expert {self.spec.name}"
            )

    # -- generation ----------------------------------------------------------------------
    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        return self._generate(prompts, params, None)

    def generate_streaming(
        self, prompts: list[Prompt], params: GenerationParams, on_text: TextSink
    ) -> list[Completion]:
        """Token by token: each prompt's text goes out as it is decoded (held back only
        where it could be the start of a stop string)."""
        return self._generate(prompts, params, on_text)

    def _generate(
        self, prompts: list[Prompt], params: GenerationParams, on_text: TextSink | None
    ) -> list[Completion]:
        loaded = self._require()
        token_lists = [self.tokenize(p) for p in prompts]
        for tokens in token_lists:
            self._check_fits(tokens)
        if self._batched:
            lib, ctx = loaded.lib, loaded.ctx
            groups = plan_sub_batches(
                [len(t) for t in token_lists],
                params.max_tokens,
                seq_ctx=int(lib.llama_n_ctx_seq(ctx)),
                kv_cells=int(lib.llama_n_ctx(ctx)),
                n_seq_max=int(lib.llama_n_seq_max(ctx)),
            )
        else:
            groups = [[i] for i in range(len(prompts))]
        results: list[Completion | None] = [None] * len(prompts)
        for group in groups:
            completions = self._run_group(loaded, token_lists, group, params, on_text)
            for i, completion in zip(group, completions, strict=True):
                results[i] = completion
        return [c for c in results if c is not None]

    def _run_group(
        self,
        loaded: LoadedModel,
        token_lists: list[list[int]],
        group: list[int],
        params: GenerationParams,
        on_text: TextSink | None = None,
    ) -> list[Completion]:
        # The seed follows the prompt's position in the call, not in its sub-batch, so a
        # sampled answer is the same batched or sequential.
        seeds = [params.seed + i for i in group]
        progress = None
        if on_text is not None:
            streams = [TextStream(partial(on_text, i), params.stop) for i in group]

            def progress(index: int, seq: Sequence) -> None:
                if seq.done:
                    streams[index].finish(seq.output())
                else:
                    streams[index].update(seq.raw.decode("utf-8", errors="ignore"))

        start = time.perf_counter()
        seqs = loaded.decoder.run([token_lists[i] for i in group], params, seeds, progress)
        if on_text is not None:
            for stream, seq in zip(streams, seqs, strict=True):
                stream.finish(seq.output())  # sequences that never decoded (no budget)
        # Prompts of a group share every decode call, so each gets an equal share of its
        # wall time; per-prompt latency inside a batch is not separable.
        share = (time.perf_counter() - start) / len(group)
        return [
            Completion(
                text=seq.output(),
                prompt_tokens=len(token_lists[i]),
                completion_tokens=len(seq.generated),
                seconds=share,
                logprobs=seq.output_logprobs() if params.logprobs is not None else None,
            )
            for i, seq in zip(group, seqs, strict=True)
        ]
