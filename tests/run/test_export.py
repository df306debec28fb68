"""export_run / `reflectlab export`: a mock run as JSON Lines, CSV and Parquet rows."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.run import (
    RunConfig,
    StrategySpec,
    export_columns,
    export_rows,
    export_run,
    export_text,
    start_run,
)
from reflectlab.store import ResultRecord, Store

runner = CliRunner()


async def _mock_run(store: Store) -> str:
    config = RunConfig(
        task="arith",
        model="mock/m",
        limit=3,
        max_rounds=1,
        baselines="none",
        strategies=[StrategySpec(name="direct"), StrategySpec.parse("self_refine:feedback=oracle")],
    )
    run_id = await start_run(config, store)
    # one errored sample, as a failed model call leaves it
    first = store.results(run_id, strategy="direct", with_checkpoints=False)[0]
    store.save_result(
        ResultRecord(
            run_id=run_id,
            strategy="direct",
            sample_id=first.sample_id,
            final_response=None,
            final_correct=False,
            stop_reason="model_error",
            error="RateLimitError: slow down",
            detail={"error_kind": "RateLimitError"},
        )
    )
    return run_id


async def test_results_rows_one_per_strategy_and_sample(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    run_id = await _mock_run(store)
    rows = export_rows(store, run_id)
    assert len(rows) == 6  # 2 strategies x 3 samples
    assert all(tuple(row) == export_columns("results") for row in rows)
    by_key = {(r["strategy"], r["sample_id"]): r for r in rows}
    errored = [r for r in rows if r["errored"]]
    assert len(errored) == 1 and errored[0]["error_kind"] == "RateLimitError"
    assert errored[0]["final_correct"] is False
    oracle = [r for r in rows if r["strategy"] == "self_refine:feedback=oracle"]
    assert all(r["oracle_assisted"] and r["provenance"] == "ORACLE-ASSISTED" for r in oracle)
    direct = by_key[("direct", rows[-1]["sample_id"])]
    assert direct["provenance"] == "none" and direct["input"] and direct["model"] == "mock/m"
    assert isinstance(direct["correct_by_round"], list)
    assert json.loads(direct["target"]) is not None


async def test_jsonl_and_csv_load_back_with_the_same_rows(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    run_id = await _mock_run(store)
    lines = export_text(store, run_id, format="jsonl").splitlines()
    assert len(lines) == 6 and set(json.loads(lines[0])) == set(export_columns())
    table = list(csv.DictReader(io.StringIO(export_text(store, run_id, format="csv"))))
    assert len(table) == 6 and tuple(table[0]) == export_columns()
    assert {r["error_kind"] for r in table} == {"", "RateLimitError"}
    assert json.loads(table[0]["feedback_kinds"]) in ([], ["oracle"])
    checkpoints = export_rows(store, run_id, "checkpoints")
    assert checkpoints and set(checkpoints[0]) == set(export_columns("checkpoints"))
    calls = export_rows(store, run_id, "calls")
    assert calls and all(c["run_id"] == run_id for c in calls)
    assert {c["strategy"] for c in calls} == {"direct", "self_refine:feedback=oracle"}


async def test_parquet_loads_with_pandas_or_pyarrow(tmp_path: Path) -> None:
    pa_parquet = pytest.importorskip("pyarrow.parquet")
    store = Store(tmp_path / "s.db")
    run_id = await _mock_run(store)
    path = tmp_path / "r.parquet"
    assert export_run(store, run_id, path, format="parquet") == 6
    try:
        import pandas  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        table = pa_parquet.read_table(path).to_pylist()
    else:
        table = pandas.read_parquet(path).to_dict("records")
    assert len(table) == 6 and list(table[0]) == list(export_columns())
    assert sum(bool(r["oracle_assisted"]) for r in table) == 3
    assert [r["error_kind"] for r in table if r["errored"]] == ["RateLimitError"]


async def test_parquet_without_pyarrow_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: object, **kw: object) -> object:
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real_import(name, *args, **kw)  # type: ignore[arg-type]

    store = Store(tmp_path / "s.db")
    run_id = await _mock_run(store)
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(ConfigError, match=r"pip install 'reflectlab\[export\]'"):
        export_run(store, run_id, tmp_path / "x.parquet", format="parquet")


async def test_cli_writes_a_file_and_refuses_bad_options(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    run_id = await _mock_run(store)
    store.close()
    db = str(tmp_path / "s.db")
    out = tmp_path / "r.csv"
    result = runner.invoke(app, ["export", run_id, "-f", "csv", "-o", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 6
    stdout = runner.invoke(app, ["export", run_id, "--what", "checkpoints", "--db", db])
    assert stdout.exit_code == 0 and json.loads(stdout.stdout.splitlines()[0])["idx"] == 0
    for bad in (["-f", "xlsx"], ["--what", "samples"], ["-f", "parquet"]):
        failed = runner.invoke(app, ["export", run_id, *bad, "--db", db])
        assert isinstance(failed.exception, ConfigError), failed.output
