"""Retrieval end to end: a real `symoe serve` with the local llama.cpp experts. Two documents
go in through the admin API (one with a made-up fact no model can know), then /v1/answers
retrieves them: the trace's decision, the numbered passages, what the search cost, the
citations, and an expert prompt that carried the sources (more prompt tokens than the same
question with `retrieval: never`, for the same expert)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from orchestrator.api.process import create_key, running_server
from orchestrator.factory import Deployment
from orchestrator.retrieval.expert_rag_fit import FeatureInputs, fit_expert_rag
from orchestrator.retrieval.skr_fit import LabelledQuestion, LabelledSet
from orchestrator.settings import Settings
from orchestrator.trace import SkillTagging
from tests.conftest import shared_data_dir

pytestmark = [pytest.mark.llamacpp, pytest.mark.embeddings, pytest.mark.slow]

FESTIVAL = "The Zorblat festival is held in the town of Quenby every March."
TEA = "Green tea is made from the leaves of Camellia sinensis, steamed or pan-fired soon after."
QUESTION = "In which town is the Zorblat festival held?"
EXPERT = "smollm2-135m"  # one candidate, so both requests ask the same model


@dataclass
class Server:
    client: httpx.Client
    admin: dict[str, str]
    user: dict[str, str]
    data: Path


@pytest.fixture(scope="module")
def server(symoe_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("retrieval-home")
    for name in ("models", "cache"):  # the session's assembled models and embedding cache
        if (symoe_home / name).exists():
            (data / name).symlink_to(symoe_home / name, target_is_directory=True)
    env = {
        **os.environ,
        "SYMOE_DATA_DIR": str(data),
        "SYMOE_SHARED_DATA_DIR": str(shared_data_dir()),
        "HF_HUB_OFFLINE": "1",
    }
    admin, user = create_key(env, "admin", "admin"), create_key(env, "user", "user")
    with (
        running_server(env, data / "serve.log") as proc,
        httpx.Client(base_url=proc.url, timeout=300) as client,
    ):
        yield Server(
            client,
            admin={"Authorization": f"Bearer {admin}"},
            user={"Authorization": f"Bearer {user}"},
            data=data,
        )


def answer(server: Server, retrieval: str, question: str = QUESTION) -> dict[str, Any]:
    body = {
        "question": question,
        "retrieval": retrieval,
        "aggregation": "vote",
        "k": 1,
        "experts": [EXPERT],
        "max_tokens": 24,
    }
    response = server.client.post("/v1/answers", json=body, headers=server.user)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_answers_retrieve_the_documents_added_over_the_admin_api(server: Server) -> None:
    documents = [{"source": "festivals.txt", "text": FESTIVAL}, {"source": "tea.txt", "text": TEA}]
    added = server.client.post("/v1/admin/documents", json=documents, headers=server.admin)
    assert added.status_code == 200, added.text
    assert [d["outcome"] for d in added.json()["documents"]] == ["added", "added"]

    always = answer(server, "always")
    decision = always["trace"]["retrieval"]
    assert (decision["gate"], decision["retrieve"]) == ("always", True)
    passages = decision["passages"]
    assert [p["number"] for p in passages] == list(range(1, len(passages) + 1))
    assert {p["source"] for p in passages} == {"festivals.txt", "tea.txt"}  # only two stored
    assert (passages[0]["source"], passages[0]["text"]) == ("festivals.txt", FESTIVAL)
    assert decision["passage_tokens"] > 0 and decision["search_seconds"] > 0
    assert always["answer"].strip()
    # the answer's [n] that name a passage, as the passages the API returns (a small model
    # may cite none)
    assert all(c in passages for c in always["citations"])

    never = answer(server, "never")
    assert never["trace"]["retrieval"]["retrieve"] is False
    assert never["trace"]["retrieval"]["passages"] == [] and never["citations"] == []
    assert never["answer"].strip()

    def expert_prompt_tokens(result: dict[str, Any]) -> int:
        (call,) = [c for c in result["trace"]["calls"] if c["stage"] == "experts"]
        assert call["expert"] == EXPERT
        return int(call["prompt_tokens"])

    # The sources block went into the expert's prompt. passage_tokens counts the embedder's
    # tokens, not the expert's, so only a margin well inside it is certain.
    sources_tokens = expert_prompt_tokens(always) - expert_prompt_tokens(never)
    assert sources_tokens > decision["passage_tokens"] // 2


# expert_rag's labels: retrieval helped the questions the store answers, hurt unrelated ones
HELPED = [
    QUESTION,
    "Where does the Zorblat festival take place?",
    "Which town hosts the Zorblat festival every March?",
    "In what month is the Zorblat festival held in Quenby?",
    "What is Camellia sinensis used to make?",
    "How are green tea leaves processed after picking?",
]
HURT = [
    "How long should spaghetti be boiled?",
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What is two plus two?",
    "Who wrote Romeo and Juliet?",
    "What colour is the sky on a clear day?",
]


def test_expert_rag_decides_per_query_with_its_features_in_the_trace(server: Server) -> None:
    """A fitted expert_rag, stored in the server's database, gates each request that names it:
    it retrieves for the question the store answers and not for an unrelated one, and the
    decision carries p(retrieve) and the features."""
    documents = [{"source": "festivals.txt", "text": FESTIVAL}, {"source": "tea.txt", "text": TEA}]
    added = server.client.post("/v1/admin/documents", json=documents, headers=server.admin)
    assert added.status_code == 200, added.text
    dep = Deployment(Settings(data_dir=server.data))
    items = [LabelledQuestion(question=q, judgement="ir_better") for q in HELPED]
    items += [LabelledQuestion(question=q, judgement="ir_worse") for q in HURT]
    labelled = LabelledSet(source="constructed", sha256="0" * 64, items=items)
    inputs = FeatureInputs(
        embed=dep.embedder.encode,
        tag=lambda qs: [SkillTagging(method="none") for _ in qs],
        signals=dep.search_probe.signals,
        profile=dep.profile,
    )
    dep.stores.gate_artifacts.save(fit_expert_rag(labelled, inputs, 3, 0.0, 0), activate=True)

    inside = answer(server, "expert_rag")["trace"]["retrieval"]
    assert (inside["gate"], inside["retrieve"]) == ("expert_rag", True), inside["reasons"]
    assert inside["passages"][0]["source"] == "festivals.txt"
    assert inside["scores"]["p_retrieve"] >= 0.5 and inside["scores"]["dense_top"] > 0.5
    outside = answer(server, "expert_rag", "Which planet is the largest?")["trace"]["retrieval"]
    assert (outside["gate"], outside["retrieve"]) == ("expert_rag", False), outside["reasons"]
    assert outside["scores"]["p_retrieve"] < 0.5 and outside["passages"] == []
