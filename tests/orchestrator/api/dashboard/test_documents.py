"""/admin/documents over the real all-MiniLM-L6-v2: an uploaded file is ingested (listed
with its chunk count, its chunks shown, found by the API's search), uploaded again unchanged,
filtered and paginated; bad uploads are told on the page; CSRF is needed; removal."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

import pytest
from fastapi.testclient import TestClient

from tests.minilm import minilm_or_skip
from tests.orchestrator.api.conftest import new_key
from tests.orchestrator.api.dashboard.support import log_in

pytestmark = pytest.mark.embeddings
ZORBLAT = "The Zorblat festival is held in the town of Quenby every March."
LONG = " ".join(
    f"Sentence {i} tells of the harbour of Quenby and its fishing boats." for i in range(120)
)


@pytest.fixture(autouse=True)
def _minilm() -> None:
    minilm_or_skip()


def upload(
    client: TestClient, token: str, name: str, data: bytes, source: str = ""
) -> tuple[int, str]:
    response = client.post(
        "/admin/documents",
        data={"csrf_token": token, "source": source},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )
    if response.status_code == 303:
        return 303, unquote_plus(response.headers["location"].split("done=", 1)[1])
    return response.status_code, response.text


def row(html: str, source: str) -> str:
    found = re.search(rf'<tr data-document="{re.escape(source)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {source!r}"
    return found.group(1)


def test_an_uploaded_file_is_listed_with_its_chunks(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    assert "No documents yet." in client.get("/admin/documents").text
    status, done = upload(client, token, "festival.md", f"# Festivals\n\n{ZORBLAT}\n".encode())
    assert status == 303 and done == "added festival.md (1 chunks)"
    status, done = upload(client, token, "harbour.txt", LONG.encode(), source="notes/harbour")
    assert status == 303 and done.startswith("added notes/harbour (")
    n_chunks = int(done.split("(")[1].split()[0])
    assert n_chunks > 1

    listing = client.get("/admin/documents").text
    assert "2 documents, " in listing
    festival = row(listing, "festival.md")
    assert ">md<" in festival and '<td class="num">1</td>' in festival
    harbour = row(listing, "notes/harbour")
    assert f'<td class="num">{n_chunks}</td>' in harbour
    doc_id = re.search(r'href="/admin/documents/(\d+)"', harbour)
    assert doc_id

    page = client.get(f"/admin/documents/{doc_id.group(1)}").text
    chunks = re.findall(r'<tr data-chunk="(\d+)">', page)
    assert chunks == [str(i) for i in range(n_chunks)]
    assert "Sentence 0 tells of the harbour" in page and "uploaded: harbour.txt" in page

    # the API's own search reads what the page stored
    admin = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
    hits = client.get("/v1/admin/documents/search", params={"q": "Zorblat", "k": 1}, headers=admin)
    assert hits.json()[0]["source"] == "festival.md"

    again = upload(client, token, "festival.md", f"# Festivals\n\n{ZORBLAT}\n".encode())
    assert again == (303, "unchanged festival.md: the same text is stored already")
    only = client.get("/admin/documents?q=harb").text
    assert "notes/harbour" in only and "festival.md" not in only
    assert "No document matches." in client.get("/admin/documents?q=%25").text  # % is literal


def test_bad_uploads_are_told_on_the_page(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    status, text = upload(client, token, "data.csv", b"a,b\n1,2\n")
    assert status == 400 and "unsupported file type &#39;.csv&#39;" in text
    status, text = upload(client, token, "latin.txt", "caf\xe9".encode("latin-1"))
    assert status == 400 and "latin.txt: not UTF-8 text" in text
    status, text = upload(client, token, "empty.md", b"   \n")
    assert status == 400 and "empty (no text)" in text
    status, text = upload(client, token, "x.txt", b"hello", source="s" * 2000)
    assert status == 400 and "source: String should have at most 1024 characters" in text
    too_big = client.app.state.services.settings.api_max_body_bytes + 1  # type: ignore[attr-defined]
    status, _ = upload(client, token, "big.txt", b"a" * too_big)
    assert status == 413
    refused = client.post(
        "/admin/documents", files={"file": ("x.txt", b"hello", "text/plain")}
    )  # no CSRF token
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert "No documents yet." in client.get("/admin/documents").text
    assert client.get("/admin/documents/999").status_code == 404
    assert client.get("/admin/documents/e0").status_code == 404
    assert client.get("/admin/documents?page=-1").status_code == 400


def test_a_document_is_removed_with_its_chunks(client: TestClient) -> None:
    token = log_in(client, new_key(client, "admin"))
    assert upload(client, token, "festival.md", ZORBLAT.encode())[0] == 303
    doc_id = re.search(r'href="/admin/documents/(\d+)"', client.get("/admin/documents").text)
    assert doc_id
    removed = client.post(
        f"/admin/documents/{doc_id.group(1)}/delete",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert unquote_plus(removed.headers["location"]).endswith("removed festival.md (1 chunks)")
    assert "No documents yet." in client.get("/admin/documents").text
    store = client.app.state.services.deployment.stores.documents  # type: ignore[attr-defined]
    assert store.revision()[1] == 0  # no chunk left
    again = client.post(f"/admin/documents/{doc_id.group(1)}/delete", data={"csrf_token": token})
    assert again.status_code == 404


def test_the_list_is_paginated_by_source(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    admin = {"Authorization": f"Bearer {new_key(client, 'admin')}"}
    docs = [{"source": f"doc-{i:02d}", "text": f"Fact number {i} about Quenby."} for i in range(55)]
    assert client.post("/v1/admin/documents", json=docs, headers=admin).status_code == 200
    first = client.get("/admin/documents").text
    assert re.findall(r'<tr data-document="([^"]+)">', first) == [f"doc-{i:02d}" for i in range(50)]
    assert "page 1 of 2 (55 in all)" in first and 'href="?page=2"' in first
    second = client.get("/admin/documents?page=2").text
    assert re.findall(r'<tr data-document="([^"]+)">', second) == [
        f"doc-{i:02d}" for i in range(50, 55)
    ]
    filtered = client.get("/admin/documents?q=doc-5").text
    assert re.findall(r'<tr data-document="([^"]+)">', filtered) == [f"doc-5{i}" for i in range(5)]
