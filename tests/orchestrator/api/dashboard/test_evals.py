"""/admin/evals over run folders the real `symoe eval run` wrote (generic benchmark, scripted
experts): the list with accuracy per method, a run's metrics, plots and report, the
comparison of two runs, an unfinished run's metrics computed from its predictions, and
refusals of every name or plot path that leaves the runs dir or the run's plots folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestrator.settings import Settings
from tests.orchestrator.api.conftest import new_key, scripted_settings
from tests.orchestrator.api.dashboard.eval_runs import make_eval_run
from tests.orchestrator.api.dashboard.support import log_in


@pytest.fixture(scope="module")
def made_runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two finished runs: `good` (every item right) and `worse` (two of four wrong)."""
    base = tmp_path_factory.mktemp("evals")
    make_eval_run(base / "runs" / "good", base / "work-good")
    make_eval_run(base / "runs" / "worse", base / "work-worse", {"q0": "A", "q2": "A"})
    return base / "runs"


@pytest.fixture
def runs(made_runs: Path, tmp_path: Path) -> Path:
    """A copy of the made runs per test, so a test may change its copy."""
    root = tmp_path / "eval-runs"
    shutil.copytree(made_runs, root)
    return root


@pytest.fixture
def api_settings(tmp_path: Path, runs: Path) -> Settings:
    return scripted_settings(tmp_path, eval_runs_dir=runs)


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    log_in(client, new_key(client, "admin"))
    return client


def row(html: str, attribute: str, name: str) -> str:
    found = re.search(rf'<tr data-{attribute}="{re.escape(name)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row {name!r}"
    return found.group(1)


def cells(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    ]


def test_the_list_shows_each_run_with_its_accuracy_per_method(
    admin: TestClient, runs: Path
) -> None:
    (runs / "not-a-run").mkdir()  # no config.json
    (runs / "stray.txt").write_text("x")
    page = admin.get("/admin/evals")
    assert page.status_code == 200
    assert re.findall(r'<tr data-run="([^"]+)"', page.text) == ["worse", "good"]  # newest first
    good = cells(row(page.text, "run", "good"))
    assert good[:5] == ["good", "generic", "items.jsonl", "symoe, best-single", "4"]
    assert re.sub(r"\s+", " ", good[6]) == "symoe 100.0, best-single 100.0"
    worse = cells(row(page.text, "run", "worse"))
    assert re.sub(r"\s+", " ", worse[6]) == "symoe 50.0, best-single 50.0"
    assert "not-a-run" not in page.text and "stray" not in page.text
    assert admin.get("/admin/evals?page=0").status_code == 400
    assert "page must be" in admin.get("/admin/evals?page=x").text


def test_a_run_shows_its_metrics_plots_and_report(admin: TestClient, runs: Path) -> None:
    page = admin.get("/admin/evals/worse")
    assert page.status_code == 200
    symoe = cells(row(page.text, "stream", "symoe"))
    metrics = json.loads((runs / "worse" / "metrics.json").read_text())["methods"]["symoe"]
    assert symoe[1] == "50.0"  # two seeds, no spread
    assert symoe[2] == "0: 50.0, 1: 50.0"
    assert (
        symoe[7] == f"{metrics['model_calls']:,.0f}" and symoe[8] == f"{metrics['prompt_tokens']:,}"
    )
    assert "4 items, seeds 0, 1" in page.text
    plots = re.findall(r'<img src="(/admin/evals/worse/plots/[^"]+)"', page.text)
    names = (
        "accuracy.png",
        "accuracy_per_category.png",
        "accuracy_vs_cost.png",
        "experts_per_category.png",
    )
    assert plots == [f"/admin/evals/worse/plots/{n}" for n in names]
    image = admin.get(plots[0])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content == (runs / "worse" / "plots" / "accuracy.png").read_bytes()
    report = re.search(r'<pre class="report" id="report">(.*?)</pre>', page.text, re.S)
    assert report and report.group(1).startswith("# Evaluation: generic /")
    assert admin.get("/admin/evals/nope").status_code == 404


def test_two_runs_compare_as_symoe_eval_compare_does(admin: TestClient) -> None:
    page = admin.get("/admin/evals/compare?a=good&b=worse")
    assert page.status_code == 200
    assert cells(row(page.text, "method", "symoe")) == ["symoe", "100.0", "50.0", "-50.0"]
    assert 'class="num delta down"' in row(page.text, "method", "symoe")
    # the splits are two files of the same name in different folders: a config difference
    assert "warning: split differs" in page.text
    form = admin.get("/admin/evals/compare")
    assert form.status_code == 200 and "<option>good</option>" in form.text
    missing = admin.get("/admin/evals/compare?a=good&b=gone")
    assert missing.status_code == 404 and "no eval run &#39;gone&#39;" in missing.text


def test_an_unfinished_run_has_its_metrics_computed_from_its_predictions(
    admin: TestClient, runs: Path
) -> None:
    for name in ("metrics.json", "report.md"):
        (runs / "worse" / name).unlink()
    shutil.rmtree(runs / "worse" / "plots")
    listing = admin.get("/admin/evals").text
    worse = row(listing, "run", "worse")
    assert "unfinished" in worse and "symoe <strong>50.0</strong>" in worse
    page = admin.get("/admin/evals/worse")
    assert page.status_code == 200 and "No metrics.json yet" in page.text
    assert cells(row(page.text, "stream", "symoe"))[1] == "50.0"
    assert "<img" not in page.text and 'id="report"' not in page.text


def test_a_config_that_is_no_eval_config_is_told_not_raised(admin: TestClient, runs: Path) -> None:
    (runs / "odd").mkdir()
    (runs / "odd" / "config.json").write_text(json.dumps({"benchmark": "generic"}))
    assert "not an eval config" in row(admin.get("/admin/evals").text, "run", "odd")
    page = admin.get("/admin/evals/odd")
    assert page.status_code == 422 and "not an eval config" in page.text


def test_names_and_plot_paths_cannot_leave_the_runs_dir(
    admin: TestClient, runs: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(runs / "good", outside)  # a real run, but not under the runs dir
    (runs / "linked").symlink_to(outside, target_is_directory=True)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret")
    plots = runs / "good" / "plots"
    (plots / "escape.png").symlink_to(secret)
    (plots / "config.png").symlink_to(runs / "good" / "config.json")
    assert "linked" not in admin.get("/admin/evals").text
    for path in (
        "/admin/evals/linked",
        "/admin/evals/%2E%2E",
        "/admin/evals/..%2Foutside",
        "/admin/evals/linked/plots/accuracy.png",
        "/admin/evals/good/plots/escape.png",
        "/admin/evals/good/plots/config.png",
        "/admin/evals/good/plots/%2E%2E",
        "/admin/evals/good/plots/..%2Fconfig.json",
        "/admin/evals/good/plots/..%2F..%2F..%2Fsecret.png",
        "/admin/evals/%2E%2E/plots/secret.png",
        "/admin/evals/compare?a=good&b=..",
        "/admin/evals/compare?a=good&b=../outside",
    ):
        response = admin.get(path)
        assert response.status_code == 404, path
        assert b"secret" not in response.content and b'"benchmark"' not in response.content, path
    assert admin.get("/admin/evals/good/plots/accuracy.png").status_code == 200


def test_no_runs_dir_yet_is_an_empty_list(admin: TestClient, runs: Path) -> None:
    shutil.rmtree(runs)
    page = admin.get("/admin/evals")
    assert page.status_code == 200 and 'id="no-runs"' in page.text
    assert admin.get("/admin/evals/good").status_code == 404
    assert "<option>" not in admin.get("/admin/evals/compare").text
