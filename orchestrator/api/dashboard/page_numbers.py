"""Page numbers for the dashboard's server-side paginated lists (eval runs, documents,
chunks): `?page=N` read from the query string, checked, and turned into offset and limit."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.errors import InputError

PAGE_SIZE = 50


def parse_page(text: str | None) -> int:
    """`?page=` as a number from 1; anything else is an InputError the page shows."""
    if text is None or text == "":
        return 1
    if not text.isdigit() or int(text) < 1:
        raise InputError(f"page must be a whole number from 1, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Pager:
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None
