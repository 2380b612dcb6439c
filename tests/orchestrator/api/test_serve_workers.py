"""`symoe serve --workers 2` as a real process tree on the real Redis: two API processes share
one port, a key's rate limit (Redis store) and its revocation (the database) hold across
both, an expert disabled through one reaches the other within seconds (it follows the
database), and SIGTERM stops the supervisor and every child within the grace period.

Which process served a request is read from the kernel, not from the server: the test's
connection's server-side socket is found in /proc/net/tcp and then among the children's file
descriptors. Keep-alive connections then pin requests to a chosen process."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orchestrator.api.process import ServerProcess, start_server
from orchestrator.api.supervisor import Child, ChildOptions, Supervisor
from orchestrator.db.keys import KeyStore
from orchestrator.factory import Deployment
from orchestrator.settings import Settings
from tests.orchestrator.api.conftest import scripted_experts
from workers.process import wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc"),
]

PER_MINUTE = 5
GRACE_S = 2
WORKERS = ["--workers", "2"]


def _config(tmp: Path) -> dict[str, str]:
    experts_file = tmp / "experts.yaml"
    experts_file.write_text(yaml.safe_dump({"experts": scripted_experts(2)}))
    return {
        "data_dir": str(tmp / "home"),
        "experts_file": str(experts_file),
        "profile_file": "",
        "api_rate_limit_store": "redis",
        "api_redis_url": "redis://127.0.0.1:6379/2",
        "api_rate_limit_per_minute": str(PER_MINUTE),
        "api_shutdown_grace_s": str(GRACE_S),
    }


def _env(config: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SYMOE_")}
    env.update({f"SYMOE_{k.upper()}": v for k, v in config.items()})
    return env | {"HF_HUB_OFFLINE": "1"}


def _keys(config: dict[str, str]) -> KeyStore:
    """The server's key store, from this process (migrates the database first)."""
    settings = Settings(**{k: (None if v == "" else v) for k, v in config.items()})  # type: ignore[arg-type]
    return Deployment(settings).stores.keys


def _start(tmp: Path) -> tuple[ServerProcess, KeyStore]:
    config = _config(tmp)
    keys = _keys(config)
    log = tmp / "serve.log"
    return start_server(_env(config), log, log_level="info", extra_args=WORKERS), keys


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, KeyStore]]:
    served, keys = _start(tmp_path_factory.mktemp("workers"))
    yield served, keys
    served.stop()
    keys.close()


# -- which process serves a connection ---------------------------------------------------------


def _children(pid: int) -> list[int]:
    """The API processes the supervisor started (not multiprocessing's resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rpartition(")")[2].split()[1])
            if ppid == pid and b"spawn_main" in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
    return sorted(found)


def _two(pids: list[int]) -> list[int] | None:
    return pids if len(pids) == 2 else None


def _socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the server's end of the connection from `client_port`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (
                int(local.rpartition(":")[2], 16) == server_port
                and int(remote.rpartition(":")[2], 16) == client_port
            ):
                return fields[9]
    raise AssertionError(f"no server socket for the connection from port {client_port}")


def _serving_pid(conn: http.client.HTTPConnection, children: list[int]) -> int:
    assert conn.sock is not None
    target = f"socket:[{_socket_inode(conn.port, conn.sock.getsockname()[1])}]"
    for pid in children:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
    raise AssertionError(f"no child of {children} holds {target}")


def _connection_to_each(server: ServerProcess) -> dict[int, http.client.HTTPConnection]:
    """A keep-alive connection served by each API process (new connections until each has
    taken one: the kernel hands a connection to whichever process accepts first, and a
    process just started takes none until it is up)."""
    children = wait_for(lambda: _two(_children(server.proc.pid)), "two API processes", 30)
    port = int(server.url.rpartition(":")[2])
    found: dict[int, http.client.HTTPConnection] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        assert _request(conn, "GET", "/healthz") == 200
        pid = _serving_pid(conn, children)
        if pid in found:
            conn.close()
            time.sleep(0.01)
        else:
            found[pid] = conn
        if len(found) == len(children):
            return found
    raise AssertionError(f"every connection for 60s went to {list(found)} of {children}")


def _request(conn: http.client.HTTPConnection, method: str, path: str, key: str = "") -> int:
    conn.request(method, path, headers={"Authorization": f"Bearer {key}"} if key else {})
    response = conn.getresponse()
    response.read()
    return response.status


# -- the tests ---------------------------------------------------------------------------------


def test_requests_are_answered_by_two_processes(server: tuple[ServerProcess, KeyStore]) -> None:
    served, _ = server
    connections = _connection_to_each(served)
    assert len(connections) == 2 and served.proc.pid not in connections
    for conn in connections.values():
        conn.close()


def test_the_redis_rate_limit_holds_across_both_processes(
    server: tuple[ServerProcess, KeyStore],
) -> None:
    served, keys = server
    key = keys.create("burst", "user").key
    connections = list(_connection_to_each(served).values())
    # alternating: each process serves allowed requests and refused ones
    statuses = [
        _request(connections[i % 2], "GET", "/v1/models", key) for i in range(PER_MINUTE + 3)
    ]
    assert statuses == [200] * PER_MINUTE + [429] * 3
    for conn in connections:
        conn.close()


def test_a_revoked_key_is_refused_by_both_processes_at_once(
    server: tuple[ServerProcess, KeyStore],
) -> None:
    served, keys = server
    user, admin = keys.create("revoked", "user"), keys.create("admin", "admin")
    connections = list(_connection_to_each(served).values())
    assert [_request(c, "GET", "/v1/models", user.key) for c in connections] == [200, 200]
    path = f"/v1/admin/keys/{user.id}/revoke"
    assert _request(connections[0], "POST", path, admin.key) == 200  # revoked in one process
    assert [_request(c, "GET", "/v1/models", user.key) for c in connections] == [401, 401]
    for conn in connections:
        conn.close()


def _models(conn: http.client.HTTPConnection, keys: KeyStore) -> list[str]:
    """GET /v1/models on `conn` with a fresh key (each key's rate limit is tiny here)."""
    key = keys.create("models", "user").key
    conn.request("GET", "/v1/models", headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 200, body
    return [m["id"] for m in body["data"]]


def test_an_expert_disabled_in_one_process_is_gone_from_both_within_seconds(
    server: tuple[ServerProcess, KeyStore],
) -> None:
    served, keys = server
    admin = keys.create("admin", "admin").key
    connections = list(_connection_to_each(served).values())
    assert all("e0" in _models(c, keys) for c in connections)

    def listed_by_none() -> bool:
        return not any("e0" in _models(c, keys) for c in connections)

    def listed_by_both() -> bool:
        return all("e0" in _models(c, keys) for c in connections)

    for change, follows in (("disable", listed_by_none), ("enable", listed_by_both)):
        path = f"/v1/admin/experts/e0/{change}"
        assert _request(connections[0], "POST", path, admin) == 200  # in one process
        wait_for(follows, f"both processes to {change} e0", 3, interval_s=0.2)
    for conn in connections:
        conn.close()


def test_a_child_that_dies_is_replaced(server: tuple[ServerProcess, KeyStore]) -> None:
    served, _ = server
    before = _children(served.proc.pid)
    os.kill(before[0], signal.SIGKILL)
    after = wait_for(lambda: _replaced(served.proc.pid, before), "a new API process", 60)
    assert before[1] in after and before[0] not in after
    connections = _connection_to_each(served)  # and it serves
    assert sorted(connections) == sorted(after)
    for conn in connections.values():
        conn.close()
    assert f"API process {before[0]} exited (code -9) while serving" in served.log.read_text()


def _replaced(supervisor: int, before: list[int]) -> list[int] | None:
    now = _children(supervisor)
    return now if len(now) == 2 and now != before else None


def test_children_that_keep_failing_at_start_up_end_the_supervisor_with_code_3(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spawn = multiprocessing.get_context("spawn")

    def failing_child() -> Child:
        process = spawn.Process(target=sys.exit, args=(3,))  # dies before serving
        process.start()
        return Child(process, spawn.Event())

    with socket.socket() as sock:
        supervisor = Supervisor(sock, ChildOptions("127.0.0.1", 0, "warning", 0, workers=2))
        monkeypatch.setattr(supervisor, "_start_child", failing_child)
        with caplog.at_level(logging.ERROR, logger="orchestrator.api.supervisor"):
            assert supervisor.run() == 3
    assert "failed to start 3 times in a row" in caplog.text
    assert not any(c.process.is_alive() for c in supervisor.children)


def test_sigterm_stops_the_supervisor_and_every_child_in_the_grace_period(
    tmp_path: Path,
) -> None:
    served, keys = _start(tmp_path)
    try:
        key = keys.create("stop", "user").key
        connections = _connection_to_each(served)
        for conn in connections.values():
            assert _request(conn, "GET", "/v1/models", key) == 200
            conn.close()
        started = time.monotonic()
        served.proc.send_signal(signal.SIGTERM)  # the supervisor alone, as systemd or docker do
        returncode = served.proc.wait(timeout=GRACE_S + 10)
        took = time.monotonic() - started
        log = served.log.read_text()
        assert returncode == 0, log[-3000:]
        assert took < GRACE_S + 2, log[-3000:]  # nothing in flight: well inside the bound
        for pid in connections:  # the API processes are gone, not orphaned
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        # and nothing else of its process group (multiprocessing's resource tracker included)
        wait_for(lambda: not _group_alive(served.proc.pid), "the process group to end", 10)
    finally:
        served.stop(graceful=False)
        keys.close()
    assert "serving on http://127.0.0.1:" in log and "with 2 processes" in log


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
