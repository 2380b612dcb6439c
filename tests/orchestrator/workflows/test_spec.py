"""Workflow files are checked when they load: each mistake is refused with the file and the
field named, before any model loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.errors import ConfigError
from orchestrator.workflows.service import workflow_files
from orchestrator.workflows.spec import load_workflow, parse_workflow
from tests.orchestrator.workflows.scripted import workflow


def edited(change: str, old: str, new: str) -> str:
    text = workflow()
    assert old in text, f"{change}: {old!r} not in the workflow"
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("change", "old", "new", "message"),
    [
        ("unknown role", "  planner: {", "  plannr: {", "roles.plannr: .*unknown role"),
        (
            "unknown tool",
            "candidates: [echo]",
            "candidates: [echoo]",
            "unknown workflow tool 'echoo'",
        ),
        ("tool for another type", "types:\n    beep:", "types:\n    boop:", ""),
        (
            "unknown supervisor",
            "supervisors: [revisions]",
            "supervisors: [nope]",
            "unknown workflow supervisor 'nope'",
        ),
        ("unknown step kind", "kind: assemble", "kind: mix", "steps.2.kind"),
        (
            "unknown assembler",
            "assembler: collect",
            "assembler: blender",
            "unknown workflow assembler 'blender'",
        ),
        (
            "a cycle",
            "{name: plan, kind: plan}",
            "{name: plan, kind: plan, after: [assemble]}",
            "steps: a cycle",
        ),
        (
            "unknown dependency",
            "after: [make]",
            "after: [mak]",
            "steps.assemble.after: unknown step 'mak'",
        ),
        (
            "missing threshold",
            "thresholds: {quality: 0.65}",
            "thresholds: {}",
            "no threshold for 'quality'",
        ),
        ("missing schema", "  schema: ", "  shema: ", "subtasks.schema: Field required"),
        (
            "items not an array",
            "items: events",
            "items: evnts",
            "schema.properties.evnts must be an array",
        ),
        (
            "repeated candidate",
            "candidates: [echo]",
            "candidates: [echo, echo]",
            "candidates: a name repeats",
        ),
        ("plan step without planner", "roles:\n", "roles: {}\nunused:\n", "unused: Extra inputs"),
        (
            "threshold out of range",
            "{quality: 0.65}",
            "{quality: 1.5}",
            "thresholds: each must be in",
        ),
        ("not YAML", "name: beeps", "name: [beeps", "not valid YAML"),
    ],
)
def test_a_bad_workflow_file_is_refused_naming_the_field(
    change: str, old: str, new: str, message: str
) -> None:
    text = edited(change, old, new)
    with pytest.raises(ConfigError, match=f"^beeps.yaml: .*{message}" if message else "beeps.yaml"):
        parse_workflow(text, "beeps.yaml")


def test_a_tool_that_cannot_make_the_type_is_refused() -> None:
    text = workflow().replace("types:\n    beep:", "types:\n    boop:")
    with pytest.raises(ConfigError, match="tool 'echo' makes beep, not boop"):
        parse_workflow(text, "beeps.yaml")


def test_a_step_of_a_kind_needs_its_role() -> None:
    raw = yaml.safe_load(workflow())
    raw["steps"].append({"name": "judge", "kind": "judge", "after": ["plan"]})
    with pytest.raises(ConfigError, match=r"steps\.judge: a judge step needs roles\.judge"):
        parse_workflow(yaml.safe_dump(raw), "beeps.yaml")


def test_steps_run_in_dependency_order_and_the_file_hash_is_kept(tmp_path: Path) -> None:
    raw = yaml.safe_load(workflow())
    raw["steps"].reverse()  # assemble, make, plan: order comes from `after`
    path = tmp_path / "beeps.yaml"
    path.write_text(yaml.safe_dump(raw))
    spec, sha = load_workflow(path)
    assert [s.name for s in spec.order()] == ["plan", "make", "assemble"]
    assert len(sha) == 64
    with pytest.raises(ConfigError, match="cannot read workflow"):
        load_workflow(tmp_path / "missing.yaml")


def test_the_built_in_workflows_load() -> None:
    files = workflow_files()
    assert files, "no built-in workflow"
    for path in files.values():
        spec, _ = load_workflow(path)
        assert spec.steps
