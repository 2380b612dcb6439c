"""Text artifacts: a tool's text written under the run's artifact folder as `<sha256>.txt`
(so the same text made twice is stored once), and read back by supervisors and assemblers."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from orchestrator.workflows.types import Artifact, Attempt

MEDIA_TYPE = "text/plain"


def write_text_artifact(text: str, out_dir: Path, meta: dict[str, Any]) -> Artifact:
    data = text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    out_dir.mkdir(parents=True, exist_ok=True)
    # a temporary file of its own, then an atomic rename: parallel sub-tasks that write the
    # same text never see half a file or each other's temporary
    handle, temp_name = tempfile.mkstemp(suffix=".part", dir=out_dir)
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
        Path(temp_name).replace(out_dir / f"{digest}.txt")
    finally:
        Path(temp_name).unlink(missing_ok=True)
    return Artifact(path=f"{digest}.txt", sha256=digest, media_type=MEDIA_TYPE, meta=meta)


def attempt_text(attempt: Attempt, artifacts_dir: Path) -> str | None:
    """The text an attempt made: its artifact's file, else its `text`; None when it made
    none (a failed tool) or the file cannot be read."""
    if attempt.artifact is None:
        return attempt.text
    try:
        return (artifacts_dir / attempt.artifact.path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
