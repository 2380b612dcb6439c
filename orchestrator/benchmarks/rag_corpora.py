"""The retrieval QA sets' passages as documents for the document store (`symoe docs
add-corpus NAME`), and which documents hold each question's evidence, so retrieval recall can
be measured against the store's sources.

Sources are namespaced by set (`hotpotqa:<title>`, `pubmedqa:<PMID>`, `boolq:<title>#<n>`):
the store replaces a document by its source, so two sets' Wikipedia titles must not collide.

- hotpotqa: every paragraph of the 1,100 questions (2 gold + 8 distractors each) as one
  corpus, one document per title (the first text seen wins: two titles recur with slightly
  different text); text is the title, a newline, then the sentences joined. Gold: the
  supporting_facts titles.
- pubmedqa: one document per PMID, its abstract's sections joined (LABEL: text). Gold: the
  question's own PMID.
- boolq: one document per distinct passage ("Title -- paragraph"), numbered per title in file
  order. Gold: the question's passage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from orchestrator.benchmarks.base import at
from orchestrator.benchmarks.rag_data import boolq_rows, hotpot_rows, pubmed_records
from orchestrator.retrieval.readers import SourceText

CORPORA = ("hotpotqa", "pubmedqa", "boolq")


def hotpot_documents(root: Path) -> Iterator[SourceText]:
    seen: set[str] = set()
    for where, row in hotpot_rows(root):
        with at(where):
            context = row["context"]
            pairs = list(zip(context["title"], context["sentences"], strict=True))
        for title, sentences in pairs:
            if title in seen:
                continue
            seen.add(title)
            text = f"{title}\n{''.join(sentences).strip()}"
            metadata = {"type": "hotpotqa", "title": title}
            yield SourceText(f"hotpotqa:{title}", text, metadata)


def hotpot_gold(root: Path) -> dict[str, list[str]]:
    """Item id (`hotpotqa-<id>`) -> its supporting paragraphs' sources, in first-cited order."""
    gold = {}
    for where, row in hotpot_rows(root):
        with at(where):
            titles = dict.fromkeys(str(t) for t in row["supporting_facts"]["title"])
            gold[f"hotpotqa-{row['id']}"] = [f"hotpotqa:{t}" for t in titles]
    return gold


def pubmed_documents(root: Path) -> Iterator[SourceText]:
    for pmid, record in pubmed_records(root).items():
        with at(f"pubmedqa PMID {pmid}"):
            contexts = [str(c).strip() for c in record["CONTEXTS"]]
            labels = [str(label) for label in record.get("LABELS") or []]
        if len(labels) == len(contexts):
            sections = [f"{label}: {c}" for label, c in zip(labels, contexts, strict=True)]
        else:  # no section names to pair with: the text alone
            sections = contexts
        metadata = {"type": "pubmedqa", "pmid": pmid, "year": str(record.get("YEAR") or "")}
        yield SourceText(f"pubmedqa:{pmid}", "\n".join(sections), metadata)


def pubmed_gold(root: Path) -> dict[str, list[str]]:
    """Item id (`pubmedqa-<PMID>`) -> its abstract's source."""
    return {f"pubmedqa-{pmid}": [f"pubmedqa:{pmid}"] for pmid in pubmed_records(root)}


def _boolq_sources(root: Path) -> Iterator[tuple[str, str, str, str]]:
    """(item id, source, title, passage) per question; a repeated passage keeps its source."""
    by_passage: dict[str, str] = {}
    per_title: dict[str, int] = {}
    for where, row in boolq_rows(root):
        with at(where):
            passage, idx = str(row["passage"]).strip(), int(row["idx"])
        title = passage.split(" -- ", 1)[0] if " -- " in passage else ""
        if passage not in by_passage:
            per_title[title] = per_title.get(title, 0) + 1
            by_passage[passage] = f"boolq:{title}#{per_title[title]}"
        yield f"boolq-{idx}", by_passage[passage], title, passage


def boolq_documents(root: Path) -> Iterator[SourceText]:
    seen: set[str] = set()
    for _, source, title, passage in _boolq_sources(root):
        if source not in seen:
            seen.add(source)
            yield SourceText(source, passage, {"type": "boolq", "title": title})


def boolq_gold(root: Path) -> dict[str, list[str]]:
    """Item id (`boolq-<idx>`) -> its passage's source."""
    return {item_id: [source] for item_id, source, _, _ in _boolq_sources(root)}


DOCUMENTS: dict[str, Callable[[Path], Iterator[SourceText]]] = {
    "hotpotqa": hotpot_documents,
    "pubmedqa": pubmed_documents,
    "boolq": boolq_documents,
}
GOLD: dict[str, Callable[[Path], dict[str, list[str]]]] = {
    "hotpotqa": hotpot_gold,
    "pubmedqa": pubmed_gold,
    "boolq": boolq_gold,
}


def corpus_documents(root: Path, name: str) -> Iterator[SourceText]:
    """The documents of corpus `name` (one of CORPORA) from the benchmarks root `root`."""
    return DOCUMENTS[name](root)


def gold_sources(root: Path, name: str) -> dict[str, list[str]]:
    """Benchmark item id -> the sources that hold its evidence, for recall@k."""
    return GOLD[name](root)
