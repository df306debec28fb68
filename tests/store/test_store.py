"""The SQLite store: migrations, the cache and the call log, durability per call."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from reflectlab.errors import StoreError
from reflectlab.model import get_model
from reflectlab.store import MIGRATIONS, Store


def test_migrations_from_empty_db_and_rerun_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = Store(path)
    names = [fn.__name__ for fn in MIGRATIONS]
    assert store.applied_migrations() == names
    assert names[0] == "m001_initial"
    store.close()
    again = Store(path)
    assert again.migrate() == []  # nothing left to apply
    assert again.applied_migrations() == names
    assert again.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO _migrations VALUES ('m999_future', 0)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer reflectlab"):
        Store(path)


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises((StoreError, OSError)):
        Store(blocker / "sub" / "r.db")


async def test_each_call_is_committed_when_it_finishes(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = Store(path)
    model = get_model("mock/m", outputs=["a", "b"], cache=store, recorder=store)
    await model.generate("one", role="draft", round=0)
    # A second connection (another process, or after kill -9) sees it at once.
    other = sqlite3.connect(path)
    assert other.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == 1
    assert other.execute("SELECT COUNT(*) FROM cache").fetchone()[0] == 1
    await model.generate("one", role="draft", round=0)  # cache hit, logged as such
    rows = other.execute("SELECT role, round, from_cache FROM calls ORDER BY started_at").fetchall()
    assert rows == [("draft", 0, 0), ("draft", 0, 1)]
    stats = store.cache_stats()
    assert (stats.entries, stats.hits, stats.by_model) == (1, 1, {"mock/m": 1})
    events = store.calls()
    assert [e.from_cache for e in events] == [False, True]
    assert store.cache_clear("mock/other") == 0
    assert store.cache_clear() == 1
    assert store.cache_get(events[0].request_hash) is None
