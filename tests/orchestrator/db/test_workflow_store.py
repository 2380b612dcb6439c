"""WorkflowStore, on SQLite and (marked postgres) on PostgreSQL: the run lifecycle, a finished
step never started again, recovery after a real SIGKILL mid-run, attempts round-trip,
writes from 8 threads at once, candidate statistics per sub-task type, and migration 0008."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from orchestrator.db import Stores, migrate, session_factory
from orchestrator.db.engine import alembic_config
from orchestrator.db.workflows import INTERRUPTED, WorkflowStore
from orchestrator.errors import InputError
from orchestrator.workflows.routing import CandidateStats
from orchestrator.workflows.types import Artifact, Attempt, Score

REPO = Path(__file__).resolve().parents[3]
WORKFLOW_TABLES = {"workflow_runs", "workflow_steps", "workflow_attempts"}


@pytest.fixture
def store(stores: Stores) -> WorkflowStore:
    return stores.workflows


def attempt(task: str, candidate: str, number: int, value: float = 0.8) -> Attempt:
    return Attempt(
        task_id=task,
        candidate=candidate,
        number=number,
        instruction=f"make {task} with {candidate}",
        artifact=Artifact(
            path=f"{task}/{candidate}-{number}.wav",
            sha256="cd" * 32,
            media_type="audio/wav",
            meta={"seconds": 2.5, "sample_rate": 24000},
        ),
        text=None,
        scores=[
            Score(supervisor="duration", dimension="alignment", value=value, reason="2.5 s"),
            Score(supervisor="loudness", dimension="quality", value=1.0),
        ],
        seconds=0.125,
    )


def test_run_lifecycle(store: WorkflowStore) -> None:
    sent_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    run_id = store.create_run("soundscape", "ab" * 32, {"scene": "rain", "at": sent_at})
    assert len(run_id) == 32 and int(run_id, 16) >= 0
    run = store.get(run_id)
    assert (run.workflow, run.spec_sha256, run.status, run.error) == (
        "soundscape",
        "ab" * 32,
        "pending",
        None,
    )
    assert run.input == {"scene": "rain", "at": "2026-01-02T03:04:05Z"}  # JSON-safe
    assert run.created_at.tzinfo is UTC and run.finished_at is None
    assert run.steps == [] and run.attempts == []

    store.set_status(run_id, "running")
    store.start_step(run_id, "plan", "plan")
    store.finish_step(run_id, "plan", {"tasks": [{"id": "t1", "type": "speech"}]})
    store.start_step(run_id, "generate:t1", "generate")
    store.fail_step(run_id, "generate:t1", "espeak-ng timed out")
    failed = store.get(run_id).steps[1]
    assert (failed.status, failed.error, failed.output) == ("failed", "espeak-ng timed out", None)
    assert failed.finished_at is not None
    store.start_step(run_id, "generate:t1", "generate")  # a failed step runs again
    again = store.get(run_id).steps[1]
    assert (again.status, again.error, again.finished_at) == ("running", None, None)
    store.finish_step(run_id, "generate:t1", {"best": 1})
    store.start_step(run_id, "assemble", "assemble")
    assert store.done_steps(run_id) == {
        "plan": {"tasks": [{"id": "t1", "type": "speech"}]},
        "generate:t1": {"best": 1},
    }
    store.set_status(run_id, "succeeded")

    run = store.get(run_id)
    assert run.status == "succeeded" and run.finished_at is not None
    assert run.finished_at.tzinfo is UTC and run.finished_at >= run.created_at
    assert [(s.key, s.kind, s.status) for s in run.steps] == [
        ("plan", "plan", "done"),
        ("generate:t1", "generate", "done"),
        ("assemble", "assemble", "running"),
    ]
    plan = run.steps[0]
    assert plan.finished_at is not None and plan.started_at <= plan.finished_at

    store.set_status(run_id, "failed", "assemble: no clips")
    run = store.get(run_id)
    assert (run.status, run.error) == ("failed", "assemble: no clips")
    store.set_status(run_id, "running")
    assert store.get(run_id).finished_at is None
    with pytest.raises(ValueError, match="unknown workflow run status 'done'"):
        store.set_status(run_id, "done")  # type: ignore[arg-type]


def test_list_newest_first_without_steps(store: WorkflowStore) -> None:
    ids = [store.create_run("research", "00" * 32, {"question": f"q{i}"}) for i in range(3)]
    store.start_step(ids[0], "plan", "plan")
    store.add_attempt(ids[0], attempt("t1", "qwen", 1))
    runs = store.list()
    assert [r.id for r in runs] == ids[::-1]
    assert all(r.steps == [] and r.attempts == [] for r in runs)
    assert [r.input for r in store.list(limit=2)] == [{"question": "q2"}, {"question": "q1"}]
    with pytest.raises(InputError, match="limit must be at least 1"):
        store.list(limit=0)


def test_a_finished_step_is_never_started_again(store: WorkflowStore) -> None:
    run_id = store.create_run("soundscape", "ab" * 32, {})
    store.start_step(run_id, "plan", "plan")
    with pytest.raises(ValueError, match=f"'plan' of workflow run {run_id} is already running"):
        store.start_step(run_id, "plan", "plan")
    store.finish_step(run_id, "plan", {"tasks": []})
    with pytest.raises(ValueError, match=f"'plan' of workflow run {run_id} is already done"):
        store.start_step(run_id, "plan", "plan")
    with pytest.raises(ValueError, match=f"'plan' of workflow run {run_id} is done, not running"):
        store.finish_step(run_id, "plan", {"tasks": ["changed"]})
    with pytest.raises(ValueError, match="is done, not running"):
        store.fail_step(run_id, "plan", "late failure")
    with pytest.raises(ValueError, match="has no step 'review'"):
        store.finish_step(run_id, "review", {})
    step = store.get(run_id).steps[0]
    assert (step.status, step.output, step.error) == ("done", {"tasks": []}, None)


# A real crash: a child process starts steps and SIGKILLs itself with them still running.
CRASHING_RUN = """
import os, signal, sys
from orchestrator.db import make_engine, session_factory
from orchestrator.db.workflows import WorkflowStore
store = WorkflowStore(session_factory(make_engine(sys.argv[1])))
run_id = store.create_run("soundscape", "ab" * 32, {"scene": "harbour"})
store.set_status(run_id, "running")
store.start_step(run_id, "plan", "plan")
store.finish_step(run_id, "plan", {"tasks": ["t1", "t2"]})
store.start_step(run_id, "generate:t1", "generate")
store.start_step(run_id, "generate:t2", "generate")
print(run_id, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_recover_after_a_killed_process(engine: Engine, store: WorkflowStore) -> None:
    url = engine.url.render_as_string(hide_password=False)
    child = subprocess.run(
        [sys.executable, "-c", CRASHING_RUN, url],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    run_id = child.stdout.strip()
    before = store.get(run_id)
    assert before.status == "running"
    assert [s.status for s in before.steps] == ["done", "running", "running"]

    assert store.recover(run_id) == 2
    run = store.get(run_id)
    assert (run.status, run.error, run.finished_at) == ("pending", None, None)
    assert [(s.key, s.status, s.error) for s in run.steps] == [
        ("plan", "done", None),
        ("generate:t1", "failed", INTERRUPTED),
        ("generate:t2", "failed", INTERRUPTED),
    ]
    assert all(s.finished_at is not None for s in run.steps)
    assert store.done_steps(run_id) == {"plan": {"tasks": ["t1", "t2"]}}
    # The resumed run starts the interrupted steps again, never the finished one.
    store.start_step(run_id, "generate:t1", "generate")
    with pytest.raises(ValueError, match="already done"):
        store.start_step(run_id, "plan", "plan")
    assert store.recover(run_id) == 1
    assert store.recover(run_id) == 0


def test_attempts_round_trip(store: WorkflowStore) -> None:
    run_id = store.create_run("soundscape", "ab" * 32, {})
    other_run = store.create_run("soundscape", "ab" * 32, {})
    made = [
        attempt("t2", "espeak", 1, 0.5),
        attempt("t1", "espeak", 1, 0.25),
        Attempt(task_id="t1", candidate="numpy", number=1, instruction="x", error="failed"),
        attempt("t2", "espeak", 2, 0.75),
    ]
    for a in made:
        store.add_attempt(run_id, a)
    store.add_attempt(other_run, attempt("t1", "espeak", 1))
    assert store.attempts(run_id) == made
    assert store.get(run_id).attempts == made
    assert store.attempts(run_id, "t1") == [made[1], made[2]]
    assert store.attempts(run_id, "t3") == []
    back = store.attempts(run_id, "t2")[1]
    assert back.artifact is not None
    assert back.artifact.meta == {"seconds": 2.5, "sample_rate": 24000}
    assert [s.value for s in back.scores] == [0.75, 1.0]
    assert back.passed({"alignment": 0.7, "quality": 0.7}) and back.mean_score() == 0.875

    with pytest.raises(ValueError, match="attempt 2 of 'espeak' on task 't2' is already stored"):
        store.add_attempt(run_id, attempt("t2", "espeak", 2))
    nan = Attempt(task_id="t9", candidate="numpy", number=1, instruction="x", seconds=float("nan"))
    with pytest.raises(InputError, match="attempt 1 of 'numpy' on task 't9' is not JSON-safe"):
        store.add_attempt(run_id, nan)
    assert store.attempts(run_id) == made  # nothing stored by the refused ones


def test_bad_input_is_refused_with_its_field(store: WorkflowStore) -> None:
    with pytest.raises(InputError, match="input is not JSON-safe") as caught:
        store.create_run("soundscape", "ab" * 32, {"volume": float("inf")})
    assert caught.value.param == "input"
    with pytest.raises(InputError, match="workflow must be 1 to 128 characters"):
        store.create_run("w" * 129, "ab" * 32, {})
    run_id = store.create_run("soundscape", "ab" * 32, {})
    store.start_step(run_id, "plan", "plan")
    with pytest.raises(InputError, match="output of step 'plan' is not JSON-safe"):
        store.finish_step(run_id, "plan", {"object": object()})
    assert store.get(run_id).steps[0].status == "running"
    assert store.list() == [store.get(run_id).model_copy(update={"steps": []})]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.get("f" * 32),
        lambda s: s.set_status("f" * 32, "running"),
        lambda s: s.start_step("f" * 32, "plan", "plan"),
        lambda s: s.finish_step("f" * 32, "plan", {}),
        lambda s: s.done_steps("f" * 32),
        lambda s: s.add_attempt("f" * 32, attempt("t1", "espeak", 1)),
        lambda s: s.attempts("f" * 32),
        lambda s: s.recover("f" * 32),
    ],
    ids=["get", "set_status", "start_step", "finish_step", "done_steps", "add_attempt",
         "attempts", "recover"],
)  # fmt: skip
def test_unknown_run_id(store: WorkflowStore, call: Callable[[WorkflowStore], object]) -> None:
    with pytest.raises(InputError, match=f"no workflow run {'f' * 32}$"):
        call(store)


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """`work(i)` in `count` threads released together; the exceptions they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_concurrent_writes_from_8_threads(store: WorkflowStore) -> None:
    run_id = store.create_run("soundscape", "ab" * 32, {})
    rounds = 6

    def generate(i: int) -> None:
        for n in range(1, rounds + 1):
            key = f"generate:t{i}:{n}"
            store.start_step(run_id, key, "generate")
            store.add_attempt(run_id, attempt(f"t{i}", "espeak", n))
            store.finish_step(run_id, key, {"attempt": n})

    assert run_threads(8, generate) == []
    run = store.get(run_id)
    assert len(run.steps) == 8 * rounds and {s.status for s in run.steps} == {"done"}
    assert len(run.attempts) == 8 * rounds
    for i in range(8):
        assert [a.number for a in store.attempts(run_id, f"t{i}")] == list(range(1, rounds + 1))

    # 8 threads racing to start one step: exactly one starts it, the others are refused.
    errors = run_threads(8, lambda _i: store.start_step(run_id, "assemble", "assemble"))
    assert len(errors) == 7
    assert all(isinstance(e, ValueError) and "already" in str(e) for e in errors), errors
    assert store.get(run_id).steps[-1].key == "assemble"


def test_migration_0007_creates_the_tables_and_downgrades(engine: Engine) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.commit()
    assert not WORKFLOW_TABLES & set(inspect(engine).get_table_names())
    assert migrate(engine) is True  # 0006 -> head
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) >= WORKFLOW_TABLES
    uniques = {
        (table, tuple(u["column_names"]))
        for table in WORKFLOW_TABLES
        for u in inspector.get_unique_constraints(table)
    }
    assert {
        ("workflow_steps", ("run_id", "key")),
        ("workflow_attempts", ("run_id", "task_id", "candidate", "number")),
    } <= uniques
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        connection.commit()
    tables = set(inspect(engine).get_table_names())
    assert not WORKFLOW_TABLES & tables and "gate_artifacts" in tables


def typed(task: str, candidate: str, number: int, value: float, kind: str = "speech") -> Attempt:
    return attempt(task, candidate, number, value).model_copy(update={"task_type": kind})


def rounded(stats: CandidateStats) -> tuple[int, int, float]:
    return stats.attempts, stats.passed, round(stats.mean_score, 9)


def test_candidate_stats_per_workflow_and_sub_task_type(store: WorkflowStore) -> None:
    first = store.create_run("soundscape", "ab" * 32, {})
    second = store.create_run("soundscape", "ab" * 32, {})
    other = store.create_run("research", "ab" * 32, {})
    failed = Attempt(
        task_id="t1", task_type="speech", candidate="numpy", number=1, instruction="x", error="!"
    )
    store.add_attempt(first, typed("t1", "espeak", 1, 0.5))  # alignment 0.5: fails 0.7
    store.add_attempt(first, typed("t1", "espeak", 2, 0.75))  # passes
    store.add_attempt(first, failed)
    store.add_attempt(second, typed("t2", "numpy", 1, 0.9))
    store.add_attempt(second, typed("t3", "espeak", 1, 0.9, kind="sfx"))  # another type
    store.add_attempt(other, typed("t1", "espeak", 1, 0.9))  # another workflow
    store.add_attempt(first, attempt("t9", "espeak", 1, 0.9))  # no type: stored before 0008
    assert store.attempts(first, "t1")[0].task_type == "speech"

    thresholds = {"alignment": 0.7, "quality": 0.7}
    stats = store.candidate_stats("soundscape", "speech", thresholds)
    assert list(stats) == ["espeak", "numpy"]  # in the order first seen
    # each attempt's mean is (alignment + quality 1.0) / 2; the failed one scores 0
    assert rounded(stats["espeak"]) == (2, 1, 0.8125)
    assert rounded(stats["numpy"]) == (2, 1, 0.475)
    without = store.candidate_stats("soundscape", "speech", thresholds, exclude_run=second)
    assert without["numpy"] == (1, 0, 0.0) and without["espeak"] == stats["espeak"]
    # passing is judged against the thresholds given, not the ones of the run
    strict = store.candidate_stats("soundscape", "speech", {"alignment": 0.8})
    assert (strict["espeak"].passed, strict["numpy"].passed) == (0, 1)
    newest = store.candidate_stats("soundscape", "speech", thresholds, limit=1)
    assert list(newest) == ["numpy"] and rounded(newest["numpy"]) == (1, 1, 0.95)
    assert store.candidate_stats("soundscape", "music", thresholds) == {}
    assert store.candidate_stats("nothing", "speech", thresholds) == {}
    with pytest.raises(InputError, match="task_type must be 1 to 128 characters"):
        store.add_attempt(first, typed("t8", "espeak", 1, 0.9, kind="k" * 129))


def test_migration_0008_adds_the_attempts_task_type(engine: Engine) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        connection.commit()
    created = datetime(2026, 1, 2, tzinfo=UTC)
    with engine.begin() as connection:  # an attempt stored before 0008
        connection.execute(
            text(
                "INSERT INTO workflow_runs (id, workflow, spec_sha256, input, status, created_at)"
                " VALUES ('r1', 'soundscape', :sha, '{}', 'succeeded', :at)"
            ),
            {"sha": "ab" * 32, "at": created},
        )
        connection.execute(
            text(
                "INSERT INTO workflow_attempts (run_id, task_id, candidate, number, body, "
                "created_at) VALUES ('r1', 't1', 'espeak', 1, :body, :at)"
            ),
            {"body": attempt("t1", "espeak", 1).model_dump_json(), "at": created},
        )
    assert migrate(engine) is True  # 0007 -> head
    inspector = inspect(engine)
    assert "task_type" in {c["name"] for c in inspector.get_columns("workflow_attempts")}
    indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("workflow_attempts")}
    assert ("task_type",) in indexes
    store = WorkflowStore(session_factory(engine))
    (old,) = store.attempts("r1")
    assert old == attempt("t1", "espeak", 1) and old.task_type is None  # kept, untyped
    assert store.candidate_stats("soundscape", "speech", {}) == {}  # counted by no profile
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
        connection.commit()
    inspector = inspect(engine)
    assert "task_type" not in {c["name"] for c in inspector.get_columns("workflow_attempts")}
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM workflow_attempts")) == 1
