"""The audio entries of the workflow registries load and declare what the engine checks."""

from __future__ import annotations

from orchestrator.workflows.audio.espeak import EspeakTool
from orchestrator.workflows.tools import SUPERVISORS, TOOLS, WorkflowContext


def test_tools_are_registered_with_the_types_they_make() -> None:
    handles = {name: TOOLS.get(name).handles for name in ("espeak", "numpy_sfx", "numpy_music")}
    assert handles == {"espeak": ("speech",), "numpy_sfx": ("sfx",), "numpy_music": ("music",)}
    tool = TOOLS.create("espeak", WorkflowContext())
    assert isinstance(tool, EspeakTool) and tool.binary == "espeak-ng"


def test_supervisors_are_registered_with_their_dimensions() -> None:
    dimensions = {
        name: SUPERVISORS.get(name).dimensions for name in ("duration", "loudness", "signal")
    }
    assert dimensions == {
        "duration": ("duration",),
        "loudness": ("loudness",),
        "signal": ("clipping", "silence"),
    }
    assert SUPERVISORS.create("signal", WorkflowContext()).name == "signal"
