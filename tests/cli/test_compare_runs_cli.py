"""`reflectlab compare RUN_A RUN_B` beside `compare RUN --baseline S`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.run.test_compare_runs import add_run
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.store import Store

runner = CliRunner()


def _db(tmp_path: Path) -> str:
    store = Store(tmp_path / "s.db")
    add_run(store, "20260101-aaaa", {"direct": {"s1": True, "s2": True, "s3": False},
                                     "self_refine": {"s1": True, "s2": False, "s3": False}},
            )  # fmt: skip
    add_run(store, "20260102-bbbb", {"direct": {"s1": False, "s2": True, "s3": True}},
            model="mock/other")  # fmt: skip
    store.close()
    return str(tmp_path / "s.db")


def test_two_runs_table_fits_80_columns_and_lists_changed_samples(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["compare", "20260101", "20260102", "--db", db],
                           env={"COLUMNS": "80"})  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "A = 20260101-aaaa  mock/m" in out and "B = 20260102-bbbb  mock/other" in out
    assert "right in A, wrong in B: s1" in out
    assert "wrong in A, right in B: s3" in out
    assert "only in A (not compared): self_refine" in out


def test_two_runs_json(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["compare", "20260101-aaaa", "20260102-bbbb", "--json",
                                 "--db", db])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    row = doc["strategies"][0]
    assert row["strategy"] == "direct" and row["n_paired"] == 3
    assert row["right_in_a_wrong_in_b"] == ["s1"] and row["wrong_in_a_right_in_b"] == ["s3"]
    assert row["comparison"]["b"] == 1 and row["comparison"]["c"] == 1


def test_one_run_still_compares_against_a_baseline(tmp_path: Path) -> None:
    db = _db(tmp_path)
    result = runner.invoke(app, ["compare", "20260101-aaaa", "-b", "direct", "--json",
                                 "--db", db])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["comparisons"][0]["strategy"] == "self_refine"
    missing = runner.invoke(app, ["compare", "20260101-aaaa", "--db", db])
    assert isinstance(missing.exception, ConfigError)
    assert "needs --baseline" in str(missing.exception)
    both = runner.invoke(app, ["compare", "20260101", "20260102", "-b", "direct", "--db", db])
    assert isinstance(both.exception, ConfigError)
    no_shared = runner.invoke(app, ["compare", "20260101", "20260102", "x", "--db", db])
    assert isinstance(no_shared.exception, ConfigError)


def test_long_strategy_labels_break_only_at_their_parts(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    label = "self_consistency@self_refine:feedback=oracle"
    for run_id in ("20260101-aaaa", "20260102-bbbb"):
        add_run(store, run_id, {"direct": {"s1": True}, label: {"s1": run_id.endswith("a")}})
    store.close()
    result = runner.invoke(
        app,
        ["compare", "20260101-aaaa", "20260102-bbbb", "--db", str(tmp_path / "s.db")],
        env={"COLUMNS": "80"},
    )
    assert result.exit_code == 0, result.output
    table = result.stdout.split("\nB-A in points")[0].splitlines()[2:]
    assert max(len(line) for line in table) <= 80
    firsts = [line.split()[0] for line in table if line.strip() and not line.startswith("─")]
    assert set(firsts) <= {"strategy", "direct", "ORACLE", "self_consistency", "@self_refine",
                           ":feedback=oracle"}, firsts  # fmt: skip
    assert "right in A, wrong in B: s1" in result.stdout
