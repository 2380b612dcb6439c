"""What changed between two profile sets, for /admin/profiles/compare: experts and skills
added and removed, each expert's accuracy and global competence before and after, and every
(skill, expert) cell whose score or count changed, largest score change first (a cell only
one set has counts as a change from or to zero), 50 a page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from orchestrator.api.dashboard.profiles_view import PAGE_SIZE, colour, ink
from orchestrator.errors import InputError
from skills.profiles import ProfileSet, SkillScore

Kind = Literal["added", "removed", "changed"]
KINDS = ("added", "removed", "changed")


@dataclass(frozen=True)
class CellChange:
    skill: str
    expert: str
    kind: Kind
    before: SkillScore | None
    after: SkillScore | None
    delta: int  # the score's change (a missing cell counts as 0)
    count_delta: int
    background: str = ""
    color: str = ""


@dataclass(frozen=True)
class ExpertChange:
    name: str
    kind: Kind | Literal["same"]
    accuracy: tuple[float | None, float | None]
    competence: tuple[float | None, float | None]
    skills: tuple[int, int]

    @property
    def competence_delta(self) -> float:
        before, after = self.competence
        return (after or 0.0) - (before or 0.0)


@dataclass(frozen=True)
class Comparison:
    a: ProfileSet
    b: ProfileSet
    experts: list[ExpertChange]
    skills_added: list[str]
    skills_removed: list[str]
    changes: list[CellChange]  # this page's
    changed: int  # cells that changed (after the filters)
    unchanged: int  # cells both sets hold with the same score and count
    page: int
    pages: int


def compare(a: ProfileSet, b: ProfileSet, text: str, kind: str, page: int) -> Comparison:
    if kind and kind not in KINDS:
        raise InputError(f"kind: one of {', '.join(KINDS)} (or empty for all)", "kind")
    cells, unchanged = _cell_changes(a, b)
    scale = max((abs(c.delta) for c in cells), default=0)
    wanted = text.strip().lower()
    kept = [
        c
        for c in cells
        if (not wanted or wanted in c.skill.lower()) and (not kind or c.kind == kind)
    ]
    kept.sort(key=lambda c: (-abs(c.delta), -abs(c.count_delta), c.skill, c.expert))
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    if page > pages:
        raise InputError(f"page: {page} is past the last page ({pages})", "page")
    shown = [
        replace(c, background=colour(c.delta, scale), color=ink(c.delta, scale))
        for c in kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    ]
    skills_a, skills_b = set(a.skills()), set(b.skills())
    touched = {c.expert for c in cells}
    return Comparison(
        a=a,
        b=b,
        experts=_expert_changes(a, b, touched),
        skills_added=sorted(skills_b - skills_a),
        skills_removed=sorted(skills_a - skills_b),
        changes=shown,
        changed=len(kept),
        unchanged=unchanged,
        page=page,
        pages=pages,
    )


def _cell_changes(a: ProfileSet, b: ProfileSet) -> tuple[list[CellChange], int]:
    """Every cell that differs, and how many both sets hold unchanged (compared as plain
    tuples: 11,000 pydantic comparisons would take a visible fraction of a second)."""
    out = []
    unchanged = 0
    for expert in sorted({*a.experts, *b.experts}):
        before_all, after_all = a.experts.get(expert, {}), b.experts.get(expert, {})
        for skill in {*before_all, *after_all}:
            before, after = before_all.get(skill), after_all.get(skill)
            old = (before.score, before.count) if before is not None else None
            new = (after.score, after.count) if after is not None else None
            if old == new:
                unchanged += 1
                continue
            kind: Kind = "added" if old is None else "removed" if new is None else "changed"
            delta = (new[0] if new else 0) - (old[0] if old else 0)
            count_delta = (new[1] if new else 0) - (old[1] if old else 0)
            out.append(CellChange(skill, expert, kind, before, after, delta, count_delta))
    return out, unchanged


def _expert_changes(a: ProfileSet, b: ProfileSet, touched: set[str]) -> list[ExpertChange]:
    """`touched`: the experts with a changed cell."""
    ga, gb = a.global_competence(), b.global_competence()
    out = []
    for name in sorted({*a.experts, *b.experts}):
        kind: Kind | Literal["same"] = (
            "added"
            if name not in a.experts
            else "removed"
            if name not in b.experts
            else "changed"
            if name in touched or a.accuracy.get(name) != b.accuracy.get(name)
            else "same"
        )
        out.append(
            ExpertChange(
                name=name,
                kind=kind,
                accuracy=(a.accuracy.get(name), b.accuracy.get(name)),
                competence=(ga.get(name), gb.get(name)),
                skills=(len(a.experts.get(name, {})), len(b.experts.get(name, {}))),
            )
        )
    out.sort(key=lambda e: (-abs(e.competence_delta), e.name))
    return out
