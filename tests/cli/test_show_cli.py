"""`reflectlab show`/`compare`: finding a stored run by its id or a prefix of it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.store import RunRecord, Store

runner = CliRunner()


def _store_with_runs(path: Path, *run_ids: str) -> Store:
    store = Store(path)
    for k, run_id in enumerate(run_ids):
        now = time.time() + k
        store.create_run(
            RunRecord(
                run_id=run_id, created_at=now, updated_at=now, status="finished", task="arith",
                model="mock/m", strategies=["direct"], n_samples=0, n_expected=0, config={},
                versions={},
            ),
            [],
        )  # fmt: skip
    return store


def test_an_ambiguous_prefix_names_the_matches(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    store = _store_with_runs(db, "20260101-aaaa", "20260102-bbbb", "20250101-cccc")
    with pytest.raises(ConfigError, match="ambiguous") as info:
        store.get_run("2026")
    message = str(info.value)
    assert "20260102-bbbb, 20260101-aaaa" in message  # newest first
    assert "20250101-cccc" not in message
    for command in (["show", "2026"], ["compare", "2026", "-b", "direct"]):
        result = runner.invoke(app, [*command, "--db", str(db)])
        assert isinstance(result.exception, ConfigError), result.output
        assert "prefix '2026' is ambiguous" in str(result.exception)
        assert "20260101-aaaa" in str(result.exception)


def test_unique_prefix_exact_id_and_no_match(tmp_path: Path) -> None:
    store = _store_with_runs(tmp_path / "r.db", "20260101-aaaa", "20260101-aaaa-2", "x_y")
    run = store.get_run("20260101-aaaa")  # exact id wins over being a prefix of another
    assert run is not None and run.run_id == "20260101-aaaa"
    unique = store.get_run("20260101-aaaa-")
    assert unique is not None and unique.run_id == "20260101-aaaa-2"
    assert store.get_run("1999") is None
    assert store.get_run("") is None
    assert store.get_run("x%") is None  # what the user typed is not a LIKE pattern
    result = runner.invoke(app, ["show", "1999", "--db", str(tmp_path / "r.db")])
    assert isinstance(result.exception, ConfigError) and "no run '1999'" in str(result.exception)
