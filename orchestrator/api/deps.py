"""The dependencies every feature shares, as `Annotated` aliases: the caller's key and the
admin requirement. Every endpoint but /healthz declares one of them. Each feature reads its
own service from `app.state` in its own routes module (create_app puts them there), so no
feature imports the container that builds them (api/services.py)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from orchestrator.api.auth.ratelimit import RateLimiter
from orchestrator.api.errors import ApiError
from orchestrator.db.keys import ApiKeyInfo, KeyStore


# The dependencies are `async def`: FastAPI runs a plain `def` dependency in the thread pool,
# one hop per dependency per request, which costs more than these few microseconds of work
# (the key check is one indexed SELECT on the driver's cursor: about 10 us on SQLite).
def from_state(attribute: str) -> Callable[[Request], Awaitable[Any]]:
    """A dependency that returns the service `create_app` put on `app.state` under
    `attribute`; each feature declares its own, typed, in its routes module."""

    async def service(request: Request) -> Any:
        return getattr(request.app.state, attribute)

    return service


KeysDep = Annotated[KeyStore, Depends(from_state("keys"))]
LimiterDep = Annotated[RateLimiter, Depends(from_state("limiter"))]


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


async def current_key(request: Request, keys: KeysDep, limiter: LimiterDep) -> ApiKeyInfo:
    """The caller's key: 401 when missing, unknown or revoked; 429 over the rate limit."""
    presented = _presented_key(request)
    if presented is None:
        raise ApiError(
            401, "missing API key: send 'Authorization: Bearer <key>'", code="missing_api_key"
        )
    info = keys.verify(presented)
    if info is None:
        raise ApiError(401, "invalid or revoked API key", code="invalid_api_key")
    retry_after = limiter.check(info.id)
    if retry_after is not None:
        raise ApiError(
            429,
            f"rate limit of {limiter.per_minute} requests per minute reached; "
            f"retry in {retry_after:g}s",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(math.ceil(retry_after))},  # whole seconds (RFC 9110)
        )
    request.state.key = info
    return info


CallerDep = Annotated[ApiKeyInfo, Depends(current_key)]


async def admin_key(caller: CallerDep) -> ApiKeyInfo:
    if caller.role != "admin":
        raise ApiError(403, "this endpoint needs an admin key", code="admin_required")
    return caller


AdminDep = Annotated[ApiKeyInfo, Depends(admin_key)]
