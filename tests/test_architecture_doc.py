"""docs/architecture.md names only things that exist: every identifier and path it quotes
in backticks (outside the section on features not built yet) is found in the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
CODE = ("orchestrator", "workers", "skills", "migrations", "bench", "scripts")
PLANNED = "## Where planned features plug in"


def _code_words() -> set[str]:
    words: set[str] = set()
    files = [p for d in CODE for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".yaml"}]
    files += [ROOT / "pyproject.toml", ROOT / "compose.yaml", ROOT / ".ci" / "run"]
    for path in files:
        words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", path.read_text()))
    return words


def _quoted(text: str) -> list[str]:
    text = re.sub(r"```.*?```", "", text, flags=re.S)  # the diagram is checked below
    return re.findall(r"`([^`\n]+)`", text)


def test_every_quoted_name_exists_in_the_code() -> None:
    text = DOC.read_text()
    built, _, _ = text.partition(PLANNED)
    words = _code_words()
    missing = set()
    for quoted in _quoted(built):
        if quoted.startswith("SYMOE_") or quoted.endswith("*"):  # settings, a prefix
            continue
        if re.fullmatch(r"\d{4}_\w+", quoted):  # a migration
            assert list((ROOT / "migrations" / "versions").glob(f"{quoted}.py")), quoted
            continue
        for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", quoted):
            if name not in words:
                missing.add((quoted, name))
    assert not missing, f"docs/architecture.md names what the code does not have: {missing}"


def test_every_path_it_names_exists() -> None:
    text = DOC.read_text().partition(PLANNED)[0]
    paths = {q for q in _quoted(text) if re.fullmatch(r"[\w./-]+\.(py|md|toml|yaml)", q)}
    # a path is from the root or from a package; a bare file name ("each feature's
    # routes.py") must exist somewhere
    bases = ("", "orchestrator/", "orchestrator/api/", "orchestrator/db/", "workers/")
    missing = {
        p
        for p in paths
        if not any((ROOT / b / p).exists() for b in bases)
        and not ("/" not in p and any(ROOT.glob(f"*/**/{p}")))
    }
    assert not missing, f"paths in docs/architecture.md that do not exist: {missing}"


def test_the_diagram_names_real_things() -> None:
    (diagram,) = re.findall(r"```\n(.*?)```", DOC.read_text(), flags=re.S)
    words = _code_words()
    names = set(re.findall(r"\b[A-Z][a-z]+[A-Z][A-Za-z]+|\b[a-z]+_[a-z_]+\b", diagram))
    assert names and not names - words, names - words
