"""Routes of the OpenAI-compatible API: thin handlers over `OpenAIServing`."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from orchestrator.api.deps import CallerDep, from_state
from orchestrator.api.errors import ApiError, ErrorResponse, error_response
from orchestrator.api.openai.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ModelCard,
    ModelList,
)
from orchestrator.api.openai.serving import QUERY_ID_HEADER, OpenAIServing
from orchestrator.api.openai.streaming import TextFeed
from orchestrator.api.trace_header import trace_stored

router = APIRouter(prefix="/v1", tags=["openai"])


ServingDep = Annotated[OpenAIServing, Depends(from_state("openai"))]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 404, 413, 422, 429, 503)
}
_STREAM_DOC: dict[str, Any] = {
    "description": "A chat completion; with `stream: true`, server-sent events of "
    "`chat.completion.chunk` objects ending in `data: [DONE]` (see streaming.py). Either way "
    f"the `{QUERY_ID_HEADER}` header names the stored query.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    responses={**_ERRORS, 200: _STREAM_DOC},
)
async def create_chat_completion(
    body: ChatCompletionRequest, caller: CallerDep, serving: ServingDep
) -> Response:
    """OpenAI chat completion by the committee ('symoe') or one expert; streams on request."""
    chat = await run_in_threadpool(serving.prepare, body)
    feed = TextFeed(asyncio.get_running_loop()) if body.stream else None
    future = serving.submit(chat, feed)
    if feed is not None:
        return StreamingResponse(
            serving.stream(chat, future, feed),
            media_type="text/event-stream",
            headers={QUERY_ID_HEADER: chat.query.id, "Cache-Control": "no-cache"},
        )
    try:
        completion = await serving.complete(chat, future)
    except ApiError as exc:  # the query was stored without an answer: name it
        failed = error_response(exc.status, exc.message, exc.param, exc.code)
        failed.headers[QUERY_ID_HEADER] = chat.query.id
        return failed
    # serialised once, here (FastAPI would validate the whole trace again otherwise)
    return Response(
        completion.model_dump_json(),
        media_type="application/json",
        headers={QUERY_ID_HEADER: chat.query.id, **trace_stored(serving.settings)},
    )


@router.get("/models", response_model=ModelList, responses=_ERRORS)
def list_models(caller: CallerDep, serving: ServingDep) -> ModelList:
    """The models a chat completion can name: 'symoe' and every enabled expert."""
    return serving.models()


@router.get("/models/{model}", response_model=ModelCard, responses=_ERRORS)
def retrieve_model(model: str, caller: CallerDep, serving: ServingDep) -> ModelCard:
    """One model of the list; 404 when there is no such model."""
    return serving.model(model)
