"""The retrieval benchmark's data (bench/retrieval.py): the real corpus from ../shared/data/rag,
the HotpotQA questions, and the stores filled through `DocumentStore.upsert` without
re-embedding (the 10k set's chunks past the ingested ones, and the 100k set's copies)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from orchestrator.db import DocumentStore
from orchestrator.retrieval.ingest import content_sha256
from orchestrator.retrieval.types import ChunkText

Vectors = npt.NDArray[np.float32]
BUNDLE_CHUNKS = 500  # chunks per synthetic document: one transaction each
PERTURBATION = 1e-3  # the reused embeddings' noise, before they are normalised again


@dataclass(frozen=True)
class Document:
    source: str
    text: str


def _hotpot_records(rag: Path) -> Iterator[dict[str, object]]:
    for name in ("rpt_train.jsonl", "rpt_dev.jsonl", "rpt_test.jsonl"):
        with (rag / "hotpotqa" / name).open(encoding="utf-8") as lines:
            yield from (json.loads(line) for line in lines if line.strip())


def read_corpus(rag: Path, seed: int) -> list[Document]:
    """Every distinct HotpotQA paragraph (title. sentences), BoolQ passage and PubMedQA
    abstract (its contexts joined), shuffled with `seed` so any prefix mixes the three."""
    documents: dict[str, Document] = {}
    for record in _hotpot_records(rag):
        context = record["context"]
        assert isinstance(context, dict)
        for title, sentences in zip(context["title"], context["sentences"], strict=True):
            source = f"hotpotqa/{title}"
            documents.setdefault(source, Document(source, f"{title}. {''.join(sentences)}"))
    seen_passages: set[str] = set()
    with (rag / "boolq" / "val.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["passage"] not in seen_passages:
                seen_passages.add(row["passage"])
                documents[f"boolq/{row['idx']}"] = Document(f"boolq/{row['idx']}", row["passage"])
    pubmed = json.loads((rag / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    for pmid, row in pubmed.items():
        documents[f"pubmedqa/{pmid}"] = Document(f"pubmedqa/{pmid}", " ".join(row["CONTEXTS"]))
    ordered = list(documents.values())
    random.Random(seed).shuffle(ordered)
    return ordered


def hotpot_questions(rag: Path, n: int) -> list[str]:
    """The first n questions of HotpotQA's rpt_test split (their paragraphs are in the corpus)."""
    with (rag / "hotpotqa" / "rpt_test.jsonl").open(encoding="utf-8") as lines:
        questions = [str(json.loads(line)["question"]) for line in lines if line.strip()]
    return questions[:n]


def write_jsonl(documents: list[Document], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for d in documents:
            out.write(json.dumps({"id": d.source, "text": d.text}) + "\n")


def perturbed(vectors: Vectors, seed: int) -> Vectors:
    """The same directions moved by a tiny deterministic noise and L2-normalised again."""
    rng = np.random.default_rng(seed)
    moved = vectors + PERTURBATION * rng.standard_normal(vectors.shape).astype(np.float32)
    normed: Vectors = (moved / np.linalg.norm(moved, axis=1, keepdims=True)).astype(np.float32)
    return normed


def fill_real_texts(
    store: DocumentStore,
    documents: list[tuple[Document, list[ChunkText]]],
    reused: Vectors,
    target: int,
) -> int:
    """Store documents (real text, real chunks) until the store holds `target` chunks, each
    chunk's embedding one of `reused` (the ingested chunks' real ones, in turn) perturbed;
    the last document's chunks are cut so the count is exact. The chunks stored."""
    have = store.revision()[1]
    added = 0
    for document, chunks in documents:
        if have + added >= target:
            break
        chunks = chunks[: target - have - added]
        rows = np.arange(added, added + len(chunks)) % len(reused)
        vectors = perturbed(reused[rows], seed=added)
        metadata = {"synthetic_embedding": True}
        store.upsert(document.source, chunks, vectors, metadata, content_sha256(document.text))
        added += len(chunks)
    return added


def fill_copies(source: DocumentStore, target: DocumentStore, size: int) -> int:
    """`target` gets copies of every chunk of `source` until it holds `size` chunks: copy 0
    as it is, copy c >= 1 with the text suffix ` copy<c>` (BM25 sees distinct documents) and
    the embedding perturbed with seed c; in documents of BUNDLE_CHUNKS chunks. Nothing is
    embedded. The number of copies begun."""
    ids = sorted(source.chunk_ids())
    chunks = source.chunks(ids)
    vectors = source.embeddings(ids)
    stored, copy = 0, 0
    while stored < size:
        suffix = f" copy{copy}" if copy else ""
        copy_vectors = perturbed(vectors, seed=copy) if copy else vectors
        for start in range(0, len(chunks), BUNDLE_CHUNKS):
            part = chunks[start : start + BUNDLE_CHUNKS][: size - stored]
            if not part:
                break
            texts = [
                ChunkText(text=c.text + suffix, tokens=c.tokens, start=0, end=len(c.text + suffix))
                for c in part
            ]
            body = "".join(t.text for t in texts)
            source_name = f"synthetic/copy{copy}/part{start // BUNDLE_CHUNKS}"
            rows = copy_vectors[start : start + len(part)]
            target.upsert(source_name, texts, rows, {"copy": copy}, content_sha256(body))
            stored += len(part)
        copy += 1
    return copy
