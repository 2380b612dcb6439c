"""bench/api_load.py end to end at a tiny size: in process and through a real `symoe serve`,
with the overhead and the HTTP floor measured over bench/raw_http.py's socket client; and
that client against a real HTTP/1.1 server (keep-alive, status, body)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.bench_support import REPO, run_bench

sys.path.insert(0, str(REPO / "bench"))

from raw_http import RawClient, RawHttpError


@pytest.mark.embeddings  # the server's tagger is the embedding tagger
def test_api_load_measures_the_overhead_with_the_socket_client(tmp_path: Path) -> None:
    out = tmp_path / "api_load.json"
    args = ["--concurrency", "2", "--requests", "16", "--endpoints", "answers"]
    run_bench("api_load.py", *args, "--out", str(out))
    record = json.loads(out.read_text())
    assert [(r["mode"], r["errors"]) for r in record["results"]] == [
        ("in-process", 0),
        ("api", 0),
    ]
    overhead = record["overhead"]["sqlite, /v1/answers"]
    assert overhead["api_p50_ms"] > overhead["pipeline_p50_ms"] > 0
    assert 0 < record["healthz_p50_ms"] < overhead["api_p50_ms"]


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        reply = json.dumps({"got": json.loads(body), "key": self.headers["X-Key"]}).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def do_GET(self) -> None:
        if self.path == "/chunked":  # no Content-Length: RawClient refuses it
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_raw_client_keeps_one_connection_for_several_requests(echo_url: str) -> None:
    with RawClient(echo_url, {"X-Key": "k1"}) as client:
        for i in range(3):
            status, body = client.post_json("/any", {"n": i, "text": "é"})
            assert status == 201
            assert json.loads(body) == {"got": {"n": i, "text": "é"}, "key": "k1"}
            assert client.get("/") == (200, b"ok")
        with pytest.raises(RawHttpError, match="without Content-Length"):
            client.get("/chunked")
