"""What /admin/playground does besides rendering: the form's fields checked as a POST
/v1/answers body would be (the same `AnswerRequest` model, then the server's budgets through
`api_batch_options`, i.e. orchestrator/options.py), a plan made by the answering service's
own planner without executing it (nothing is stored, no expert runs), and plans and traces
shaped for the page (skills, per-expert competence, suitability, weight and draws, the
retrieval decision)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pydantic import ValidationError

from orchestrator.answering import AnsweringService
from orchestrator.api.answers.schemas import AnswerRequest
from orchestrator.api.answers.service import api_batch_options
from orchestrator.api.dashboard.form_errors import first_error
from orchestrator.api.dashboard.profiles_view import colour, ink
from orchestrator.errors import InputError
from orchestrator.plan import BatchOptions, Plan, Query
from orchestrator.settings import Settings
from orchestrator.trace import Recruitment, RetrievalDecision, SkillTagging
from skills.profiles import ProfileSet

OPTION_FIELDS = ("k", "aggregation", "retrieval", "aggregator", "max_tokens")


@dataclass
class PlaygroundForm:
    """The form as typed (kept to fill the form again); empty fields take the server's."""

    question: str = ""
    k: str = ""
    aggregation: str = ""
    retrieval: str = ""
    aggregator: str = ""
    max_tokens: str = ""
    experts: list[str] = field(default_factory=list)

    def request(self) -> AnswerRequest:
        """The body POST /v1/answers would get; InputError naming the field otherwise."""
        if not self.question.strip():
            raise InputError("question: must not be blank", "question")
        data: dict[str, object] = {"question": self.question}
        data |= {name: getattr(self, name).strip() for name in OPTION_FIELDS}
        data = {k: v for k, v in data.items() if v != ""}
        if self.experts:
            data["experts"] = self.experts
        try:
            return AnswerRequest.model_validate(data)
        except ValidationError as exc:
            where, message = first_error(exc, "request")
            message = message.removeprefix("Value error, ")
            raise InputError(f"{where}: {message}", where) from None


def options_of(settings: Settings, body: AnswerRequest) -> BatchOptions:
    """The batch options the API would use: server defaults, refused over its budgets."""
    return api_batch_options(settings, body)


def preview(answering: AnsweringService, body: AnswerRequest, options: BatchOptions) -> Plan:
    """The plan POST /v1/answers would execute for `body`: tagging, the retrieval gate (and
    its search), recruitment and the aggregator, by the same planner; nothing is executed or
    stored. The draw is seeded by the question, so running it draws the same experts while
    the registry and the profile set stay as they are. An `llm` tagger does call its
    tagging model here (the plan needs the skills)."""
    stages = answering.executor.new_stages()
    query = Query(text=body.question)
    return answering.planner.plan([query], options, stages)[0]


@dataclass(frozen=True)
class ExpertLine:
    name: str
    competence: float | None
    suitability: float | None
    weight: float | None
    drawn: int


@dataclass(frozen=True)
class SkillCell:
    score: int | None
    background: str
    color: str
    title: str


@dataclass(frozen=True)
class PlanView:
    """A plan or a finished trace's plan part, as the page shows it."""

    skills: list[tuple[str, float | None]]  # (skill, the tagger's similarity)
    tagger: str
    tagging_notes: list[str]
    experts: list[ExpertLine]
    drawn: list[str]
    recruiter: str
    profile_set: str | None
    notes: list[str]
    aggregation: str
    aggregator: str | None
    retrieval: RetrievalDecision
    # the profile's score of each drawn or weighted expert on each of the query's skills
    score_rows: list[tuple[str, list[SkillCell]]]
    score_experts: list[str]


def plan_view(
    tagging: SkillTagging,
    recruitment: Recruitment,
    retrieval: RetrievalDecision,
    profile: ProfileSet | None,
) -> PlanView:
    drawn = Counter(recruitment.drawn)
    # weighted experts heaviest first, then the rest of the candidates the recruiter scored
    weighted = sorted(recruitment.weights, key=lambda m: -recruitment.weights[m])
    names = list(
        dict.fromkeys(
            [*weighted, *drawn, *recruitment.local_suitability, *recruitment.global_competence]
        )
    )
    experts = [
        ExpertLine(
            name=m,
            competence=recruitment.global_competence.get(m),
            suitability=recruitment.local_suitability.get(m),
            weight=recruitment.weights.get(m),
            drawn=drawn[m],
        )
        for m in names
    ]
    return PlanView(
        skills=[(s, tagging.similarities.get(s)) for s in tagging.skills],
        tagger=tagging.method,
        tagging_notes=tagging.notes,
        experts=experts,
        drawn=recruitment.drawn,
        recruiter=recruitment.recruiter,
        profile_set=recruitment.profile_set,
        notes=recruitment.notes,
        aggregation=recruitment.aggregation,
        aggregator=recruitment.aggregator,
        retrieval=retrieval,
        score_rows=_score_rows(tagging.skills, names, profile),
        score_experts=names if profile is not None else [],
    )


def _score_rows(
    skills: list[str], experts: list[str], profile: ProfileSet | None
) -> list[tuple[str, list[SkillCell]]]:
    """Why the weights are what they are: each skill's profile score per expert."""
    if profile is None or not skills:
        return []
    scale = max(
        (abs(profile.experts.get(m, {})[s].score) for m in experts for s in skills
         if s in profile.experts.get(m, {})),
        default=0,
    )  # fmt: skip
    rows = []
    for skill in skills:
        cells = []
        for m in experts:
            s = profile.experts.get(m, {}).get(skill)
            if s is None:
                cells.append(SkillCell(None, "", "", f"{skill} · {m}: no answers on this skill"))
            else:
                title = f"{skill} · {m}: score {s.score:+d} over {s.count} answers"
                cells.append(SkillCell(s.score, colour(s.score, scale), ink(s.score, scale), title))
        rows.append((skill, cells))
    return rows
