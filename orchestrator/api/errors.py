"""One error shape for every endpoint: OpenAI's `{"error": {"message", "type", "param",
"code"}}`, so the official SDK and our own clients read errors the same way. Nothing here
ever returns a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from orchestrator.errors import (
    BrokerUnreachableError,
    RunnerClosedError,
    SymoeError,
    UnknownExpertError,
)
from workers.types import BackendError

log = logging.getLogger(__name__)

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "request_too_large",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable",
}


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers  # e.g. Retry-After on a 429


def error_response(
    status: int,
    message: str,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        message=message, type=ERROR_TYPES.get(status, "api_error"), param=param, code=code
    )
    content = ErrorResponse(error=body).model_dump()
    return JSONResponse(content, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    first = exc.errors()[0] if exc.errors() else {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    where = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None
    if tuple(first.get("loc", ())) == ("body",) and first.get("type") in {
        "model_attributes_type",
        "dict_type",
    }:  # not an object: often a form-encoded body (curl -d without a JSON content type)
        return (
            "the request body must be a JSON object, sent with Content-Type: application/json",
            None,
        )
    msg = str(first.get("msg", "invalid request"))
    return (f"{where}: {msg}" if where else msg), where


def _allowed_methods(request: Request) -> str:
    """Every method some route takes on this path, found by asking the routes (the router's
    own `Allow` names only the first matching route's, which hid DELETE /v1/jobs/{id})."""
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.param, exc.code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(exc)
        status = 400 if message == "the request body is not valid JSON" else 422
        return error_response(status, message, param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            allow = _allowed_methods(request)
            message = f"method {request.method} not allowed; this path takes {allow}"
            return error_response(405, message, headers={"Allow": allow})
        return error_response(exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(UnknownExpertError)
    async def _unknown_expert(_: Request, exc: UnknownExpertError) -> JSONResponse:
        return error_response(404, str(exc), code="unknown_expert")

    @app.exception_handler(BrokerUnreachableError)
    async def _broker(_: Request, exc: BrokerUnreachableError) -> JSONResponse:
        return error_response(503, str(exc), code="broker_unreachable")

    @app.exception_handler(RunnerClosedError)
    async def _stopping(_: Request, exc: RunnerClosedError) -> JSONResponse:
        return error_response(503, str(exc), code="server_stopping")

    @app.exception_handler(SymoeError)
    async def _symoe(_: Request, exc: SymoeError) -> JSONResponse:
        return error_response(400, str(exc), getattr(exc, "param", None))

    @app.exception_handler(BackendError)
    async def _backend(_: Request, exc: BackendError) -> JSONResponse:
        return error_response(503, str(exc), code="backend_error")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")  # the log keeps the trace; the client gets one line
        return error_response(500, f"internal error: {type(exc).__name__}")
