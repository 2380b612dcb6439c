"""Request limits and metrics as a plain ASGI middleware (Starlette's `@app.middleware`
wrapper costs about a millisecond per request and buffers streamed responses' bookkeeping).

Bodies over the limit get 413: at once when Content-Length says so, or as soon as a chunked
body passes the limit while it is read. Every request is counted by route and status and
its latency observed (for a streamed response, until its last chunk)."""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api.errors import error_response
from orchestrator.api.metrics import Metrics


class LimitsAndMetrics:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = self._check_length(scope)
        if too_large is not None:
            await error_response(*too_large)(scope, receive, send)
            return
        limit = self.max_body_bytes
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # a chunked body without Content-Length
                    # an HTTPException survives FastAPI's body parsing (others become 400)
                    raise HTTPException(413, f"request body exceeds the limit of {limit} bytes")
            return message

        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, limited_receive, recording_send)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _check_length(self, scope: Scope) -> tuple[int, str] | None:
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value.decode("latin-1")
                if not length.isdigit():
                    return 400, "invalid Content-Length header"
                if int(length) > self.max_body_bytes:
                    return 413, (
                        f"request body of {length} bytes exceeds the limit of "
                        f"{self.max_body_bytes} bytes"
                    )
        return None

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        app = scope.get("app")
        services = getattr(getattr(app, "state", None), "services", None)
        metrics: Metrics | None = getattr(services, "metrics", None)
        if metrics is None:
            return
        route = getattr(scope.get("route"), "path", "unmatched")
        metrics.requests.labels(method=scope["method"], route=route, status=str(status)).inc()
        metrics.latency.labels(route=route).observe(seconds)
