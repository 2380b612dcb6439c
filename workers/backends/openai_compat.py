"""Any OpenAI-compatible HTTP server (`vllm serve`, llama-cpp-python's server, ...).

`spec.model` is the served model name. The prompts of a group are sent concurrently, at most
`max_concurrency` in flight, and come back in order; the server does the batching.

Options (ModelSpec.options):
    base_url         the API root, e.g. http://127.0.0.1:8000/v1 (required)
    api_key          sent as a bearer token (optional; taken from the options only)
    timeout_s        per-request timeout in seconds (default 120)
    max_concurrency  most requests in flight for one group (default 8)
    endpoint         "chat" (/chat/completions with messages) or "completions" (/completions
                     with the plain rendered prompt); default follows chat_format
    json_format      how a JSON schema is sent on the chat endpoint: "json_schema" (OpenAI's
                     response_format, as vLLM reads it; default) or "json_object" (
                     {"type": "json_object", "schema": ...}, as llama-cpp-python's server reads it)

Penalties go to either endpoint; a JSON schema and log-probabilities only to the chat
endpoint (the completions endpoint has no standard form for them).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

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
    PromptTooLongError,
    TokenLogprob,
)

_RETRIES = 2  # extra attempts after a connection error or a 5xx answer
_BACKOFF_S = 0.5  # doubled on each retry
_RETRYABLE = (httpx.NetworkError, httpx.ConnectTimeout, httpx.RemoteProtocolError)


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _error_message(response: httpx.Response) -> str:
    """The server's own message: OpenAI's {"error": {"message"}}, FastAPI's {"detail"}, or
    the raw body."""
    try:
        body = response.json()
    except ValueError:
        return _one_line(response.text) or response.reason_phrase
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if error is not None:
            return _one_line(str(error))
    return _one_line(str(body))


class OpenAIBackend(LLMBackend):
    """A model served over the OpenAI API; load() only checks that it is served."""

    @classmethod
    def features(cls, spec: ModelSpec) -> frozenset[BackendFeature]:
        default = "chat" if spec.chat_format == "chat" else "completions"
        if spec.options.get("endpoint", default) == "chat":
            return frozenset({"penalties", "json_schema", "logprobs"})
        return frozenset({"penalties"})

    def __init__(self, spec: ModelSpec, settings: WorkerSettings | None = None) -> None:
        super().__init__(spec, settings)
        self._client: httpx.Client | None = None
        options = spec.options
        base_url = options.get("base_url")
        if not isinstance(base_url, str) or not base_url.strip():
            raise BackendError(f"expert {spec.name!r}: option base_url is required")
        self.base_url = base_url.strip().rstrip("/")
        api_key = options.get("api_key")
        self._api_key = str(api_key) if api_key else None
        self.timeout_s = self._number("timeout_s", 120.0)
        self.max_concurrency = max(1, int(self._number("max_concurrency", 8)))
        default_endpoint = "chat" if spec.chat_format == "chat" else "completions"
        self.endpoint = str(options.get("endpoint", default_endpoint))
        if self.endpoint not in ("chat", "completions"):
            raise BackendError(
                f"expert {spec.name!r}: option endpoint must be 'chat' or 'completions'"
            )
        self.json_format = str(options.get("json_format", "json_schema"))
        if self.json_format not in ("json_schema", "json_object"):
            raise BackendError(
                f"expert {spec.name!r}: option json_format must be 'json_schema' or 'json_object'"
            )

    def _number(self, key: str, default: float) -> float:
        value = self.spec.options.get(key, default)
        try:  # str() first: YAML may give "8"; True is refused
            return float(str(value))
        except ValueError:
            raise BackendError(
                f"expert {self.spec.name!r}: option {key} must be a number"
            ) from None

    # -- lifecycle -----------------------------------------------------------------------
    def load(self) -> None:
        if self._client is not None:
            return
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=self.timeout_s,
            limits=httpx.Limits(max_connections=self.max_concurrency),
        )
        try:
            body = self._request(client, "GET", "/models")
        except BaseException:
            client.close()
            raise
        served = [str(m.get("id")) for m in body.get("data") or [] if isinstance(m, dict)]
        if served and self.spec.model not in served:
            client.close()
            raise BackendError(
                f"expert {self.spec.name!r}: model {self.spec.model!r} is not served at "
                f"{self.base_url} (served: {', '.join(served)})"
            )
        self._client = client

    def unload(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- requests ------------------------------------------------------------------------
    def _request(
        self, client: httpx.Client, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One call with retries on connection errors and 5xx; the decoded JSON body."""
        for attempt in range(_RETRIES + 1):
            last = attempt == _RETRIES
            try:
                response = client.request(method, path, json=payload)
            except _RETRYABLE as exc:
                if last:
                    reason = _one_line(str(exc)) or type(exc).__name__
                    raise BackendError(
                        f"openai backend: cannot reach {self.base_url}: {reason}"
                    ) from exc
            except httpx.HTTPError as exc:  # timeouts while reading: not retried
                raise BackendError(
                    f"openai backend: {method} {self.base_url}{path} failed: "
                    f"{_one_line(str(exc)) or type(exc).__name__}"
                ) from exc
            else:
                if response.status_code < 400:
                    try:
                        body = response.json()
                    except ValueError as exc:
                        raise BackendError(
                            f"openai backend: {self.base_url}{path} did not answer JSON"
                        ) from exc
                    return body if isinstance(body, dict) else {}
                if response.status_code < 500 or last:
                    message = _error_message(response)
                    # OpenAI's wording, which vLLM and llama-cpp-python's server copy
                    error = (
                        PromptTooLongError if "maximum context length" in message else BackendError
                    )
                    raise error(
                        f"openai backend: {self.base_url}{path} answered HTTP "
                        f"{response.status_code}: {message}"
                    )
            time.sleep(_BACKOFF_S * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _payload(self, prompt: Prompt, params: GenerationParams, seed: int) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.spec.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": seed,
        }
        if params.stop:
            payload["stop"] = list(params.stop)
        if params.presence_penalty or params.frequency_penalty:
            payload["presence_penalty"] = params.presence_penalty
            payload["frequency_penalty"] = params.frequency_penalty
        if self.endpoint != "chat":
            payload["prompt"] = render_completion(prompt)
            return payload
        payload["messages"] = [m.model_dump() for m in prompt.messages]
        if params.json_schema is not None:
            schema = params.json_schema
            payload["response_format"] = (
                {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
                if self.json_format == "json_schema"
                else {"type": "json_object", "schema": schema}
            )
        if params.logprobs is not None:
            payload["logprobs"] = True
            payload["top_logprobs"] = params.logprobs
        return payload

    def _complete(self, client: httpx.Client, payload: dict[str, Any]) -> Completion:
        path = "/chat/completions" if self.endpoint == "chat" else "/completions"
        start = time.perf_counter()
        body = self._request(client, "POST", path, payload)
        seconds = time.perf_counter() - start
        choices = body.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        logprobs = None
        if self.endpoint == "chat":
            text = (choice.get("message") or {}).get("content")
            if "top_logprobs" in payload:
                content = (choice.get("logprobs") or {}).get("content") or []
                logprobs = [TokenLogprob.model_validate(entry) for entry in content]
        else:
            text = choice.get("text")
        usage = body.get("usage") or {}
        return Completion(
            text=str(text or ""),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
            logprobs=logprobs,
        )

    def generate(self, prompts: list[Prompt], params: GenerationParams) -> list[Completion]:
        client = self._client
        if client is None:
            raise BackendError(f"expert {self.spec.name!r}: model not loaded; call load() first")
        if not prompts:
            return []
        # As in the llamacpp backend, the seed follows the prompt's position in the group.
        payloads = [self._payload(p, params, params.seed + i) for i, p in enumerate(prompts)]
        workers = min(self.max_concurrency, len(payloads))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai") as pool:
            return list(pool.map(lambda payload: self._complete(client, payload), payloads))
