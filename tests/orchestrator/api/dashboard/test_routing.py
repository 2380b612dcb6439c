"""/admin/routing: the draws, aggregations, failures and replacements it shows are those of
the answers given (through /v1/answers and stored traces), per expert and per skill; the
draws per benchmark are those of the symoe streams' prediction files of the eval runs the
real `symoe eval run` wrote (capped rows said so); the loads chart has a point per stored
batch; the charts are inline SVG with escaped labels."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from orchestrator.api.dashboard.charts import Series, bar_chart, line_chart
from orchestrator.api.dashboard.eval_draws import benchmark_draws
from orchestrator.trace import BatchReport
from tests.orchestrator.api.conftest import MC, new_key
from tests.orchestrator.api.dashboard.eval_runs import make_eval_run
from tests.orchestrator.api.dashboard.support import log_in
from tests.orchestrator.api.dashboard.test_queries import ask, retrieval_trace


def cell(html: str, expert: str, column: str) -> int:
    row = re.search(rf'<tr data-expert="{expert}">.*?</tr>', html, re.S)
    assert row is not None, expert
    found = re.search(rf'<td class="num {column}">(\d+)</td>', row.group(0))
    assert found is not None, (expert, column)
    return int(found.group(1))


def skill_cells(html: str, skill: str) -> dict[str, int]:
    row = re.search(rf'<tr data-skill="{re.escape(skill)}">.*?</tr>', html, re.S)
    assert row is not None, skill
    cells = re.findall(r'data-expert="(\w+)" style="[^"]*">(\d*)</td>', row.group(0))
    return {name: int(n) for name, n in cells if n}


def test_counts_match_what_was_drawn(client: TestClient, user_headers: dict[str, str]) -> None:
    answers: list[Any] = [
        *(ask(client, user_headers, f"{MC} ({i})", k=3) for i in range(4)),
        *(ask(client, user_headers, f"{MC} [{i}]", k=2, experts=["e1"]) for i in range(2)),
        ask(client, user_headers, MC, k=2, aggregation="llm", aggregator="e2"),
    ]
    drawn = Counter(e for a in answers for e in a["trace"]["recruitment"]["drawn"])
    aggregated = Counter(a["trace"]["recruitment"]["aggregator"] for a in answers)
    assert sum(drawn.values()) == 4 * 3 + 2 * 2 + 2 and aggregated["e2"] >= 1
    log_in(client, new_key(client, "admin"))
    page = client.get("/admin/routing")
    assert page.status_code == 200
    html = page.text
    assert "7 stored queries counted" in html
    for expert in ("e0", "e1", "e2"):
        assert cell(html, expert, "draws") == drawn[expert], expert
        assert cell(html, expert, "aggregations") == aggregated[expert], expert
        assert cell(html, expert, "errors") == 0
        bar = re.search(rf'<g data-label="{expert}" data-value="(\d+)">', html)
        assert (int(bar.group(1)) if bar else 0) == drawn[expert]
    # the scripted tagger tags nothing: every draw lands in one row
    assert skill_cells(html, "(no skill tagged)") == {k: v for k, v in drawn.items() if v}
    assert "no benchmark or data-set tag" in html
    assert 'id="no-benchmark-runs"' in html  # no eval run yet
    # one point per stored batch (each /v1/answers request is its own batch here)
    points = re.search(r'<polyline class="series-a" data-series="distinct experts loaded" '
                       r'points="([^"]+)"', html)  # fmt: skip
    assert points is not None and len(points.group(1).split()) == len(answers)


def test_skills_failures_and_replacements(client: TestClient) -> None:
    store = client.app.state.services.deployment.stores.traces  # type: ignore[attr-defined]
    # each: drawn e1, e0; e1 failed in slot 0 and e0 answered in its place; e2 aggregated
    store.save_batch(
        BatchReport(batch_id="b1", traces=[retrieval_trace(f"q{i}") for i in range(3)])
    )
    tagged = retrieval_trace("q9")
    tagged.tagging.skills = ["astronomy", "optics <b>"]
    store.save_batch(BatchReport(batch_id="b2", traces=[tagged]))
    log_in(client, new_key(client, "admin"))
    html = client.get("/admin/routing").text
    assert cell(html, "e1", "draws") == 4 and cell(html, "e1", "errors") == 4
    assert cell(html, "e0", "replacements") == 4 and cell(html, "e0", "errors") == 0
    assert cell(html, "e2", "aggregations") == 4
    assert skill_cells(html, "astronomy") == {"e0": 4, "e1": 4}
    assert skill_cells(html, "optics &lt;b&gt;") == {"e0": 1, "e1": 1}
    assert "<b>" not in html.split("Draws per skill")[1].split("Aggregator use")[0]
    events = html[html.index('id="routing-events"') :]
    assert '<span class="num">4</span> failed draws' in events
    assert '<span class="num">4</span> slots filled by a replacement' in events


def test_bad_window_is_told_and_good_ones_count(client: TestClient) -> None:
    log_in(client, new_key(client, "admin"))
    refused = client.get("/admin/routing?window=7")
    assert refused.status_code == 400 and "window: one of 500, 2000, 5000 (newest" in refused.text
    empty = client.get("/admin/routing?window=500")
    assert empty.status_code == 200 and "0 stored queries counted (at most 500" in empty.text
    assert "Draws per expert: nothing counted yet." in empty.text


def test_charts_are_svg_with_escaped_labels() -> None:
    bars = str(bar_chart([("a<b", 2), ("c", 4)], "Draws & more"))
    assert bars.startswith('<svg class="chart bars"') and "a&lt;b" in bars and "a<b" not in bars
    widths = [float(w) for w in re.findall(r'<rect class="svg-bar"[^>]* width="([\d.]+)"', bars)]
    assert widths[1] == 2 * widths[0] > 0  # proportional to the values
    line = str(line_chart(["t0", "t1", "t2"], [Series("n <x>", [0, 2, 1], "series-a")], "L"))
    points = re.search(r'points="([^"]+)"', line)
    assert points is not None and len(points.group(1).split()) == 3
    assert "n &lt;x&gt;" in line and "<x>" not in line
    assert "nothing stored yet" in str(line_chart([], [], "Loads"))


@pytest.fixture(scope="module")
def made_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs of different splits: `mixed` (symoe and best-single) on items.jsonl and
    `only-symoe` on other.jsonl."""
    base = tmp_path_factory.mktemp("routing-evals")
    make_eval_run(base / "runs" / "mixed", base / "work-mixed")
    make_eval_run(
        base / "runs" / "only-symoe", base / "work-only", methods="symoe", split_name="other.jsonl"
    )
    return base / "runs"


def drawn_in(run: Path) -> tuple[int, Counter[str]]:
    """(rows, draws per expert) of a run's symoe prediction files, read here."""
    rows, draws = 0, Counter[str]()
    for file in sorted((run / "predictions").glob("symoe__seed*.jsonl")):
        for line in file.read_text().splitlines():
            rows += 1
            draws.update(json.loads(line)["experts"])
    return rows, draws


def test_draws_per_benchmark_are_the_eval_runs_symoe_draws(
    client: TestClient, made_runs: Path
) -> None:
    root = Path(client.app.state.services.settings.eval_runs_dir)  # type: ignore[attr-defined]
    shutil.copytree(made_runs, root)
    log_in(client, new_key(client, "admin"))
    html = client.get("/admin/routing").text
    assert 'id="no-benchmark-runs"' not in html
    for run, benchmark in (("mixed", "generic/items.jsonl"), ("only-symoe", "generic/other.jsonl")):
        rows, draws = drawn_in(root / run)
        assert rows == 8 and sum(draws.values()) == 16  # 4 items x 2 seeds, k=2
        row = re.search(rf'<tr data-benchmark="{re.escape(benchmark)}">.*?</tr>', html, re.S)
        assert row is not None, benchmark
        cells = re.findall(r'data-expert="(\w+)" style="[^"]*">(\d*)</td>', row.group(0))
        assert {n: int(c) for n, c in cells if c} == dict(draws)
        assert f'<td class="num rows">{rows}</td>' in row.group(0)
        listed = re.search(rf'<tr data-run="{run}">.*?</tr>', html, re.S)
        assert listed is not None and benchmark in listed.group(0)
        assert "<td>symoe</td>" in listed.group(0) and "<td>all</td>" in listed.group(0)
    # best-single's stream in `mixed` is not counted: its rows would make 16
    assert html.count('<td class="num rows">8</td>') == 4  # two benchmark rows, two run rows


def test_draws_per_benchmark_read_at_most_the_cap(made_runs: Path) -> None:
    counted = {b.benchmark: b for b in benchmark_draws(made_runs, cap=3)}
    assert set(counted) == {"generic/items.jsonl", "generic/other.jsonl"}
    for b in counted.values():
        (run,) = b.runs
        assert run.rows == 3 and run.capped and sum(run.draws.values()) == 6
    whole = {b.benchmark: b for b in benchmark_draws(made_runs)}
    assert not whole["generic/other.jsonl"].runs[0].capped
    assert whole["generic/other.jsonl"].draws == drawn_in(made_runs / "only-symoe")[1]
