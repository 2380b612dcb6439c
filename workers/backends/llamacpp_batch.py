"""Batched decoding over llama.cpp's low-level API.

Several prompts decode together: each one is a sequence with its own `seq_id` in the KV cache,
and every `llama_decode` call carries one token per live sequence (or a chunk of prompt tokens
while prefilling). On a CPU this turns N matrix-vector products into one matrix-matrix product
per layer; how much that saves depends on the weight type's kernels (Q4_K_M has GEMM kernels
and gains ~3x here, Q4_1 mostly repeats its dot products and gains ~1.5x).

The module only needs the `llama_cpp` module object and a context; it knows nothing about
ModelSpec or prompts-as-messages, so the backend stays small and this stays testable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from workers.backends.llamacpp_sampling import SequenceSampler, json_grammar, token_logprob
from workers.types import BackendError, GenerationParams, TokenLogprob


@dataclass
class Sequence:
    """One prompt in flight: its slot in the KV cache, what is left to feed, what came out."""

    seq_id: int
    pending: list[int]  # tokens not yet decoded: the prompt, then each sampled token
    budget: int  # most tokens it may generate
    sampler: SequenceSampler
    pos: int = 0
    generated: list[int] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)
    text: str | None = None  # set when a stop string cut the output
    done: bool = False
    logprobs: list[TokenLogprob] = field(default_factory=list)  # one per generated token

    def output(self) -> str:
        if self.text is not None:
            return self.text
        # A sequence cut by max_tokens may end inside a multi-byte character.
        return self.raw.decode("utf-8", errors="ignore")

    def output_logprobs(self) -> list[TokenLogprob]:
        """The log-probabilities of the tokens of `output()`: those a stop string cut off
        (the stop string itself) are left out."""
        if self.text is None:
            return self.logprobs
        room, kept = len(self.text.encode()), []
        for entry in self.logprobs:
            room -= len(entry.bytes or ())
            if room < 0:
                break
            kept.append(entry)
        return kept


def plan_sub_batches(
    lengths: list[int], max_tokens: int, seq_ctx: int, kv_cells: int, n_seq_max: int
) -> list[list[int]]:
    """Split prompt indices, in order, into groups that fit the KV cache together.

    Each prompt reserves its own tokens plus its whole generation budget (at most `seq_ctx`,
    the per-sequence context), and a group's reservations stay within `kv_cells`, so no
    sequence runs out of KV cells mid-decode. With separate per-sequence streams
    `kv_cells` is `seq_ctx * n_seq_max` and only `n_seq_max` limits a group.
    """
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, n in enumerate(lengths):
        need = min(n + max_tokens, seq_ctx)
        if current and (len(current) >= n_seq_max or used + need > kv_cells):
            groups.append(current)
            current, used = [], 0
        current.append(i)
        used += need
    if current:
        groups.append(current)
    return groups


class BatchDecoder:
    """Owns one `llama_batch` and drives a llama context through a group of sequences."""

    def __init__(
        self,
        lib: ModuleType,
        ctx: Any,
        vocab: Any,
        n_batch: int,
        piece: Callable[[int], bytes],
    ) -> None:
        self._lib = lib
        self._ctx = ctx
        self._vocab = vocab
        self._n_batch = n_batch
        self._piece = piece
        # Per-sequence context: all of n_ctx in a unified cache, n_ctx / n_seq_max otherwise.
        self._n_ctx = int(lib.llama_n_ctx_seq(ctx))
        self._memory = lib.llama_get_memory(ctx)
        # One seq_id per token is all we use, hence n_seq_max=1 for the batch itself.
        self._batch = lib.llama_batch_init(n_batch, 0, 1)
        self._on_progress: Callable[[int, Sequence], None] | None = None
        self._logprobs: int | None = None  # top alternatives per token, when asked

    def close(self) -> None:
        self._lib.llama_batch_free(self._batch)

    def run(
        self,
        prompts: list[list[int]],
        params: GenerationParams,
        seeds: list[int],
        on_progress: Callable[[int, Sequence], None] | None = None,
    ) -> list[Sequence]:
        """Decode a group of tokenised prompts together; one Sequence per prompt, in order.
        `on_progress(i, seq)` is called after each token a sequence accepts and once more
        when it is done (for streaming)."""
        self._on_progress = on_progress
        self._logprobs = params.logprobs
        grammar = json_grammar(params.json_schema) if params.json_schema is not None else None
        # A fresh cache per group: sequences of an earlier group must not be attended to.
        self._lib.llama_memory_clear(self._memory, True)
        seqs: list[Sequence] = []
        try:
            for i, (tokens, seed) in enumerate(zip(prompts, seeds, strict=True)):
                sampler = SequenceSampler(self._lib, self._vocab, params, seed, grammar)
                seqs.append(
                    Sequence(
                        seq_id=i,
                        pending=list(tokens),
                        budget=max(0, min(params.max_tokens, self._n_ctx - len(tokens))),
                        sampler=sampler,
                    )
                )
            for seq in seqs:
                if seq.budget == 0:
                    seq.done = True
            while live := [s for s in seqs if not s.done]:
                self._step(live, params.stop)
        finally:
            for seq in seqs:
                seq.sampler.free()
        return seqs

    def _step(self, live: list[Sequence], stop: list[str]) -> None:
        outputs = self._fill(live)
        rc = self._lib.llama_decode(self._ctx, self._batch)
        if rc != 0:
            raise BackendError(f"llama_decode failed with code {rc} (KV cache full or aborted)")
        for index, seq in outputs:
            token = seq.sampler.sample(self._ctx, index)
            if self._logprobs is not None and not self._lib.llama_vocab_is_eog(self._vocab, token):
                seq.logprobs.append(self._token_logprob(index, token))
            self._accept(seq, token, stop)

    def _token_logprob(self, index: int, token: int) -> TokenLogprob:
        n_vocab = int(self._lib.llama_vocab_n_tokens(self._vocab))
        pointer = self._lib.llama_get_logits_ith(self._ctx, index)
        logits = np.ctypeslib.as_array(pointer, shape=(n_vocab,))
        return token_logprob(logits, token, self._logprobs or 0, self._piece)

    def _fill(self, live: list[Sequence]) -> list[tuple[int, Sequence]]:
        """Put as many pending tokens as fit into the batch; logits only where a sequence's
        pending tokens end, since that is the only place a next token is sampled from."""
        batch = self._batch
        n = 0
        outputs: list[tuple[int, Sequence]] = []
        for seq in live:
            take = min(len(seq.pending), self._n_batch - n)
            if take == 0:
                break
            for token in seq.pending[:take]:
                batch.token[n] = token
                batch.pos[n] = seq.pos
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = seq.seq_id
                batch.logits[n] = False
                seq.pos += 1
                n += 1
            del seq.pending[:take]
            if not seq.pending:
                batch.logits[n - 1] = True
                outputs.append((n - 1, seq))
        batch.n_tokens = n
        return outputs

    def _accept(self, seq: Sequence, token: int, stop: list[str]) -> None:
        if self._lib.llama_vocab_is_eog(self._vocab, token):
            self._finish(seq)
            return
        seq.generated.append(token)
        seq.raw += self._piece(token)
        if (stop and self._hit_stop(seq, stop)) or len(seq.generated) >= seq.budget:
            self._finish(seq)
        else:
            seq.pending.append(token)
            if self._on_progress is not None:
                self._on_progress(seq.seq_id, seq)

    @staticmethod
    def _hit_stop(seq: Sequence, stop: list[str]) -> bool:
        text = seq.raw.decode("utf-8", errors="ignore")
        cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
        if not cuts:
            return False
        seq.text = text[: min(cuts)]
        return True

    def _finish(self, seq: Sequence) -> None:
        seq.done = True
        # Free its KV cells now so the rest of the group has room.
        self._lib.llama_memory_seq_rm(self._memory, seq.seq_id, -1, -1)
        if self._on_progress is not None:
            self._on_progress(seq.seq_id, seq)
