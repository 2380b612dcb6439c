"""llama.cpp sampling and token log-probabilities for BatchDecoder.

One chain per sequence: the penalties sampler lowers the logits of tokens already generated
(OpenAI's presence and frequency penalties), then greedy or temperature, top-p and a seeded
draw; when the params carry a JSON schema, a grammar sampler keeps the output to JSON that
matches it (SequenceSampler). Log-probabilities come from the model's raw logits (before any
sampler), as OpenAI and vLLM report them.
"""

from __future__ import annotations

import ctypes
import json
import math
import re
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any

import numpy as np

from workers.types import BackendError, GenerationParams, TokenLogprob, TopLogprob

_SEED_MASK = 0xFFFFFFFF  # llama.cpp samplers take a uint32 seed
# llama-cpp-python's converter lets raw control characters into JSON strings, which JSON
# forbids (json.loads refuses them); upstream llama.cpp's rule excludes them.
_CHAR_RULE = re.compile(r"^char ::= .*$", re.MULTILINE)
_STRICT_CHAR_RULE = (
    r'char ::= [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] '
    r"[0-9a-fA-F] [0-9a-fA-F])"
)


def json_grammar(schema: dict[str, Any]) -> str:
    """The GBNF grammar of the JSON values `schema` allows (rule `root`); BackendError when
    llama.cpp's converter does not know the schema. Keywords the converter ignores (in
    llama-cpp-python 0.3: minimum, maximum, ...) are not enforced."""
    try:
        converter = import_module("llama_cpp.llama_grammar")
    except ImportError as exc:
        raise BackendError("llama-cpp-python is not installed") from exc
    try:
        grammar: str = converter.json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # AssertionError, ValueError, KeyError from the converter
        raise BackendError(
            f"llama.cpp cannot constrain decoding to this JSON schema: {exc}"
        ) from exc
    return _CHAR_RULE.sub(lambda _: _STRICT_CHAR_RULE, grammar)


# llama_token_data (int32 id, float logit, float p) as numpy lays it out
_TOKEN_DATA = np.dtype([("id", np.int32), ("logit", np.float32), ("p", np.float32)])


class SequenceSampler:
    """One sequence's sampling: a sampler chain and, for JSON, a grammar sampler kept apart
    from it. Checking every token of the vocabulary against the grammar at every step is what
    makes constrained decoding slow (262k tokens for Gemma 3), so, as llama.cpp's own common
    sampler does, the chain picks a token first and the grammar checks only that one; only
    when the grammar refuses it does it filter the whole vocabulary for the chain to pick
    again. Free with `free()`."""

    def __init__(
        self, lib: ModuleType, vocab: Any, params: GenerationParams, seed: int, grammar: str | None
    ) -> None:
        self._lib = lib
        self.chain = _chain(lib, vocab, params, seed)
        self.grammar: Any = None
        if grammar is None:
            return
        self.grammar = lib.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
        if not self.grammar:
            self.free()
            raise BackendError("llama.cpp could not parse the JSON grammar")
        n_vocab = int(lib.llama_vocab_n_tokens(vocab))
        self._ids = np.arange(n_vocab, dtype=np.int32)
        self._candidates = np.zeros(n_vocab, dtype=_TOKEN_DATA)

    def sample(self, ctx: Any, index: int) -> int:
        """The next token from the logits at batch position `index`, accepted by the chain
        (and the grammar)."""
        lib = self._lib
        if self.grammar is None:
            return int(lib.llama_sampler_sample(self.chain, ctx, index))
        pointer = lib.llama_get_logits_ith(ctx, index)
        logits = np.ctypeslib.as_array(pointer, shape=self._ids.shape)
        token = self._pick(logits, constrained=False)
        if not self._allowed(token):
            token = self._pick(logits, constrained=True)
        lib.llama_sampler_accept(self.grammar, token)
        lib.llama_sampler_accept(self.chain, token)
        return token

    def _pick(self, logits: np.ndarray[Any, Any], constrained: bool) -> int:
        lib, candidates = self._lib, self._candidates
        candidates["id"], candidates["logit"], candidates["p"] = self._ids, logits, 0.0
        data = candidates.ctypes.data_as(ctypes.POINTER(lib.llama_token_data))
        array = lib.llama_token_data_array(data, len(candidates), -1, False)
        if constrained:
            lib.llama_sampler_apply(self.grammar, ctypes.byref(array))
        lib.llama_sampler_apply(self.chain, ctypes.byref(array))
        return int(array.data[array.selected].id)

    def _allowed(self, token: int) -> bool:
        lib = self._lib
        one = lib.llama_token_data(token, 1.0, 0.0)
        array = lib.llama_token_data_array(ctypes.pointer(one), 1, -1, False)
        lib.llama_sampler_apply(self.grammar, ctypes.byref(array))
        return math.isfinite(array.data[0].logit)  # the grammar sets a refused token to -inf

    def free(self) -> None:
        for sampler in (self.chain, self.grammar):
            if sampler:
                self._lib.llama_sampler_free(sampler)
        self.chain = self.grammar = None


def _chain(lib: ModuleType, vocab: Any, params: GenerationParams, seed: int) -> Any:
    chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
    if params.presence_penalty or params.frequency_penalty:
        lib.llama_sampler_chain_add(chain, _penalties(lib, vocab, params))
    if params.temperature == 0.0:
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        return chain
    # Temperature before top-p, as in OpenAI's and Hugging Face's sampling; each sequence
    # has its own seeded distribution so a prompt's sample does not depend on its group.
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(params.temperature))
    if params.top_p < 1.0:
        lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_top_p(params.top_p, 1))
    lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(seed & _SEED_MASK))
    return chain


def _penalties(lib: ModuleType, vocab: Any, params: GenerationParams) -> Any:
    # Only sampled tokens are accepted into the chain, so the window of max_tokens covers
    # every generated token and no prompt token: OpenAI's "tokens so far" of the answer.
    args = (params.max_tokens, 1.0, params.frequency_penalty, params.presence_penalty)
    init = lib.llama_sampler_init_penalties
    if len(getattr(init, "argtypes", None) or ()) == 5:  # releases that take n_vocab first
        return init(lib.llama_vocab_n_tokens(vocab), *args)
    return init(*args)


def token_logprob(
    logits: np.ndarray[Any, Any], token: int, top: int, piece: Callable[[int], bytes]
) -> TokenLogprob:
    """The log-probability of `token` under `logits` (one position's raw logits), with the
    `top` most likely tokens there."""
    shifted = logits.astype(np.float64) - float(logits.max())
    logprobs = shifted - np.log(np.exp(shifted).sum())
    best: list[TopLogprob] = []
    if top:
        ids = np.argpartition(-logprobs, top - 1)[:top].tolist()
        for other in sorted(ids, key=lambda i: -logprobs[i]):
            best.append(_entry(float(logprobs[other]), piece(other)))
    chosen = _entry(float(logprobs[token]), piece(token))
    return TokenLogprob(**chosen.model_dump(), top_logprobs=best)


def _entry(logprob: float, piece: bytes) -> TopLogprob:
    return TopLogprob(
        token=piece.decode("utf-8", errors="replace"), logprob=logprob, bytes=list(piece)
    )
