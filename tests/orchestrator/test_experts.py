"""experts.yaml is validated at the boundary: every problem is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import ConfigError, UnknownExpertError
from orchestrator.experts import Expert, load_experts
from orchestrator.settings import Settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "experts.yaml"
    path.write_text(text)
    return path


def test_the_shipped_defaults_load() -> None:
    registry = load_experts(Settings().experts_file)
    assert {e.name for e in registry.with_role("expert")} == {"smollm2-135m", "gemma3-270m"}
    assert registry.get("gemma3-270m").chat_format == "completion"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("experts: [\n  - name: a\n  backend: x", r"malformed experts file .*line \d+"),
        ("- just a list", "expected a mapping"),
        ("experts: []", "experts: List should have at least 1 item"),
        ("experts:\n  - {name: a, backend: magic, model: m}", "unknown backend 'magic'"),
        ("experts:\n  - {name: a, backend: scripted}", "experts.0.model: Field required"),
        ("experts:\n  - {name: a, backend: scripted, model: m, colour: red}", "colour"),
        (
            "experts:\n  - {name: a, backend: scripted, model: m}\n"
            "  - {name: a, backend: scripted, model: n}",
            "duplicate expert names: a",
        ),
        ("experts:\n  - {name: 'bad name!', backend: scripted, model: m}", "experts.0.name"),
    ],
)
def test_malformed_files_give_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_experts(_write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_missing_file_and_unknown_expert(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="experts file not found"):
        load_experts(tmp_path / "nope.yaml")
    registry = load_experts(
        _write(tmp_path, "experts:\n  - {name: a, backend: scripted, model: m}")
    )
    with pytest.raises(UnknownExpertError, match="unknown expert 'b' \\(known: a\\)"):
        registry.get("b")


def test_a_completion_format_expert_stops_at_the_next_few_shot_item() -> None:
    def expert(chat_format: str, stop: list[str]) -> Expert:
        return Expert.model_validate(
            {
                "name": f"e-{chat_format}",
                "backend": "scripted",
                "model": "m",
                "chat_format": chat_format,
                "generation": {"max_tokens": 50, "stop": stop},
            }
        )

    base = expert("completion", ["\n\n", "\nQuestion:"]).generation_params(200)
    assert base.stop == ["\n\n", "\nQuestion:", "\nQ:"]  # declared first, none twice
    assert base.max_tokens == 200
    chat = expert("chat", ["</s>"])
    assert chat.generation_params().stop == ["</s>"]
    assert chat.generation_params().max_tokens == 50
