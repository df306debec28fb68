"""The plots' Vega-Lite specs, the `reflectlab report` command and the vendored assets."""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.report import build_charts, report_data
from reflectlab.report._charts import FLIP_COLOURS, WARNING_COLOUR, _transition_order
from reflectlab.report._facts import display_order
from reflectlab.run import summarize_stored_run
from reflectlab.store import Store

runner = CliRunner()


async def test_charts_plot_the_summary(oracle_run: tuple[Store, str]) -> None:
    store, run_id = oracle_run
    run, summary = summarize_stored_run(store, run_id)
    ordered = display_order(run, summary)
    charts = build_charts(ordered, summary.confidence)
    assert list(charts) == ["chart-accuracy", "chart-cost", "chart-rounds", "chart-flips"]
    bars = {r["strategy"]: r for r in charts["chart-accuracy"]["data"]["values"]}
    for s in summary.strategies:
        assert (bars[s.name]["accuracy"], bars[s.name]["ci_low"], bars[s.name]["ci_high"]) == (
            s.accuracy,
            s.ci_low,
            s.ci_high,
        )
        # each baseline is drawn in the group of the reflection strategy it was matched to
        assert bars[s.name]["group"] == (s.baseline_of or s.name)
    assert bars["self_refine:feedback=oracle"]["oracle"] is True
    flips = charts["chart-flips"]
    colour = flips["spec"]["encoding"]["color"]["scale"]
    assert (
        dict(zip(colour["domain"], colour["range"], strict=True))["right→wrong"] == WARNING_COLOUR
    )
    counts = {
        (r["strategy"], r["transition"], r["flip"]): r["count"] for r in flips["data"]["values"]
    }
    assert counts[("self_refine", "0→1", "right→wrong")] == 1
    assert counts[("self_refine", "0→1", "wrong→right")] == 1
    assert counts[("self_refine:feedback=oracle", "draft→final", "wrong→right")] == 1
    # no prices known: cost in tokens only; with a cost, a USD panel appears beside it
    assert len(charts["chart-cost"]["hconcat"]) == 1
    priced = [s.model_copy(update={"cost_usd": 0.01 * (k + 1)}) for k, s in enumerate(ordered)]
    usd = build_charts(priced, summary.confidence)["chart-cost"]["hconcat"]
    assert [p["layer"][1]["encoding"]["x"]["field"] for p in usd] == [
        "tokens_per_sample",
        "usd_per_sample",
    ]
    single = [s for s in ordered if len(s.accuracy_by_round) == 1]
    assert set(build_charts(single, summary.confidence)) == {"chart-accuracy", "chart-cost"}
    assert set(FLIP_COLOURS) == {"right→wrong", "wrong→right", "right→right", "wrong→wrong"}


async def test_cli_writes_the_report(
    oracle_run: tuple[Store, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, run_id = oracle_run
    out = tmp_path / "out" / "report.html"
    result = runner.invoke(app, ["report", run_id[:15], "-o", str(out), "--db", store.path])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and report_data(html)["summary"]["run_id"] == run_id

    # Without -o the file lands in the current directory, named after the run.
    monkeypatch.chdir(tmp_path)
    opened: list[str] = []

    def no_browser(uri: str) -> bool:
        opened.append(uri)
        return False

    monkeypatch.setattr("webbrowser.open", no_browser)
    result = runner.invoke(app, ["report", run_id, "--db", store.path, "--open"])
    assert result.exit_code == 0, result.output
    default = tmp_path / f"reflectlab-report-{run_id}.html"
    assert default.exists() and opened == [default.resolve().as_uri()]
    assert "no web browser found" in result.stderr


async def test_cli_unknown_run_is_a_clear_error(oracle_run: tuple[Store, str]) -> None:
    store, _ = oracle_run
    result = runner.invoke(app, ["report", "nope", "--db", store.path])
    assert isinstance(result.exception, ConfigError)
    assert "no run 'nope'" in str(result.exception)


def test_vendored_scripts_match_their_notice() -> None:
    """The inlined Vega/Vega-Lite are the npm files the NOTICE names, byte for byte."""
    static = resources.files("reflectlab.report") / "static"
    notice = (static / "NOTICE").read_text("utf-8")
    recorded = dict(re.findall(r"^(\S+\.js)\n(?:.*\n)*?\s+file sha256:\s+(\w+)", notice, re.M))
    assert set(recorded) == {"vega.min.js", "vega-lite.min.js"}
    for name, digest in recorded.items():
        assert hashlib.sha256((static / name).read_bytes()).hexdigest() == digest
    assert (static / "LICENSE.vega").is_file() and (static / "LICENSE.vega-lite").is_file()


def test_flip_chart_rounds_in_order_draft_to_final_last() -> None:
    labels = ["0→1", "draft→final", "1→2", "10→11", "2→3"]
    assert sorted(labels, key=_transition_order) == ["0→1", "1→2", "2→3", "10→11", "draft→final"]


async def test_flip_chart_axis_of_a_run(oracle_run: tuple[Store, str]) -> None:
    store, run_id = oracle_run
    run, summary = summarize_stored_run(store, run_id)
    flips = build_charts(display_order(run, summary), summary.confidence)["chart-flips"]
    assert flips["spec"]["encoding"]["x"]["sort"] == ["0→1", "draft→final"]


async def test_cli_compare_embeds_the_other_runs_shared_traces(
    make_run: Any, tmp_path: Path
) -> None:
    store, first = await make_run("direct", "self_refine")
    _, second = await make_run("self_refine", max_rounds=2)
    out = tmp_path / "compare.html"
    args = ["report", first, "--compare", second, "-o", str(out), "--db", store.path]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = report_data(out.read_text(encoding="utf-8"))
    assert data["summary"]["run_id"] == first
    assert data["compare"] == {
        "run_id": second,
        "task": "numbers",
        "model": "mock/solver",
        "status": "completed",
        "shared_samples": 6,
    }
    assert data["compare_index"]["strategies"] == ["self_refine"]
    assert len(data["compare_index"]["rows"]) == 6 and data["compare_chunks"]
    bad = runner.invoke(app, ["report", first, "--compare", "nope", "--db", store.path])
    assert isinstance(bad.exception, ConfigError) and "no run 'nope'" in str(bad.exception)
