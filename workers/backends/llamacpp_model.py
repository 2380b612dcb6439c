"""Bringing a GGUF model up in llama.cpp: the library check, the weights, our own
batch-capable context and decoder, and the chat template; and taking it down in order.

`llama_cpp.Llama` gives us the model, the tokenizer and the GGUF metadata (chat template);
decoding runs on a second context of our own (several sequences in one KV cache), which the
wrapper cannot create because it cannot set n_seq_max > 1.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from workers.backends.llamacpp_batch import BatchDecoder
from workers.types import BackendError, ModelSpec

log = logging.getLogger(__name__)

# The Llama wrapper's own context is never decoded on, so it is kept at llama.cpp's smallest
# useful size.
_WRAPPER_N_CTX = 256

# The low-level names BatchDecoder relies on; they were renamed across llama-cpp-python
# releases (llama_kv_self_* -> llama_memory_*), so check once with a clear message.
_REQUIRED = (
    "llama_batch_init",
    "llama_get_memory",
    "llama_memory_clear",
    "llama_memory_seq_rm",
    "llama_n_ctx_seq",
    "llama_vocab_is_eog",
    "llama_sampler_sample",
)


def import_llama_cpp() -> ModuleType:
    try:
        lib = import_module("llama_cpp")
    except ImportError as exc:
        raise BackendError(
            "llama-cpp-python is not installed; install it with: pip install 'symoe[local]'"
        ) from exc
    missing = [name for name in _REQUIRED if not hasattr(lib, name)]
    if missing:
        raise BackendError(
            f"llama-cpp-python {getattr(lib, '__version__', '?')} is too old "
            f"(lacks {', '.join(missing)}); upgrade it: pip install -U llama-cpp-python"
        )
    return lib


@contextlib.contextmanager
def _llama_log_to_debug() -> Iterator[None]:
    """llama-cpp-python's log callback prints llama.cpp warnings (e.g. Gemma's "using
    full-size SWA cache") to sys.stderr even with verbose=False; route them to debug logging
    so they do not clutter the CLI."""
    with contextlib.redirect_stderr(io.StringIO()) as messages:
        yield
    if text := messages.getvalue().strip():
        log.debug("llama.cpp: %s", text)


@dataclass(frozen=True)
class ContextShape:
    """The decoding context an expert's options ask for."""

    n_threads: int
    n_seq_max: int  # most prompts decoded together
    kv_unified: bool  # one KV pool of n_ctx cells for the whole group
    n_batch: int  # most tokens per llama_decode call


class LoadedModel:
    """Everything `load_model` creates, so `close` can free it in the right order."""

    def __init__(self, lib: ModuleType, llm: Any, ctx: Any, decoder: BatchDecoder) -> None:
        self.lib = lib
        self.llm = llm
        self.ctx = ctx
        self.decoder = decoder
        self.chat_template: Any = None  # llama_chat_format.Jinja2ChatFormatter for "chat"

    def close(self) -> None:
        self.decoder.close()
        self.lib.llama_free(self.ctx)  # the context must go before the model it points to
        self.llm.close()


def load_model(spec: ModelSpec, path: Path, shape: ContextShape) -> LoadedModel:
    """The model file at `path` with a decoding context of `shape` and, for chat_format
    "chat", the chat template from its GGUF metadata. Raises BackendError."""
    lib = import_llama_cpp()
    try:
        with _llama_log_to_debug():
            llm = lib.Llama(
                model_path=str(path),
                n_ctx=_WRAPPER_N_CTX,
                n_threads=shape.n_threads,
                verbose=False,
            )
    except (ValueError, RuntimeError, OSError) as exc:
        raise BackendError(f"expert {spec.name!r}: cannot load {path}: {exc}") from exc
    try:
        ctx = _new_context(lib, llm, spec, shape)
        n_batch = int(lib.llama_n_batch(ctx))
        decoder = BatchDecoder(
            lib,
            ctx,
            lib.llama_model_get_vocab(llm.model),
            n_batch,
            lambda token: llm.detokenize([token]),
        )
    except BaseException:
        llm.close()
        raise
    loaded = LoadedModel(lib, llm, ctx, decoder)
    if spec.chat_format == "chat":
        try:
            loaded.chat_template = _chat_template(spec, llm)
        except BaseException:
            loaded.close()
            raise
    return loaded


def _new_context(lib: ModuleType, llm: Any, spec: ModelSpec, shape: ContextShape) -> Any:
    n_seq_max = max(1, min(shape.n_seq_max, lib.llama_max_parallel_sequences()))
    unified = shape.kv_unified
    params = lib.llama_context_default_params()
    # Unified (default): one pool of n_ctx KV cells shared by the group, so memory does not
    # grow with n_seq_max and one long prompt may still use all of n_ctx. Separate streams:
    # n_ctx cells per sequence (n_seq_max times the memory) and attention that ignores the
    # neighbours, which makes greedy output independent of the group for models whose
    # matmul kernels are row-independent (SmolLM2 Q4_1 yes, Gemma Q4_K_M no).
    params.n_ctx = spec.n_ctx if unified else spec.n_ctx * n_seq_max
    params.n_seq_max = n_seq_max
    params.kv_unified = unified
    params.n_batch = params.n_ubatch = min(shape.n_batch, spec.n_ctx)
    params.n_threads = params.n_threads_batch = shape.n_threads
    with _llama_log_to_debug():
        ctx = lib.llama_init_from_model(llm.model, params)
    if ctx is None:
        raise BackendError(
            f"expert {spec.name!r}: llama.cpp could not create a context of "
            f"{params.n_ctx} tokens for {n_seq_max} sequences"
        )
    return ctx


def _chat_template(spec: ModelSpec, llm: Any) -> Any:
    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise BackendError(
            f"expert {spec.name!r}: {spec.model} has no chat template; set chat_format: completion"
        )
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    def text(token: int) -> str:
        return "" if token < 0 else llm.detokenize([token], special=True).decode("utf-8")

    return Jinja2ChatFormatter(
        template=template,
        eos_token=text(llm.token_eos()),
        bos_token=text(llm.token_bos()),
    )
