"""The header that tells a client whether the trace of its answer was stored before the
response (SYMOE_TRACE_DURABILITY=commit) or is committed moments after it (background:
lost if the server process dies first)."""

from __future__ import annotations

from orchestrator.settings import Settings

TRACE_STORED_HEADER = "Symoe-Trace-Stored"


def trace_stored(settings: Settings) -> dict[str, str]:
    return {TRACE_STORED_HEADER: "true" if settings.trace_durability == "commit" else "false"}
