"""`symoe serve --workers N` (N > 1): N API processes on one listening socket, as uvicorn's
own multiprocess supervisor runs them, but each child is our GracefulServer, so the bounded
stop holds in every process.

The parent binds the socket once, migrates the database and syncs experts.yaml once (so the
children's start-ups find the schema at head and race on nothing), then starts the children
with the "spawn" start method; each builds `create_app(Settings())` and serves the inherited
socket, and the kernel hands each new connection to one of them. The parent forwards
SIGTERM/SIGINT (as SIGTERM) to the children, waits for them for the grace period and a few
seconds (then kills), and restarts a child that dies while serving. Children that keep dying
before they are up (`MAX_START_FAILURES` in a row) end the supervisor with exit code 3,
uvicorn's start-up failure code, since the next start would fail the same way.

State the processes share goes through the database (keys and their revocations, jobs and
their leases, experts and profile sets, which each process follows within api_follow_s) or
Redis (the rate limit, with api_rate_limit_store=redis); what each process keeps to itself:
/metrics, micro-batching (merged again at a threads-pool worker), loaded models."""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType

import uvicorn
from fastapi import FastAPI

from orchestrator.api.server import FORCE_EXIT_AFTER_S, GracefulServer, server_config
from orchestrator.settings import Settings

log = logging.getLogger(__name__)

MAX_START_FAILURES = 3  # children in a row that die before serving: give up
STOP_SLACK_S = 2.0  # past a child's own last resort (grace + FORCE_EXIT_AFTER_S): kill it
POLL_S = 0.2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  # forwarded to the children as SIGTERM
PARENT_POLL_S = 0.5

_spawn = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class ChildOptions:
    host: str
    port: int
    log_level: str
    grace_s: float
    workers: int


# -- the child ----------------------------------------------------------------------------------


class _ChildServer(GracefulServer):
    """Says when it is up (`ready`), so the parent tells a start-up failure from a crash."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, grace_s: float, ready: Event):
        super().__init__(config, app, grace_s)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self._ready.set()


def _stop_with_parent(parent_pid: int) -> None:
    """A child whose parent died (SIGKILL) stops as if told to, so none outlives it."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)


def _exit_quietly(sig: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def child_main(sock: socket.socket, options: ChildOptions, ready: Event, parent_pid: int) -> None:
    """One API process (the spawned child's entry point)."""
    from orchestrator.api.app import create_app

    logging.basicConfig(
        level=options.log_level.upper(), format="%(levelname)s %(name)s: %(message)s"
    )
    threading.Thread(target=_stop_with_parent, args=(parent_pid,), daemon=True).start()
    settings = Settings(api_workers=options.workers)
    app = create_app(settings)
    config = server_config(app, options.host, options.port, options.log_level, options.grace_s)
    server = _ChildServer(config, app, options.grace_s, ready)
    # uvicorn raises the stop signal again once it has stopped, under the handlers it found:
    # exit 0 then (an orderly stop) instead of dying by the signal
    signal.signal(signal.SIGTERM, _exit_quietly)
    signal.signal(signal.SIGINT, _exit_quietly)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(3)


# -- the parent ---------------------------------------------------------------------------------


@dataclass
class Child:
    """A started API process; `ready` is set once it serves."""

    process: SpawnProcess
    ready: Event

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid


def prepare(settings: Settings) -> None:
    """What every child's start-up would otherwise race on, done once: migrate the database,
    sync experts.yaml, make the dashboard's signing secret."""
    from orchestrator.api.dashboard.session import load_secret
    from orchestrator.factory import Deployment

    deployment = Deployment(settings)
    try:
        stores = deployment.stores
        stores.sessions.kw["bind"].dispose()  # the children open their own connections
    finally:
        deployment.close()
    load_secret(settings.data_dir)


class Supervisor:
    def __init__(self, sock: socket.socket, options: ChildOptions) -> None:
        self.sock = sock
        self.options = options
        self.children: list[Child] = []
        self._stop_signal: int | None = None

    def _start_child(self) -> Child:
        ready = _spawn.Event()
        process = _spawn.Process(
            target=child_main,
            args=(self.sock, self.options, ready, os.getpid()),
            name="symoe-api",
        )
        process.start()
        return Child(process, ready)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        if self._stop_signal is None:
            self._stop_signal = sig

    def run(self) -> int:
        """Serve until a stop signal (0) or children that keep failing at start-up (3)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            return self._run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(self) -> int:
        self.children = [self._start_child() for _ in range(self.options.workers)]
        failures = 0  # children in a row that died before serving
        while self._stop_signal is None:
            wait([c.process.sentinel for c in self.children], timeout=POLL_S)
            for i, child in enumerate(self.children):
                if child.process.is_alive() or self._stop_signal is not None:
                    continue
                child.process.join()
                if child.ready.is_set():
                    failures = 0
                    log.error(
                        "API process %d exited (code %s) while serving; starting another",
                        child.pid,
                        child.process.exitcode,
                    )
                else:
                    failures += 1
                    if failures >= MAX_START_FAILURES:
                        log.error(
                            "API processes failed to start %d times in a row (the last: %d, "
                            "code %s; its log says why); stopping",
                            failures,
                            child.pid,
                            child.process.exitcode,
                        )
                        self.stop()
                        return 3
                    log.error(
                        "API process %d exited (code %s) before serving; starting another",
                        child.pid,
                        child.process.exitcode,
                    )
                self.children[i] = self._start_child()
        log.info("stopping %d API processes", len(self.children))
        self.stop()
        return 0

    def stop(self) -> None:
        """SIGTERM to every child, then wait as long as a child's own bounded stop may take
        (grace + FORCE_EXIT_AFTER_S) and a little more; kill any still there."""
        for child in self.children:
            if child.process.is_alive():
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.options.grace_s + FORCE_EXIT_AFTER_S + STOP_SLACK_S
        for child in self.children:
            child.process.join(max(0.0, deadline - time.monotonic()))
        for child in self.children:
            if child.process.is_alive():
                log.error("API process %d did not stop in time; killing it", child.pid)
                child.process.kill()
                child.process.join()


def serve_processes(settings: Settings, host: str, port: int, log_level: str) -> int:
    """Run `settings.api_workers` API processes on host:port; the exit code."""
    workers = settings.api_workers
    prepare(settings)
    if settings.api_rate_limit_store == "memory" and settings.api_rate_limit_per_minute > 0:
        share = math.ceil(settings.api_rate_limit_per_minute / workers)
        log.warning(
            "rate limit: the memory store counts in each of the %d processes, so each allows "
            "%d of a key's %d requests per minute (approximate); "
            "SYMOE_API_RATE_LIMIT_STORE=redis shares one budget",
            workers,
            share,
            settings.api_rate_limit_per_minute,
        )
    grace_s = settings.api_shutdown_grace_s
    # app: a placeholder, this config only binds the socket (bind_socket exits 3 on failure)
    config = server_config("orchestrator.api.app:create_app", host, port, log_level, grace_s)
    sock = config.bind_socket()
    try:
        shown_host = f"[{host}]" if ":" in host else host
        log.info(
            "serving on http://%s:%d with %d processes",
            shown_host,
            sock.getsockname()[1],
            workers,
        )
        options = ChildOptions(host, port, log_level, grace_s, workers)
        return Supervisor(sock, options).run()
    finally:
        sock.close()
