"""A report of a large run embeds the traces of its first N samples and lists every result:
rows beyond the limit carry the same index data (trajectory, flags, answer, calls, tokens)
with no trace block, the page says how many traces it holds, and what the summary, the
oracle table and the filters count is unchanged."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.report import render_report, report_data
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import Store

N = 30


async def make_run(store: Store) -> str:
    cfg = RunConfig(
        task="arith",
        model="mock/m",
        limit=N,
        max_rounds=2,
        baselines="none",
        strategies=[
            StrategySpec(name="direct"),
            StrategySpec(name="self_refine", params={"feedback": "oracle"}),
        ],
    )
    return await start_run(cfg, store)


async def test_traces_beyond_the_limit_are_listed_not_embedded(tmp_path: Path) -> None:
    with Store(tmp_path / "r.db") as store:
        run_id = await make_run(store)
        full_html = render_report(store, run_id, max_trace_samples=None)
        limited_html = render_report(store, run_id, max_trace_samples=10)
    full, limited = report_data(full_html), report_data(limited_html)
    rows, limited_rows = full["index"]["rows"], limited["index"]["rows"]
    assert len(limited_rows) == len(rows) == 2 * N
    assert limited["index"]["samples"] == full["index"]["samples"]
    # the same row for every result but the trace block: -1 beyond the first 10 samples
    assert [r[:7] for r in limited_rows] == [r[:7] for r in rows]
    assert all((r[7] >= 0) == (r[1] < 10) for r in limited_rows)
    embedded = {key for chunk in limited["chunks"] for key in chunk["results"]}
    assert {int(key.split(":")[1]) for key in embedded} == set(range(10))
    assert limited["summary"] == full["summary"]
    # the page says what it holds, and the oracle table still counts every sample
    assert "embeds the steps of the first 10 of 30 samples" in limited_html
    assert "(20 of 60 results)" in limited_html
    assert "embeds the steps of the first" not in full_html
    assert limited_html.count("ORACLE") == full_html.count("ORACLE")


async def test_a_run_within_the_limit_is_whole_and_the_cli_takes_traces(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with Store(db) as store:
        run_id = await make_run(store)
        whole = report_data(render_report(store, run_id))  # default limit: far above 30
    assert all(r[7] >= 0 for r in whole["index"]["rows"])
    cli = CliRunner()
    out = tmp_path / "r.html"
    args = ["report", run_id, "--db", str(db), "-o", str(out)]
    assert cli.invoke(app, [*args, "--traces", "5"]).exit_code == 0
    shown = report_data(out.read_text())
    assert sum(r[7] >= 0 for r in shown["index"]["rows"]) == 10  # 5 samples x 2 strategies
    assert cli.invoke(app, [*args, "--traces", "all"]).exit_code == 0
    assert all(r[7] >= 0 for r in report_data(out.read_text())["index"]["rows"])
    bad = cli.invoke(app, [*args, "--traces", "some"])
    assert bad.exit_code != 0 and "--traces must be" in str(bad.exception)
