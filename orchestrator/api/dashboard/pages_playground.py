"""/admin/playground: type a question and see its plan before anything runs (skills with
scores, each candidate's competence, suitability and weight, who would be drawn, the
retrieval decision), then run it through the app's answers service, as POST /v1/answers
does (so it is stored like any query), and see its trace with a link to its query page.

Without JavaScript Run is a plain form post (`/run`) answered with the finished trace. With
it (static/playground.js) Run posts to `/live`, which answers with server-sent events
(playground_live.py): the plan as it was made, the final answer as the aggregator decodes
it, then the finished page, which replaces the page's main part."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse

from orchestrator.aggregators import AGGREGATORS
from orchestrator.answering import AnsweringService
from orchestrator.api.answers.service import AnswersService
from orchestrator.api.dashboard.auth import ActorDep, Viewer, ViewerDep
from orchestrator.api.dashboard.playground_live import run_live
from orchestrator.api.dashboard.playground_view import (
    PlaygroundForm,
    options_of,
    plan_view,
    preview,
)
from orchestrator.api.dashboard.templating import render
from orchestrator.errors import (
    BrokerUnreachableError,
    RunnerClosedError,
    SymoeError,
    UnknownExpertError,
)
from orchestrator.retrieval import retrieval_choices
from orchestrator.trace import Trace
from workers.types import BackendError

router = APIRouter(prefix="/admin/playground", include_in_schema=False)

Text = Annotated[str, Form(max_length=100)]


def _answering(request: Request) -> AnsweringService:
    # read per request: activating a profile set swaps the answering service
    return request.app.state.services.answering  # type: ignore[no-any-return]


def _form(
    question: Annotated[str, Form(max_length=100_000)] = "",
    k: Text = "",
    aggregation: Text = "",
    retrieval: Text = "",
    aggregator: Text = "",
    max_tokens: Text = "",
    experts: Annotated[list[str] | None, Form(max_length=200)] = None,
) -> PlaygroundForm:
    return PlaygroundForm(
        question, k, aggregation, retrieval, aggregator, max_tokens, list(experts or [])
    )


def _page(
    request: Request, who: Viewer, form: PlaygroundForm, status: int = 200, **extra: Any
) -> Response:
    registry = request.app.state.services.deployment.registry
    answers: AnswersService = request.app.state.answers
    settings = answers.settings
    return render(
        request,
        "playground.html",
        who,
        status,
        form=form,
        experts=registry.with_role("expert"),
        aggregator_experts=registry.with_role("aggregator"),
        aggregations=AGGREGATORS.names(),
        retrievals=retrieval_choices(),
        defaults={
            "k": settings.k,
            "aggregation": settings.aggregation,
            "retrieval": settings.retrieval_gate,
            "max_tokens": settings.expert_max_tokens,
        },
        **extra,
    )


def _status(exc: Exception) -> int:
    if isinstance(exc, UnknownExpertError):
        return 404
    if isinstance(exc, BackendError | RunnerClosedError | BrokerUnreachableError):
        return 503
    return 400


@router.get("")
def playground_page(request: Request, who: ViewerDep) -> Response:
    return _page(request, who, PlaygroundForm())


FormDep = Annotated[PlaygroundForm, Depends(_form)]


@router.post("/plan")
def plan_question(request: Request, who: ActorDep, form: FormDep) -> Response:
    """The plan, made and shown; nothing runs and nothing is stored."""
    answering = _answering(request)
    try:
        body = form.request()
        made = preview(answering, body, options_of(request.app.state.answers.settings, body))
    except (SymoeError, BackendError) as exc:
        return _page(request, who, form, _status(exc), error=str(exc))
    shown = plan_view(made.tagging, made.recruitment, made.retrieval, answering.planner.profile)
    return _page(request, who, form, plan=shown, pool=made.pool)


@router.post("/run")
def run_question(
    request: Request,
    who: ActorDep,
    form: FormDep,
    planned: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Answered by the app's answers service (stored like any POST /v1/answers); the page
    shows the trace, and whether the draw is the one the plan showed (`planned`)."""
    answers: AnswersService = request.app.state.answers
    try:
        report = answers.answer(form.request())
    except (SymoeError, BackendError) as exc:
        return _page(request, who, form, _status(exc), error=str(exc))
    return _trace_page(request, who, form, report.traces[0], planned)


def _trace_page(
    request: Request, who: Viewer, form: PlaygroundForm, trace: Trace, planned: str
) -> Response:
    """The finished run: its trace, and whether the draw is the one the plan showed."""
    profile = _answering(request).planner.profile
    shown = plan_view(trace.tagging, trace.recruitment, trace.retrieval, profile)
    as_planned = None if not planned else planned.split(",") == trace.recruitment.drawn
    return _page(request, who, form, plan=shown, trace=trace, as_planned=as_planned)


@router.post("/live")
def run_question_live(
    request: Request,
    who: ActorDep,
    form: FormDep,
    planned: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Run, watched as it goes: server-sent events `plan`, `text`..., then `done` (or
    `error`) carrying the finished page. Input refused before anything runs: the page,
    with its 4xx status."""
    answers: AnswersService = request.app.state.answers
    try:
        body = form.request()
        options = options_of(answers.settings, body)
    except (SymoeError, BackendError) as exc:
        return _page(request, who, form, _status(exc), error=str(exc))

    def finished(trace: Trace) -> str:
        return bytes(_trace_page(request, who, form, trace, planned).body).decode()

    def failed(exc: Exception) -> str:
        page = _page(request, who, form, _status(exc), error=str(exc))
        return bytes(page.body).decode()

    return EventSourceResponse(run_live(_answering(request), body, options, finished, failed))
