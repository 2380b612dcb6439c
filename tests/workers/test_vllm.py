"""The vllm backend for real: vLLM's CPU build (.venv-vllm, scripts/setup-vllm) running the
local models converted from GGUF. Skipped where vllm is not installed; CI runs this file in
.venv-vllm. The engine-argument mapping is tested everywhere."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from workers.backends.vllm_offline import (
    VLLMBackend,
    engine_kwargs,
    structured_output,
    token_logprobs,
)
from workers.execute import execute_group
from workers.gguf_convert import LOCAL_MODELS, convert, converted_dir
from workers.models import resolve_model_path
from workers.pool import ModelPool
from workers.types import BackendError, GenerationParams, ModelSpec, Prompt

HAS_VLLM = importlib.util.find_spec("vllm") is not None
# vLLM's CPU backend: a fixed 256 MiB KV cache. Left to size it itself from a share of RAM
# ("gpu" memory), it subtracts the worker's resident size after a warm-up pass, which left
# 0.02 GiB for the cache on this machine and refused to start.
CPU_OPTIONS = {
    # float32: greedy answers must not depend on the CPU; in bfloat16 a machine with AMX
    # (true bf16 matrix units) decodes SmolLM2 differently from one that emulates it
    "dtype": "float32",
    "enforce_eager": True,
    "gpu_memory_utilization": 0.1,
    "engine_args": {"kv_cache_memory_bytes": 256 * 2**20},
}


def test_engine_kwargs_map_the_spec_and_extra_args() -> None:
    spec = ModelSpec(
        name="q",
        backend="vllm",
        model="/models/qwen",
        n_ctx=4096,
        options={"dtype": "bfloat16", "engine_args": {"swap_space": 0}},
    )
    assert engine_kwargs(spec) == {
        "model": "/models/qwen",
        "max_model_len": 4096,
        "dtype": "bfloat16",
        "gpu_memory_utilization": 0.85,
        "enforce_eager": False,
        "tensor_parallel_size": 1,
        "swap_space": 0,
    }
    bad = spec.model_copy(update={"options": {"engine_args": "x"}})
    with pytest.raises(BackendError, match="engine_args must be a mapping"):
        engine_kwargs(bad)


def test_a_json_schema_maps_to_structured_outputs_or_to_guided_decoding_before_it() -> None:
    schema = {"type": "object"}
    current = SimpleNamespace(StructuredOutputsParams=lambda json: ("structured", json))
    assert structured_output(current, schema) == {"structured_outputs": ("structured", schema)}
    older = SimpleNamespace(GuidedDecodingParams=lambda json: ("guided", json))
    assert structured_output(older, schema) == {"guided_decoding": ("guided", schema)}
    assert structured_output(current, None) == {}


def test_vllm_logprobs_map_to_openai_entries() -> None:
    """vLLM gives, per generated token, token id -> Logprob(logprob, rank, decoded_token)
    holding the sampled token and the most likely ones; here the sampled token (7) is the
    second most likely at the first step."""

    def logprob(value: float, rank: int, token: str) -> SimpleNamespace:
        return SimpleNamespace(logprob=value, rank=rank, decoded_token=token)

    output = SimpleNamespace(
        token_ids=[7, 3],
        logprobs=[
            {5: logprob(-0.5, 1, " A"), 7: logprob(-1.5, 2, " B")},
            {3: logprob(-0.1, 1, "!"), 9: logprob(-3.0, 2, "?")},
        ],
    )
    entries = token_logprobs(output, 1)
    assert entries is not None
    assert [(e.token, e.logprob, e.bytes) for e in entries] == [
        (" B", -1.5, list(b" B")),
        ("!", -0.1, list(b"!")),
    ]
    assert [[t.token for t in e.top_logprobs] for e in entries] == [[" A"], ["!"]]
    assert token_logprobs(output, None) is None


@pytest.mark.skipif(HAS_VLLM, reason="checks the message shown without vllm")
def test_without_vllm_loading_says_how_to_install_it() -> None:
    backend = VLLMBackend(ModelSpec(name="q", backend="vllm", model="x"))
    with pytest.raises(BackendError, match=r"vllm is not installed; .*symoe\[gpu\]"):
        backend.load()


@pytest.fixture(scope="module")
def converted(symoe_home: Path) -> dict[str, Path]:
    """The local GGUF models converted to safetensors once per session."""
    models_dir = symoe_home / "models"
    out = {}
    for name, ref in LOCAL_MODELS.items():
        out[name] = convert(resolve_model_path(ref, models_dir), converted_dir(models_dir, name))
    return out


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.skipif(not HAS_VLLM, reason="vllm is not installed (see scripts/setup-vllm)")
def test_a_group_in_one_call_then_a_clean_swap_to_the_next_model(
    converted: dict[str, Path],
) -> None:
    smol = ModelSpec(
        name="smollm2-135m",
        backend="vllm",
        model=str(converted["smollm2-135m"]),
        memory_mb=600,
        options=CPU_OPTIONS,
    )
    gemma = ModelSpec(
        name="gemma3-270m",
        backend="vllm",
        model=str(converted["gemma3-270m"]),
        chat_format="completion",
        memory_mb=900,
        options=CPU_OPTIONS,
    )
    pool = ModelPool(memory_budget_mb=1000)  # one model at a time: the swap must free memory
    prompts = [Prompt.user("What is the capital of France?")] * 3 + [
        Prompt.user("x " * 3000)  # longer than the 2048-token context: skipped, not sent
    ]
    outcome = execute_group(pool, smol, GenerationParams(max_tokens=16), prompts)
    assert outcome.error is None and outcome.loaded
    texts = [c.text for c in outcome.completions[:3] if c is not None]
    assert len(texts) == 3 and all("Paris" in t for t in texts), texts
    assert all(c is not None and c.prompt_tokens > 5 for c in outcome.completions[:3])
    assert outcome.completions[3] is None and "exceeds the context" in str(outcome.item_errors[3])

    params = GenerationParams(max_tokens=8, stop=["\n"])
    few_shot = (  # a base model: plain few-shot completion
        "Question: What is the capital of Italy?\nAnswer: Rome\n\n"
        "Question: What is the capital of Spain?\nAnswer: Madrid\n\n"
        "Question: What is the capital of France?\nAnswer:"
    )
    swapped = execute_group(pool, gemma, params, [Prompt.user(few_shot)])
    assert swapped.error is None and swapped.loaded
    assert pool.resident() == ["gemma3-270m"] and pool.stats.evictions == 1
    (completion,) = swapped.completions
    assert completion is not None and completion.completion_tokens > 0
    assert "Paris" in completion.text, completion.text
    pool.release_all()


@pytest.mark.vllm
@pytest.mark.slow
@pytest.mark.skipif(not HAS_VLLM, reason="vllm is not installed (see scripts/setup-vllm)")
def test_json_schema_logprobs_and_penalties_on_vllm(converted: dict[str, Path]) -> None:
    smol = ModelSpec(
        name="smollm2-135m",
        backend="vllm",
        model=str(converted["smollm2-135m"]),
        memory_mb=600,
        options=CPU_OPTIONS,
    )
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
        "required": ["city"],
    }
    params = GenerationParams(max_tokens=24, json_schema=schema, logprobs=2, frequency_penalty=0.5)
    pool = ModelPool(memory_budget_mb=1000)
    outcome = execute_group(pool, smol, params, [Prompt.user("The capital of France, in JSON?")])
    (completion,) = outcome.completions
    assert outcome.error is None and completion is not None
    assert json.loads(completion.text)["city"] in {"Paris", "Rome"}
    assert completion.logprobs is not None
    assert len(completion.logprobs) == completion.completion_tokens
    assert all(len(e.top_logprobs) == 2 for e in completion.logprobs)
    pool.release_all()
