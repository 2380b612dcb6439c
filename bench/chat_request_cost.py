"""In-process cost of one chat completion for model `symoe`, without HTTP: preparing the
request (validation, options, budgets) and running it (plan, experts, vote, store), over the
scripted experts of bench/load_setup.py and the embedding tagger. The script runs unchanged
on any commit that has `ApiServices.openai`, so two commits can be compared on one machine
(copy it and load_setup.py into the other checkout's bench/):

    .venv/bin/python bench/chat_request_cost.py
    git worktree add /tmp/old <commit> && cp bench/{chat_request_cost,load_setup}.py /tmp/old/bench/
    (cd /tmp/old && PYTHONPATH=/tmp/old <repo>/.venv/bin/python bench/chat_request_cost.py)
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import yaml
from load_setup import QUESTIONS, experts

from orchestrator.api.openai.protocol import ChatCompletionRequest
from orchestrator.api.services import ApiServices
from orchestrator.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--experts", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        experts_file = Path(tmp) / "experts.yaml"
        experts_file.write_text(yaml.safe_dump({"experts": experts(args.experts)}))
        settings = Settings(
            data_dir=Path(tmp) / "home",
            experts_file=experts_file,
            profile_file=None,
            aggregation="vote",
            microbatch_window_ms=0,
        )
        services = ApiServices(settings)
        serving = services.openai
        body = ChatCompletionRequest.model_validate(
            {"model": "symoe", "messages": [{"role": "user", "content": QUESTIONS[0]}]}
        )

        async def one() -> None:
            chat = serving.prepare(body)
            await serving.complete(chat, serving.submit(chat))

        for _ in range(20):  # warm: models loaded, question embeddings cached
            asyncio.run(one())
        started = time.perf_counter()
        for _ in range(args.requests * 10):
            serving.prepare(body)
        prepare_us = (time.perf_counter() - started) / (args.requests * 10) * 1e6
        started = time.perf_counter()
        for _ in range(args.requests):
            asyncio.run(one())
        run_ms = (time.perf_counter() - started) / args.requests * 1e3
        services.close()
    print(f"prepare: {prepare_us:.1f} µs per request")
    print(f"prepare + run + store: {run_ms:.2f} ms per request")


if __name__ == "__main__":
    main()
