"""uvicorn with a bounded stop: on SIGTERM (or Ctrl-C) the app's grace period starts at once
(ApiServices.begin_shutdown), uvicorn gives open connections the same grace period, and work
that cannot be interrupted (an in-process generation) does not hold the process longer than
`FORCE_EXIT_AFTER_S` past it: the process then exits as a killed one would, and its job is
taken over once its lease runs out."""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)

FORCE_EXIT_AFTER_S = 5.0


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI, grace_s: float) -> None:
        super().__init__(config)
        self.app = app
        self.grace_s = grace_s

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)
        if not first:
            return
        services = getattr(self.app.state, "services", None)  # absent before start-up ends
        if services is not None:
            services.begin_shutdown()
        last_resort = threading.Timer(self.grace_s + FORCE_EXIT_AFTER_S, self._force_exit)
        last_resort.daemon = True
        last_resort.start()

    def _force_exit(self) -> None:
        log.error(
            "still busy %.0fs after the stop signal (work that cannot be interrupted); exiting",
            self.grace_s + FORCE_EXIT_AFTER_S,
        )
        logging.shutdown()
        os._exit(1)


def server_config(
    app: FastAPI | str, host: str, port: int, log_level: str, grace_s: float
) -> uvicorn.Config:
    """uvicorn's settings for an API process (`app` may be a placeholder string where the
    config only binds the socket: the supervisor's)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        # whole seconds; one more than the grace, so a request the cancel ends can answer 503
        timeout_graceful_shutdown=math.ceil(grace_s) + 1,
    )


def run_server(app: FastAPI, host: str, port: int, log_level: str, grace_s: float) -> None:
    config = server_config(app, host, port, log_level, grace_s)
    server = GracefulServer(config, app, grace_s)
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's start-up failure code (the log says why)
