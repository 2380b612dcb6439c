"""Runs a workflow: its steps in dependency order, each checkpointed in the run store, so a
run resumed after a crash starts from its last finished step and never repeats one.

The `tasks` step is AudioGenie's trial-and-error loop per sub-task, sub-tasks in parallel on
a bounded pool or on Celery workers (a SubtaskRunner): candidates in the order the type's
route gives (routing.py: file order, measured profile, or rules; at most
`candidates_per_task`), each
tried up to `attempts_per_candidate` times; every attempt is reviewed by the sub-task type's
supervisors; the first attempt whose every score meets its threshold is accepted, otherwise
the instruction is rewritten with the supervisors' reasons and tried again, and when the
tries run out the best attempt (highest mean score) is kept. A tool that fails or times out
ends that candidate's tries: the next candidate goes on. Each finished sub-task is its own
checkpoint and each attempt is stored as it ends, so a resumed run replays stored attempts
instead of making them again."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Protocol

from orchestrator.errors import InputError
from orchestrator.workflows.assemblers import ASSEMBLERS
from orchestrator.workflows.llm_steps import judge_result, plan_subtasks, rewrite_instruction
from orchestrator.workflows.routing import CandidateStats, route_candidates
from orchestrator.workflows.spec import StepSpec, WorkflowSpec
from orchestrator.workflows.tools import SUPERVISORS, TOOLS, Supervisor, Tool, WorkflowContext
from orchestrator.workflows.types import Attempt, RunStatus, SubTask, WorkflowRunRecord

Progress = Callable[[str], None]


class RunStore(Protocol):
    """The part of orchestrator.db.workflows.WorkflowStore the engine uses."""

    def set_status(self, run_id: str, status: RunStatus, error: str | None = None) -> None: ...
    def start_step(self, run_id: str, key: str, kind: str) -> None: ...
    def finish_step(self, run_id: str, key: str, output: dict[str, Any]) -> None: ...
    def fail_step(self, run_id: str, key: str, error: str) -> None: ...
    def done_steps(self, run_id: str) -> dict[str, dict[str, Any]]: ...
    def add_attempt(self, run_id: str, attempt: Attempt) -> None: ...
    def attempts(self, run_id: str, task_id: str | None = None) -> list[Attempt]: ...
    def recover(self, run_id: str) -> int: ...
    def candidate_stats(
        self,
        workflow: str,
        task_type: str,
        thresholds: Mapping[str, float],
        exclude_run: str | None = None,
    ) -> dict[str, CandidateStats]: ...
    def recover_step(self, run_id: str, key: str) -> bool: ...
    def create_run(self, workflow: str, spec_sha256: str, input: dict[str, Any]) -> str: ...
    def get(self, run_id: str) -> WorkflowRunRecord: ...


class SubtaskRunner(Protocol):
    """Where a tasks step's sub-tasks run when not on the engine's own thread pool (Celery
    workers: workflows/celery_subtasks.py). Each runs `WorkflowEngine.run_subtask` there;
    returns the attempt kept per sub-task id, and what ran each where (for the step's output)."""

    def run(
        self, run_id: str, todo: list[tuple[str, SubTask]]
    ) -> tuple[dict[str, Attempt], dict[str, str]]: ...


class WorkflowFailed(RuntimeError):
    """A step failed; the run is marked failed with this message (and the step's record
    keeps what it had, e.g. the planner's raw output)."""


def best_of(attempts: list[Attempt]) -> Attempt:
    """The highest mean score; the earliest among equals."""
    return max(attempts, key=lambda a: (a.mean_score(), -attempts.index(a)))


class WorkflowEngine:
    def __init__(
        self,
        spec: WorkflowSpec,
        store: RunStore,
        runs_dir: Path,
        context: WorkflowContext,
        progress: Progress | None = None,
        subtasks: SubtaskRunner | None = None,
    ) -> None:
        self.spec = spec
        self.subtasks = subtasks  # None: this process's bounded pool
        self.store = store
        self.runs_dir = runs_dir
        self.context = context
        self.progress = progress or (lambda _message: None)
        types = spec.subtasks.types.values()
        self.tools: dict[str, Tool] = {
            name: TOOLS.create(name, context) for t in types for name in t.candidates
        }
        self.supervisors: dict[str, Supervisor] = {
            name: SUPERVISORS.create(name, context, spec.roles)
            for t in types
            for name in t.supervisors
        }

    def check_input(self, text: str) -> str:
        if not text.strip():
            raise InputError("the workflow input is empty")
        if len(text) > self.spec.input_max_chars:
            raise InputError(
                f"the input has {len(text)} characters; workflow {self.spec.name!r} takes at "
                f"most {self.spec.input_max_chars}"
            )
        return text

    def artifacts_dir(self, run_id: str) -> Path:
        path = self.runs_dir / run_id / "artifacts"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def run(self, run_id: str, input_text: str) -> dict[str, dict[str, Any]]:
        """Every step not finished yet, in order; returns each step's output by name."""
        recovered = self.store.recover(run_id)
        if recovered:
            self.progress(f"resuming: {recovered} interrupted step(s) will run again")
        self.store.set_status(run_id, "running")
        outputs = self.store.done_steps(run_id)
        for step in self.spec.order():
            if step.name in outputs:
                self.progress(f"{step.name}: done before, skipped")
                continue
            self.progress(f"{step.name}: running")
            self.store.start_step(run_id, step.name, step.kind)
            try:
                outputs[step.name] = self._step(run_id, step, input_text, outputs)
            except Exception as exc:
                message = f"step {step.name!r} failed: {exc}"
                self.store.fail_step(run_id, step.name, str(exc))
                self.store.set_status(run_id, "failed", message)
                raise WorkflowFailed(message) from exc
            self.store.finish_step(run_id, step.name, outputs[step.name])
            self.progress(f"{step.name}: done")
        self.store.set_status(run_id, "succeeded")
        return outputs

    # -- steps ------------------------------------------------------------------------------
    def _tasks_of(self, outputs: dict[str, dict[str, Any]]) -> list[SubTask]:
        planned = next((o for o in outputs.values() if "subtasks" in o), None)
        if planned is None:
            raise WorkflowFailed("no plan step finished before this step")
        return [SubTask.model_validate(t) for t in planned["subtasks"]]

    def _accepted(self, outputs: dict[str, dict[str, Any]]) -> dict[str, Attempt]:
        done: dict[str, Any] = next(
            (o for o in outputs.values() if "accepted" in o), {"accepted": {}}
        )
        return {k: Attempt.model_validate(v) for k, v in done["accepted"].items()}

    def _step(
        self, run_id: str, step: StepSpec, input_text: str, outputs: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        if step.kind == "plan":
            return plan_subtasks(self.spec, self.context, input_text)
        if step.kind == "tasks":
            return self._run_tasks(run_id, step, self._tasks_of(outputs))
        if step.kind == "judge":
            return judge_result(self.spec, self.context, input_text, self._tasks_of(outputs))
        assembler = ASSEMBLERS.create(self.spec.assembler, self.context, self.spec.roles)
        return assembler.assemble(
            input_text,
            self._tasks_of(outputs),
            self._accepted(outputs),
            self.artifacts_dir(run_id),
        )

    def _run_tasks(self, run_id: str, step: StepSpec, tasks: list[SubTask]) -> dict[str, Any]:
        done = self.store.done_steps(run_id)
        accepted: dict[str, Attempt] = {}
        todo = []
        for task in tasks:
            key = f"{step.name}:{task.id}"
            if key in done:
                accepted[task.id] = Attempt.model_validate(done[key]["attempt"])
            else:
                todo.append((key, task))
        ran_on: dict[str, str] = {}
        if self.subtasks is not None and todo:
            self.progress(f"{step.name}: {len(todo)} sub-task(s) sent to the workers")
            kept, ran_on = self.subtasks.run(run_id, todo)
            for key, task in todo:
                accepted[task.id] = kept.get(task.id) or self._kept_in_store(run_id, key)
                self.progress(f"{key}: {self._verdict(accepted[task.id])}")
        else:
            with ThreadPoolExecutor(max_workers=self.spec.parallel) as pool:
                futures = [
                    (key, task, pool.submit(self._task, run_id, key, task)) for key, task in todo
                ]
                for key, task, future in futures:
                    accepted[task.id] = future.result()
                    self.progress(f"{key}: {self._verdict(accepted[task.id])}")
        output: dict[str, Any] = {
            "accepted": {t.id: accepted[t.id].model_dump(mode="json") for t in tasks}
        }
        return output | ({"ran_on": ran_on} if ran_on else {})

    def _kept_in_store(self, run_id: str, key: str) -> Attempt:
        """A sub-task missing from the workers' collected output (a task delivered twice can
        be counted twice by the chord) but finished: its kept attempt, from the store."""
        done = self.store.done_steps(run_id).get(key)
        if done is None:
            raise WorkflowFailed(f"{key}: the workers did not finish it; resume the run")
        return Attempt.model_validate(done["attempt"])

    def run_subtask(self, run_id: str, key: str, task: SubTask) -> Attempt:
        """One sub-task's loop where a SubtaskRunner sends it (a Celery worker), safe to run
        again: a sub-task done before returns its kept attempt, and one left running by a
        worker that died is marked interrupted and goes on from its stored attempts."""
        done = self.store.done_steps(run_id)
        if key in done:
            return Attempt.model_validate(done[key]["attempt"])
        if self.store.recover_step(run_id, key):
            self.progress(f"{key}: interrupted before, going on from its stored attempts")
        return self._task(run_id, key, task)

    def _verdict(self, attempt: Attempt) -> str:
        state = "accepted" if attempt.passed(self.spec.thresholds) else "best kept"
        return f"{state}: {attempt.candidate} try {attempt.number}, mean {attempt.mean_score():.2f}"

    def _task(self, run_id: str, key: str, task: SubTask) -> Attempt:
        """The refinement loop of one sub-task, a checkpoint of its own."""
        self.store.start_step(run_id, key, "task")
        stored = {(a.candidate, a.number): a for a in self.store.attempts(run_id, task.id)}
        tried: list[Attempt] = []
        candidates = route_candidates(self.spec, self.store, run_id, key, task, self.progress)
        for candidate in candidates[: self.spec.candidates_per_task]:
            instruction = str(task.fields.get("text") or task.description())
            rewrite_s = 0.0
            for number in range(1, self.spec.attempts_per_candidate + 1):
                attempt = stored.get((candidate, number))
                if attempt is None:
                    attempt = self._attempt(run_id, task, candidate, number, instruction)
                    attempt.rewrite_seconds = rewrite_s
                    self.store.add_attempt(run_id, attempt)
                tried.append(attempt)
                if attempt.passed(self.spec.thresholds):
                    self.store.finish_step(
                        run_id, key, {"attempt": attempt.model_dump(mode="json")}
                    )
                    return attempt
                if attempt.error is not None:
                    break  # the tool failed: the next candidate
                replayed = (candidate, number + 1) in stored  # its instruction is stored
                if number < self.spec.attempts_per_candidate and not replayed:
                    started = time.perf_counter()
                    instruction = rewrite_instruction(self.spec, self.context, task, attempt)
                    rewrite_s = time.perf_counter() - started
        if not tried:
            raise WorkflowFailed(f"sub-task {task.id}: no candidate for type {task.type!r}")
        best = best_of(tried)
        self.store.finish_step(run_id, key, {"attempt": best.model_dump(mode="json")})
        return best

    def _attempt(
        self, run_id: str, task: SubTask, candidate: str, number: int, instruction: str
    ) -> Attempt:
        attempt = Attempt(
            task_id=task.id,
            task_type=task.type,
            candidate=candidate,
            number=number,
            instruction=instruction,
        )
        out_dir = self.artifacts_dir(run_id)
        started = time.perf_counter()
        # A tool runs in its own thread so a hung one cannot hold the sub-task past the
        # timeout (the thread is abandoned, not joined: no `with`, which would wait for it).
        single = ThreadPoolExecutor(max_workers=1)
        future = single.submit(self.tools[candidate].generate, task, instruction, out_dir)
        try:
            attempt.artifact = future.result(timeout=self.spec.timeout_s)
        except FutureTimeout:
            attempt.error = f"{candidate} timed out after {self.spec.timeout_s:g} s"
        except Exception as exc:  # any tool failure: recorded, the next candidate goes on
            attempt.error = f"{candidate} failed: {exc}"
        finally:
            single.shutdown(wait=False, cancel_futures=True)
        attempt.seconds = time.perf_counter() - started
        if attempt.error is None:
            started = time.perf_counter()
            for name in self.spec.subtasks.types[task.type].supervisors:
                attempt.scores += self.supervisors[name].review(task, attempt, out_dir)
            attempt.review_seconds = time.perf_counter() - started
        return attempt
