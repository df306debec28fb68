"""Shards of one run and their merge: the merged run reads like the run done in one piece."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.model.providers.mock import MockRequest
from reflectlab.run import RunConfig, StrategySpec, resume_run, start_run, summarize_stored_run
from reflectlab.run import summary_json as to_json
from reflectlab.run._shards import Shard, merge_stores, sharded_run_id
from reflectlab.store import Store
from reflectlab.task import Sample
from support.numbers import NumberTask

SAMPLES = [Sample(id=f"s{i}", input=f"What is {i}+{i}?", target=str(2 * i)) for i in range(7)]
TABLES = ("runs", "samples", "results", "checkpoints", "calls", "cache")


def solver(request: MockRequest) -> str:
    text = request.messages[0].content
    i = int(re.search(r"What is (\d+)", text).group(1))  # type: ignore[union-attr]
    last = request.messages[-1].content
    if last.startswith("Review your answer"):
        return "Looks wrong to me. [[INCORRECT]]"
    if last.startswith("Feedback:"):
        return f"Answer: {2 * i if i % 3 else 2 * i + 1}"
    return f"Answer: {2 * i if i % 2 == 0 else 2 * i + 1}"


@pytest.fixture(autouse=True)
def number_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "reflectlab.run._runner.get_task", lambda spec, **kw: NumberTask(list(SAMPLES))
    )
    from reflectlab.model.providers import mock

    original = mock.MockAPI.__init__

    def init(self: mock.MockAPI, model_name: str, **kw: Any) -> None:
        kw.setdefault("outputs", solver)
        original(self, model_name, **kw)

    monkeypatch.setattr(mock.MockAPI, "__init__", init)


def config(**kw: Any) -> RunConfig:
    base: dict[str, Any] = {
        "task": "numbers",
        "model": "mock/solver",
        "max_rounds": 2,
        "baselines": "equal-calls",
        "strategies": [StrategySpec(name="direct"), StrategySpec(name="self_refine")],
    }
    base.update(kw)
    return RunConfig.model_validate(base)


def comparable(store: Store, run_id: str) -> dict[str, Any]:
    """summary_json without the run id and what depends on the clock."""
    run, summary = summarize_stored_run(store, run_id)
    data = to_json(run, summary)
    data.pop("run_id")

    def scrub(x: Any) -> Any:
        if isinstance(x, dict):
            return {
                k: scrub(v)
                for k, v in x.items()
                if not any(t in k for t in ("wall", "latency", "tok_s"))
            }
        if isinstance(x, list):
            return [scrub(v) for v in x]
        return x

    return scrub(data)  # type: ignore[no-any-return]


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}
    finally:
        con.close()


async def run_shards(tmp_path: Path, cfg: RunConfig, n: int) -> list[Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = tmp_path / f"shard{i}.db"
        with Store(path) as store:
            await start_run(cfg, store, shard=Shard(index=i, count=n))
        paths.append(path)
    return paths


def test_shard_parse_and_positions() -> None:
    assert Shard.parse("2/4") == Shard(index=2, count=4)
    for bad in ("4/4", "-1/3", "1", "a/b", "0/0"):
        with pytest.raises(ConfigError, match="I/N"):
            Shard.parse(bad)
    slices = [Shard(index=i, count=3).positions(7) for i in range(3)]
    assert slices == [[0, 3, 6], [1, 4], [2, 5]]


async def test_merged_shards_equal_the_run_in_one_piece(tmp_path: Path) -> None:
    cfg = config()
    with Store(tmp_path / "whole.db") as whole:
        whole_id = await start_run(cfg, whole)
        expected = comparable(whole, whole_id)
    paths = await run_shards(tmp_path, cfg, 3)
    with Store(paths[1]) as one:
        (shard_run,) = one.list_runs()
        assert shard_run.n_samples == 2 and shard_run.run_id == sharded_run_id(cfg)
        assert [s.position for s in one.run_samples(shard_run.run_id)] == [1, 4]
    out_path = tmp_path / "out.db"
    with Store(out_path) as out:
        report = merge_stores(paths, out)
        run_id = sharded_run_id(cfg)
        assert report.runs == {run_id: [0, 1, 2]} and not report.missing
        merged = out.get_run(run_id)
        assert merged is not None and merged.status == "completed"
        assert merged.n_samples == 7 and merged.n_done == merged.n_expected
        assert comparable(out, run_id) == expected
    # every table holds what the one-piece run wrote (ids aside)
    a, b = dump(tmp_path / "whole.db"), dump(out_path)
    for table in ("samples", "results", "checkpoints", "calls", "cache"):
        assert len(a[table]) == len(b[table]), table
    assert {r[-1] for r in b["calls"]} - {r[-1] for r in a["calls"]} <= {None, 0}


async def test_merging_twice_changes_nothing_and_merging_in_steps_works(tmp_path: Path) -> None:
    cfg = config(baselines="none")
    paths = await run_shards(tmp_path, cfg, 3)
    run_id = sharded_run_id(cfg)
    out_path = tmp_path / "out.db"
    with Store(out_path) as out:
        first = merge_stores(paths[:2], out)
        assert first.missing == {run_id: [2]}
        partial = out.get_run(run_id)
        assert partial is not None and partial.status == "partial"
        assert partial.n_expected == 7 * 2  # the whole run's, not the shards'
        assert "missing 2" in (partial.error or "")
        merge_stores(paths[2:], out)
        done = out.get_run(run_id)
        assert done is not None and done.status == "completed" and done.error is None
    once = dump(out_path)
    with Store(out_path) as out:
        again = merge_stores(paths, out)
    assert dump(out_path) == once
    assert set(again.rows.values()) == {0}
    with Store(tmp_path / "direct.db") as direct:
        merge_stores(paths, direct)
    assert dump(tmp_path / "direct.db") == once  # in steps or at once: the same store


async def test_shards_of_different_configs_are_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    a = await run_shards(tmp_path / "a", config(baselines="none"), 2)
    b = await run_shards(tmp_path / "b", config(baselines="none", max_rounds=1), 2)
    with Store(tmp_path / "out.db") as out:
        # different configs are different run ids: merged side by side, never mixed
        report = merge_stores([a[0], b[1]], out)
        assert len(report.runs) == 2 and all(report.missing.values())
    # the same run id with another configuration (a hand-edited or foreign store) is refused
    con = sqlite3.connect(b[0])
    row = con.execute("SELECT config_json FROM runs").fetchone()
    (rid,) = con.execute("SELECT run_id FROM runs").fetchone()
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("UPDATE runs SET run_id = ?", (sharded_run_id(config(baselines="none")),))
    for t in ("samples", "results", "checkpoints", "calls"):
        con.execute(
            f"UPDATE {t} SET run_id = ? WHERE run_id = ?",
            (sharded_run_id(config(baselines="none")), rid),
        )
    con.commit()
    con.close()
    assert json.loads(row[0])["max_rounds"] == 1
    with Store(tmp_path / "fresh.db") as fresh:
        with pytest.raises(ConfigError, match="configurations differ in max_rounds"):
            merge_stores([a[0], b[0]], fresh)
        assert fresh.list_runs() == []


async def test_one_shard_from_two_executions_is_refused(tmp_path: Path) -> None:
    cfg = config(baselines="none")
    first = await run_shards(tmp_path, cfg, 2)
    other = tmp_path / "again"
    other.mkdir()
    with Store(other / "shard0.db") as store:
        await start_run(cfg, store, shard=Shard(index=0, count=2))
    with Store(tmp_path / "out.db") as out:
        with pytest.raises(ConfigError, match="two different executions"):
            merge_stores([first[0], first[1], other / "shard0.db"], out)
        merge_stores(first, out)
        with pytest.raises(ConfigError, match="two different executions"):
            merge_stores([other / "shard0.db"], out)


async def test_a_shard_resumes_its_own_slice_and_a_store_holds_one_shard(tmp_path: Path) -> None:
    cfg = config(baselines="none")
    path = tmp_path / "s.db"
    with Store(path) as store:
        run_id = await start_run(cfg, store, shard=Shard(index=1, count=3))
        calls = len(store.calls(run_id=run_id))
        await resume_run(run_id, store)  # the same two samples; nothing finished runs again
        assert len(store.calls(run_id=run_id)) == calls
        with pytest.raises(ConfigError, match="its own --db"):
            await start_run(cfg, store, shard=Shard(index=2, count=3))
    with Store(tmp_path / "out.db") as out:
        merge_stores([path], out)
        with pytest.raises(ConfigError, match="merged from shards"):
            await resume_run(run_id, out)


def test_cli_run_shard_and_merge(tmp_path: Path) -> None:
    cli = CliRunner()
    base = [
        "run",
        "--task",
        "numbers",
        "--strategy",
        "direct,self_refine",
        "--model",
        "mock/solver",
        "--max-rounds",
        "1",
        "--baselines",
        "none",
        "--quiet",
        "--json",
    ]
    ids = set()
    for i in range(2):
        res = cli.invoke(app, [*base, "--shard", f"{i}/2", "--db", str(tmp_path / f"{i}.db")])
        assert res.exit_code == 0, res.output
        ids.add(json.loads(res.stdout)["run_id"])
    (run_id,) = ids
    out = str(tmp_path / "out.db")
    res = cli.invoke(app, ["merge", str(tmp_path / "0.db"), str(tmp_path / "1.db"), "-o", out])
    assert res.exit_code == 0, res.output
    assert run_id in res.stdout
    shown = cli.invoke(app, ["show", run_id, "--json", "--db", out])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["status"] == "completed" and data["progress"]["done"] == 14
    html = tmp_path / "merged.html"
    reported = cli.invoke(app, ["report", run_id, "--db", out, "-o", str(html)])
    assert reported.exit_code == 0, reported.output
    assert run_id in html.read_text()
    bad = cli.invoke(app, [*base, "--shard", "2/2", "--db", str(tmp_path / "x.db")])
    assert isinstance(bad.exception, ConfigError) and "I/N" in str(bad.exception)
