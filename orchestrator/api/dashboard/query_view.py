"""The query list's request: filters and page position read from the URL's parameters (bad
ones an InputError the page shows, never a 422 body) and the links that keep them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import get_args
from urllib.parse import urlencode

from orchestrator.db.query_log import Cursor, QueryFilter, QueryStatus
from orchestrator.errors import InputError

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_TEXT = 500  # characters of a text filter
MAX_NAME = 64  # an expert name's column width


def page_size(raw: str | None, default: int = PAGE_SIZE) -> int:
    """A `limit` parameter: a whole number from 1 to MAX_PAGE_SIZE."""
    if raw is None or raw == "":
        return default
    if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise InputError(f"limit: a whole number from 1 to {MAX_PAGE_SIZE}, not {raw[:20]!r}")
    return int(raw)


def _text(params: Mapping[str, str], name: str, most: int) -> str:
    value = params.get(name, "").strip()
    if len(value) > most:
        raise InputError(f"{name}: at most {most} characters")
    return value


@dataclass(frozen=True)
class ListRequest:
    where: QueryFilter
    limit: int = PAGE_SIZE
    before: Cursor | None = None
    after: Cursor | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ListRequest:
        status = params.get("status", "") or None
        if status is not None and status not in get_args(QueryStatus):
            raise InputError(f"status: one of {', '.join(get_args(QueryStatus))}, not {status!r}")
        where = QueryFilter(
            text=_text(params, "q", MAX_TEXT),
            expert=_text(params, "expert", MAX_NAME),
            status=status,  # type: ignore[arg-type]  # checked above
            error=_text(params, "error", MAX_TEXT),
        )
        before, after = params.get("before"), params.get("after")
        if before and after:
            raise InputError("give `before` or `after`, not both")
        return cls(
            where=where,
            limit=page_size(params.get("limit")),
            before=Cursor.decode(before) if before else None,
            after=Cursor.decode(after) if after else None,
        )

    @property
    def filtered(self) -> bool:
        w = self.where
        return bool(w.text or w.expert or w.status or w.error)

    def link(self, before: str | None = None, after: str | None = None) -> str:
        """This list's URL at another position (the first page without either)."""
        w = self.where
        params = {"q": w.text, "expert": w.expert, "status": w.status or "", "error": w.error}
        if self.limit != PAGE_SIZE:
            params["limit"] = str(self.limit)
        params |= {"before": before or "", "after": after or ""}
        query = urlencode({k: v for k, v in params.items() if v})
        return "/admin/queries" + (f"?{query}" if query else "")

    def first_page(self) -> ListRequest:
        return replace(self, before=None, after=None)
