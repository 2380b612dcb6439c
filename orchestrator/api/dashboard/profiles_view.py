"""The skills x experts heatmap of a profile set, shaped for /admin/profiles: one page of
skill rows (filtered by text, sorted, 50 a page) with each cell's signed score as a colour
on a diverging scale and its counts in the hover text, and each expert's global competence
and validation accuracy. Only the page's rows are built, so 22 experts x 500 skills stays
a few thousand cells of work at most."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from orchestrator.errors import InputError
from skills.profiles import ProfileSet, SkillScore

PAGE_SIZE = 50
MAX_VERSION = 2**31 - 1  # as /v1/admin's `version` query parameter
SORTS = ("skill", "known", "total")  # besides "expert:<name>"
# diverging scale (ColorBrewer RdBu ends): wrong answers red, right answers blue
NEGATIVE = (178, 24, 43)
NEUTRAL = (247, 247, 247)
POSITIVE = (33, 102, 172)


def colour(value: float, scale: float) -> str:
    """`value` on a diverging scale: -scale full red, 0 near white, +scale full blue."""
    share = 0.0 if scale <= 0 else min(1.0, abs(value) / scale)
    end = POSITIVE if value > 0 else NEGATIVE
    r, g, b = (round(n + (e - n) * share) for n, e in zip(NEUTRAL, end, strict=True))
    return f"rgb({r}, {g}, {b})"


def ink(value: float, scale: float) -> str:
    """Text that stays readable on `colour(value, scale)`."""
    return "#fff" if scale > 0 and abs(value) / scale > 0.55 else "#1d2330"


def parse_ref(text: str, what: str) -> tuple[str, int | None]:
    """`NAME`, `NAME@vN` or `NAME@N` -> (name, version or None for the newest)."""
    name, at, version = text.strip().rpartition("@")
    if not at:
        name = version
    if not name:
        raise InputError(f"{what}: give a profile set as NAME or NAME@vN", what)
    if not at:
        return name, None
    digits = version.removeprefix("v")
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_VERSION:
        raise InputError(
            f"{what}: the version must be a whole number from 1 to {MAX_VERSION}", what
        )
    return name, int(digits)


def parse_page(text: str | None) -> int:
    if text is None or text == "":
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise InputError("page: must be a whole number from 1", "page")
    return int(text)


@dataclass(frozen=True)
class Cell:
    score: SkillScore | None
    background: str
    color: str
    title: str


@dataclass(frozen=True)
class Row:
    skill: str
    known: int
    total: int
    cells: list[Cell]


@dataclass(frozen=True)
class ExpertColumn:
    name: str
    competence: float
    accuracy: float | None
    skills: int
    background: str
    color: str


@dataclass(frozen=True)
class Heatmap:
    label: str
    experts: list[ExpertColumn]
    rows: list[Row]
    matching: int  # skills that pass the filter
    skills: int  # skills in the set
    page: int
    pages: int
    scale: int
    sort: str
    direction: str

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def cell_title(skill: str, expert: str, s: SkillScore) -> str:
    right, wrong = (s.count + s.score) // 2, (s.count - s.score) // 2
    return (
        f"{skill} · {expert}: score {s.score:+d} over {s.count} answers "
        f"({right} right, {wrong} wrong)"
    )


def heatmap(ps: ProfileSet, text: str, sort: str, direction: str, page: int) -> Heatmap:
    """One page of `ps`'s heatmap; InputError for a sort, direction or page that does not
    exist (the message names the choices)."""
    names = sorted(ps.experts)
    by_skill: dict[str, dict[str, SkillScore]] = {}
    for expert, scores in ps.experts.items():
        for skill, s in scores.items():
            by_skill.setdefault(skill, {})[expert] = s
    scale = max((abs(s.score) for row in by_skill.values() for s in row.values()), default=0)
    wanted = text.strip().lower()
    skills = [s for s in by_skill if wanted in s.lower()] if wanted else list(by_skill)
    skills = _sorted(skills, by_skill, names, sort, direction)
    pages = max(1, -(-len(skills) // PAGE_SIZE))
    if page > pages:
        raise InputError(f"page: {page} is past the last page ({pages})", "page")
    shown = skills[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows = [_row(skill, by_skill[skill], names, scale) for skill in shown]
    competence = ps.global_competence()
    top = max((abs(v) for v in competence.values()), default=0.0)
    experts = [
        ExpertColumn(
            name=n,
            competence=competence[n],
            accuracy=ps.accuracy.get(n),
            skills=len(ps.experts[n]),
            background=colour(competence[n], top),
            color=ink(competence[n], top),
        )
        for n in names
    ]
    return Heatmap(
        label=ps.label,
        experts=experts,
        rows=rows,
        matching=len(skills),
        skills=len(by_skill),
        page=page,
        pages=pages,
        scale=scale,
        sort=sort,
        direction=direction,
    )


def _row(skill: str, scores: dict[str, SkillScore], names: list[str], scale: int) -> Row:
    cells = []
    for expert in names:
        s = scores.get(expert)
        if s is None:
            cells.append(Cell(None, "", "", f"{skill} · {expert}: no answers on this skill"))
        else:
            cells.append(
                Cell(s, colour(s.score, scale), ink(s.score, scale), cell_title(skill, expert, s))
            )
    return Row(skill, len(scores), sum(s.score for s in scores.values()), cells)


def _sorted(
    skills: list[str],
    by_skill: dict[str, dict[str, SkillScore]],
    names: list[str],
    sort: str,
    direction: str,
) -> list[str]:
    if direction not in ("asc", "desc"):
        raise InputError("dir: asc or desc", "dir")
    reverse = direction == "desc"
    if sort == "skill":
        return sorted(skills, reverse=reverse)
    if sort == "known":
        return sorted(sorted(skills), key=lambda s: len(by_skill[s]), reverse=reverse)
    if sort == "total":
        return sorted(
            sorted(skills),
            key=lambda s: sum(v.score for v in by_skill[s].values()),
            reverse=reverse,
        )
    expert = sort.removeprefix("expert:")
    if sort.startswith("expert:") and expert in names:
        # skills the expert never answered go last, whichever the direction
        known = sorted(
            (s for s in sorted(skills) if expert in by_skill[s]),
            key=lambda s: by_skill[s][expert].score,
            reverse=reverse,
        )
        return known + sorted(s for s in skills if expert not in by_skill[s])
    raise InputError(
        f"sort: unknown {sort!r} (choices: {', '.join(SORTS)}, or expert:NAME of an expert "
        "in the set)",
        "sort",
    )


def link(base: str, **params: str | int | None) -> str:
    """`base` with the non-empty `params` as its query string."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{base}?{urlencode(kept)}" if kept else base
