"""The store's group commit: calls from an event loop are committed, in groups, before their
reply is used; one bad write does not sink the writes it was grouped with; nothing queued is
lost at close or at exit."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reflectlab.errors import StoreError
from reflectlab.model import get_model
from reflectlab.store import Store
from reflectlab.store._db import Database
from reflectlab.store._writer import GroupWriter


def _rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


async def test_every_call_is_committed_before_its_reply_is_returned(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = Store(path)
    model = get_model("mock/m", outputs=lambda req: "Answer: 1", cache=store, recorder=store)
    seen: list[int] = []

    async def one(i: int) -> None:
        out = await model.generate(f"question {i}")
        # Another connection (another process, after a kill) must already see it.
        seen.append(len(_rows(path, "SELECT 1 FROM calls WHERE call_id = ?", (out.call_id,))))
        seen.append(len(_rows(path, "SELECT 1 FROM cache WHERE key = ?", (out.request_hash,))))

    await asyncio.gather(*(one(i) for i in range(60)))
    assert seen == [1] * 120
    store.close()


async def test_calls_that_finish_together_share_a_commit(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    commits: list[str] = []

    class Counting(Store):
        def _connect(self) -> Database:
            db = super()._connect()
            db.conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
            return db

    store = Counting(path)
    model = get_model("mock/m", outputs=lambda req: "Answer: 1", cache=store, recorder=store)
    await model.generate("warm-up")  # opens the group commit
    commits.clear()
    await asyncio.gather(*(model.generate(f"q{i}") for i in range(200)))
    assert len(_rows(path, "SELECT 1 FROM calls")) == 201
    assert len(commits) < 200  # grouped: fewer commits than calls
    store.close()


async def test_a_failing_write_fails_only_its_own_caller(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store(path).close()
    writer = GroupWriter(Database(sqlite3.connect(path, isolation_level=None), str(path)))
    good = ("INSERT INTO cache (key, model, output_json, created_at) VALUES (?, 'm', '{}', 0)",)
    futures = [
        writer.submit([(good[0], ("a",), False)]),
        writer.submit([("INSERT INTO no_such_table VALUES (1)", (), False)]),
        writer.submit([(good[0], ("b",), False)]),
    ]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], StoreError) and "no_such_table" in str(results[1])
    assert sorted(r[0] for r in _rows(path, "SELECT key FROM cache")) == ["a", "b"]
    writer.close()
    with pytest.raises(StoreError, match="closed"):
        writer.post([(good[0], ("c",), False)])


async def test_queued_hit_counters_are_written_at_close(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = Store(path)
    model = get_model("mock/m", outputs=["Answer: 1"], cache=store, recorder=store)
    await model.generate("q")
    for _ in range(5):
        assert (await model.generate("q")).from_cache
    store.close()
    assert _rows(path, "SELECT hits FROM cache") == [(5,)]


async def test_an_in_memory_store_writes_on_its_own_connection() -> None:
    store = Store(":memory:")  # a second connection would see another database
    model = get_model("mock/m", outputs=["Answer: 1"], cache=store, recorder=store)
    await model.generate("q")
    assert len(store.calls()) == 1 and store.cache_stats().entries == 1
    store.close()


_EXITS_WITHOUT_CLOSE = """
import asyncio, sys
from reflectlab.store import Store

store = Store(sys.argv[1])
writer = store._group_writer()
sql = "INSERT INTO cache (key, model, output_json, created_at) VALUES (?, 'm', '{}', 0)"

async def main():
    for i in range(500):  # queued for this turn's flush, nobody waits
        writer.post([(sql, (f"k{i}",), False)])
    sys.exit(0)  # the loop stops before its flush runs; the store is never closed

asyncio.new_event_loop().run_until_complete(main())
"""


def test_a_process_that_exits_without_closing_still_writes_what_was_queued(
    tmp_path: Path,
) -> None:
    path = tmp_path / "r.db"
    Store(path).close()
    proc = subprocess.run(
        [sys.executable, "-c", _EXITS_WITHOUT_CLOSE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert _rows(path, "SELECT COUNT(*) FROM cache") == [(500,)]


async def test_a_dropped_store_is_freed_not_kept_for_exit(tmp_path: Path) -> None:
    import gc
    import weakref

    store = Store(tmp_path / "r.db")
    model = get_model("mock/m", outputs=["Answer: 1"], cache=store, recorder=store)
    await model.generate("q")
    writer = weakref.ref(store._group_writer())
    del model, store
    gc.collect()
    assert writer() is None  # nothing (an exit hook included) keeps it and its connection
    # ... and its checkpoint thread ends, closing the thread's own connection
    for _ in range(200):
        if not _checkpoint_threads(tmp_path):
            break
        await asyncio.sleep(0.01)
    assert _checkpoint_threads(tmp_path) == []


def _wal_bytes(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _checkpoint_threads(under: Path | None = None) -> list[str]:
    """Names of the live checkpoint threads (of files under ``under``, when given)."""
    import threading

    names = [t.name for t in threading.enumerate() if t.name.startswith("reflectlab-checkpoint")]
    return [n for n in names if under is None or str(under) in n]


async def test_checkpoints_run_off_the_loop_and_keep_the_log_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While the group commit is open, the store's own connection never checkpoints (that is
    # an fsync inside some caller's commit); a thread of its own does, so the log stays small.
    monkeypatch.setattr("reflectlab.store._writer.CHECKPOINT_EVERY_S", 0.01)
    monkeypatch.setattr("reflectlab.store._writer.WAL_REWIND_BYTES", 2_000_000)
    from reflectlab.store._writer import _Checkpointer

    rewinds: list[int] = []
    rewind = _Checkpointer.rewind

    def counted(self: _Checkpointer, db: Database) -> None:
        rewinds.append(1)
        rewind(self, db)

    monkeypatch.setattr(_Checkpointer, "rewind", counted)
    path = tmp_path / "r.db"
    store = Store(path)
    reply = "x" * 20_000  # ~20 MB of cache entries, as much in call records
    model = get_model("mock/m", outputs=lambda req: reply, cache=store, recorder=store)
    await model.generate("warm-up")
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    assert _checkpoint_threads(tmp_path) == [f"reflectlab-checkpoint {path}"]
    largest = 0
    for turn in range(100):
        await asyncio.gather(*(model.generate(f"q{turn}-{i}") for i in range(10)))
        largest = max(largest, _wal_bytes(path))
        await asyncio.sleep(0.002)  # a real run waits on the network between turns
    written = sum(r[0] for r in _rows(path, "SELECT LENGTH(output_json) FROM cache"))
    assert written > 15_000_000  # and as much again in the call records
    # Without checkpoints, or with the thread's alone (they race the commits, so the log is
    # never rewound), the log holds all of it (measured: 50 MB).
    assert largest < 8_000_000
    # ... and the loop checkpoints about once per 2 MB of log, not after every one of the
    # thread's checkpoints (the log file keeps its size; its frame count is what is measured)
    assert 5 <= len(rewinds) <= 2 * 40_000_000 // 2_000_000
    store.close()
    assert _checkpoint_threads(tmp_path) == []
    # Nothing is lost: another connection reads every call and every entry.
    assert _rows(path, "SELECT COUNT(*) FROM calls") == [(1001,)]
    assert _rows(path, "SELECT COUNT(*) FROM cache") == [(1001,)]


def test_an_in_memory_store_needs_no_checkpoint_thread() -> None:
    async def go() -> None:
        store = Store(":memory:")
        model = get_model("mock/m", outputs=["ok"], cache=store, recorder=store)
        before = _checkpoint_threads()
        await model.generate("q")
        assert _checkpoint_threads() == before
        store.close()

    asyncio.run(go())


async def test_without_a_checkpoint_thread_sqlite_keeps_checkpointing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # If the thread's connection cannot be opened, the store's own connection must keep
    # checkpointing (else the log would grow for the whole run).
    import reflectlab.store._writer as writer_module

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    store = Store(tmp_path / "r.db")
    monkeypatch.setattr(writer_module.sqlite3, "connect", refuse)  # the thread's connection
    model = get_model("mock/m", outputs=["ok"], cache=store, recorder=store)
    await model.generate("q")
    assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    assert _checkpoint_threads(tmp_path) == []
    store.close()
