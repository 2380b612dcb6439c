"""The playground's live run: the question is planned and shown (`plan`: skills and who is
drawn), then executed by the same answering service as POST /v1/answers (and stored like
it), the final answer arriving piece by piece as the aggregator decodes it (`text`, where the
runner streams; else in one piece), then `done` with the finished page, or `error`.

The answering runs in a thread; its events reach the response through a queue, so a slow
committee holds no event-loop time, and a client that goes away leaves the query to finish
and be stored whole."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio

from orchestrator.answering import AnsweringService
from orchestrator.api.answers.schemas import AnswerRequest
from orchestrator.api.dashboard.playground_view import preview
from orchestrator.plan import BatchOptions
from orchestrator.trace import Trace

Event = tuple[str, dict[str, Any]]
_END: Event = ("", {})  # after `done` or `error`: the stream ends


def run_live(
    answering: AnsweringService,
    body: AnswerRequest,
    options: BatchOptions,
    finished: Callable[[Trace], str],
    failed: Callable[[Exception], str],
) -> AsyncIterator[dict[str, str]]:
    """Server-sent events of one run; `finished(trace)` and `failed(exc)` render the page
    the `done` and `error` events carry."""
    events: queue.Queue[Event] = queue.Queue()

    def work() -> None:
        try:
            plan = preview(answering, body, options)
            drawn = plan.recruitment.drawn
            events.put(("plan", {"drawn": drawn, "skills": list(plan.tagging.skills)}))

            def text(_query_id: str, piece: str) -> None:
                events.put(("text", {"text": piece}))

            report = answering.execute([plan], options, on_answer_text=text)
            trace = report.traces[0]
            events.put(("done", {"query_id": trace.query_id, "page": finished(trace)}))
        except Exception as exc:  # told on the page, as the plain form post would
            events.put(("error", {"message": str(exc), "page": failed(exc)}))
        finally:
            events.put(_END)

    threading.Thread(target=work, name="playground-run", daemon=True).start()

    async def stream() -> AsyncIterator[dict[str, str]]:
        while True:
            kind, data = await anyio.to_thread.run_sync(events.get)
            if not kind:
                return
            yield {"event": kind, "data": json.dumps(data)}

    return stream()
