"""`symoe serve` in a subprocess on a free loopback port, with a key made on the same
database: for local development, the API benchmark and the end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

SYMOE = [sys.executable, "-m", "orchestrator.cli.main"]
REPO = Path(__file__).resolve().parents[2]


class ServerStartError(RuntimeError):
    """The server exited or never answered /healthz; the message holds its log's tail."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def create_key(env: Mapping[str, str], role: str = "user", name: str = "default") -> str:
    """A new key via `symoe keys create` (so it lands in the database `env` points at)."""
    done = subprocess.run(
        [*SYMOE, "keys", "create", "--role", role, "--name", name, "--json"],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise ServerStartError(f"symoe keys create failed: {done.stderr.strip()}")
    return str(json.loads(done.stdout)["key"])


@dataclass
class ServerProcess:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self, graceful: bool = True) -> None:
        """Terminate (graceful: lets the server finish its shutdown) or kill it, then kill
        what is left of its process group (engine processes a backend started)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM if graceful else signal.SIGKILL)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def start_server(
    env: Mapping[str, str],
    log: Path,
    *,
    log_level: str = "warning",
    timeout_s: float = 180,
    extra_args: Sequence[str] = (),
) -> ServerProcess:
    """Start the server (`extra_args` go to `symoe serve`, e.g. ["--workers", "2"]) and return
    once /healthz answers."""
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*SYMOE, "serve", "--port", str(port), "--log-level", log_level, *extra_args],
            env=dict(env),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    server = ServerProcess(url=f"http://127.0.0.1:{port}", proc=proc, log=log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerStartError(
                f"symoe serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop(graceful=False)
    raise ServerStartError(f"symoe serve did not answer /healthz in {timeout_s:g}s")


@contextmanager
def running_server(
    env: Mapping[str, str], log: Path, *, graceful: bool = True, extra_args: Sequence[str] = ()
) -> Iterator[ServerProcess]:
    server = start_server(env, log, extra_args=extra_args)
    try:
        yield server
    finally:
        server.stop(graceful=graceful)
