"""A direct call: the chat messages go to one expert as they are, as a group of one through
the same runner and model pool, recorded as a batch of one like any other."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from orchestrator.answers import detect_format, extract
from orchestrator.api.openai.prepared import ChatOutcome, DirectCall
from orchestrator.api.openai.streaming import TextFeed
from orchestrator.pipeline import Query
from orchestrator.scheduler import StageRequest
from orchestrator.trace import BatchReport, ModelCall, Recruitment, SkillTagging, Trace

if TYPE_CHECKING:
    from orchestrator.api.services import ApiServices


def run_direct(
    services: ApiServices, query: Query, call: DirectCall, feed: TextFeed | None = None
) -> ChatOutcome:
    started = time.perf_counter()
    stages = services.deployment.new_stages(services.runner)
    request = StageRequest(key=query.id, expert=call.expert, prompt=call.prompt)
    (item,) = stages.run(
        "experts",
        [request],
        lambda _: call.params,
        (lambda _request, text: feed.put(text)) if feed is not None else None,
    )
    batch_id = uuid.uuid4().hex
    trace = Trace(
        query_id=query.id,
        batch_id=batch_id,
        question=query.text,
        tagging=SkillTagging(method="direct", notes=["direct call: no skill tagging"]),
        recruitment=Recruitment(
            recruiter="direct",
            profile_set=None,
            drawn=[call.expert],
            aggregation="direct",
            notes=[f"direct call: {len(call.prompt.messages)} message(s) to {call.expert}"],
        ),
    )
    c = item.completion
    if c is None:
        trace.error = f"{call.expert} failed: {item.error or 'no output'}"
    else:
        fmt = "json" if call.params.json_schema is not None else detect_format(query.text)
        extracted = extract(c.text, fmt)
        trace.calls.append(
            ModelCall(
                stage="experts",
                expert=call.expert,
                text=c.text,
                prompt_tokens=c.prompt_tokens,
                completion_tokens=c.completion_tokens,
                seconds=c.seconds,
                extracted=extracted,
            )
        )
        trace.answer, trace.extracted_answer = c.text, extracted
    elapsed = time.perf_counter() - started
    trace.seconds, trace.stages = elapsed, stages.timings
    report = BatchReport(
        batch_id=batch_id,
        traces=[trace],
        stages=stages.timings,
        loads=stages.loads,
        seconds=elapsed,
    )
    return ChatOutcome(report, c.logprobs if c is not None else None)
