"""Readers: the text of a file to ingest. Text and Markdown as they are, HTML's visible text
(beautifulsoup4), PDF's text layer (pypdf), and JSONL corpora, one document per line.

A file that cannot be ingested raises `ReadError` with the reason a person reads; a corpus
line that cannot be read is a `LineError` naming the file and line, and the other lines are
still read. Files are read one at a time, and a corpus line by line, so memory stays bounded
by the largest single file (or line)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".jsonl"}
_HIDDEN_TAGS = ("script", "style", "noscript", "template", "head")
_METADATA_VALUE_CHARS = 500  # corpus fields longer than this stay out of the metadata


class ReadError(Exception):
    """This file cannot be ingested; the message says why."""


@dataclass(frozen=True)
class SourceText:
    source: str  # the resolved path, or `<path>#<id>` for a corpus line
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineError:
    source: str  # `<path>:<line>`
    message: str


def _clean(text: str) -> str:
    # NUL cannot be stored in a PostgreSQL text column, and carries no meaning here.
    return text.replace("\x00", "")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ReadError("not UTF-8 text") from None


def _read_html(path: Path) -> tuple[str, dict[str, Any]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "html.parser")  # detects the encoding itself
    title = soup.title.get_text(strip=True) if soup.title else ""
    for tag in soup(list(_HIDDEN_TAGS)):
        tag.decompose()
    # A separator between elements, so "<p>a</p><p>b</p>" does not read as "ab".
    text = soup.get_text(separator="\n", strip=True)
    return text, ({"title": title} if title else {})


def _read_pdf(path: Path) -> tuple[str, dict[str, Any]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are about the file's bytes
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError("encrypted PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise ReadError(f"not a readable PDF ({exc})") from None
    if not any(page.strip() for page in pages):
        raise ReadError("no text layer (scanned?)")
    return "\n\n".join(pages), {"pages": len(pages)}


def read_file(path: Path) -> SourceText:
    """A text, Markdown, HTML or PDF file as one document."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES - {".jsonl"}:
        raise ReadError(
            f"unsupported file type {suffix or '(none)'!r} "
            f"(supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    metadata: dict[str, Any] = {"type": suffix.lstrip(".")}
    try:
        if suffix in HTML_SUFFIXES:
            text, extra = _read_html(path)
            metadata |= extra
        elif suffix == ".pdf":
            text, extra = _read_pdf(path)
            metadata |= extra
        else:
            text = _read_text(path)
    except OSError as exc:
        raise ReadError(f"unreadable ({exc.strerror or exc})") from None
    text = _clean(text)
    if not text.strip():
        raise ReadError("empty (no text)")
    return SourceText(source=str(path.resolve()), text=text, metadata=metadata)


def _corpus_line(
    path: Path, number: int, line: str, text_field: str, id_field: str | None
) -> SourceText | LineError:
    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return LineError(where, f"not valid JSON ({exc.msg})")
    if not isinstance(record, dict):
        return LineError(where, "not a JSON object")
    text = record.get(text_field)
    if not isinstance(text, str):
        missing = text_field not in record
        return LineError(
            where, f"no {text_field!r} field" if missing else f"{text_field!r} is not a string"
        )
    if not text.strip():
        return LineError(where, f"empty {text_field!r}")
    if id_field is None:
        record_id = str(number)
    elif id_field not in record or record[id_field] in (None, ""):
        return LineError(where, f"no {id_field!r} field")
    else:
        record_id = str(record[id_field])
    fields = {
        key: value
        for key, value in record.items()
        if key != text_field
        and isinstance(value, str | int | float | bool)
        and len(str(value)) <= _METADATA_VALUE_CHARS
    }
    metadata = {"type": "jsonl", "file": str(path.resolve()), "line": number, "fields": fields}
    return SourceText(f"{path.resolve()}#{record_id}", _clean(text), metadata)


def read_corpus(
    path: Path, text_field: str = "text", id_field: str | None = None
) -> Iterator[SourceText | LineError]:
    """A JSONL corpus, one document per line (source `<file>#<id>`; without `id_field` the
    id is the line number). Blank lines are skipped."""
    try:
        with path.open(encoding="utf-8-sig") as lines:
            for number, line in enumerate(lines, start=1):
                if line.strip():
                    yield _corpus_line(path, number, line, text_field, id_field)
    except UnicodeDecodeError:
        raise ReadError("not UTF-8 text") from None
    except OSError as exc:
        raise ReadError(f"unreadable ({exc.strerror or exc})") from None
