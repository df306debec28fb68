"""The call log's details (finish reasons, truncation, unknown usage), counted per strategy, and
the cache entry and call record of a finished call landing together or not at all."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reflectlab.errors import ProviderUnavailableError, StoreError
from reflectlab.model import MemoryCache, RetryPolicy, call_tags, get_model
from reflectlab.model.providers.mock import MockReply
from reflectlab.store import MIGRATIONS, CallQuality, Store

NO_WAIT = RetryPolicy(max_attempts=3, initial_delay_s=0.0, jitter=False)


def _count(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


async def test_finish_reason_truncation_and_unknown_usage_are_counted_per_strategy(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "r.db")
    script = [
        MockReply("Answer: 1", finish_reason="length"),  # a: truncated
        "",  # b: empty, retried ...
        MockReply("Answer: 2", usage=False),  # ... then an answer without usage
        "Answer: 3",  # c: fine
        ProviderUnavailableError("down"),  # d: fails after 3 attempts
        ProviderUnavailableError("down"),
        ProviderUnavailableError("down"),
    ]
    model = get_model("mock/m", outputs=script, cache=store, recorder=store, retry=NO_WAIT)
    with call_tags(run_id="R", strategy="self_refine"):
        await model.generate("a", max_tokens=4)
        await model.generate("b")
        await model.generate("a", max_tokens=4)  # cache hit of a truncated reply: still one
    with call_tags(run_id="R", strategy="direct"):
        await model.generate("c")
        with pytest.raises(ProviderUnavailableError):
            await model.generate("d")
    with call_tags(run_id="other", strategy="direct"):
        await model.generate("c")

    quality = store.call_quality("R")
    assert quality == {
        "direct": CallQuality(calls=1, errors=1),
        "self_refine": CallQuality(calls=3, truncated=2, usage_unknown=1, invalid_replies=1),
    }
    rows = store.db.execute(
        "SELECT finish_reasons, truncated, usage_known, invalid_replies, from_cache FROM calls "
        "WHERE run_id = 'R' AND strategy = 'self_refine' ORDER BY started_at"
    ).fetchall()
    assert rows == [
        ('["length"]', 1, 1, 0, 0),
        ('["stop"]', 0, 0, 1, 0),
        ('["length"]', 1, 1, 0, 1),
    ]
    events = store.calls(run_id="R")
    assert events[0].finish_reasons == ["length"] and events[0].version == 2
    assert events[2].truncated and events[2].from_cache
    assert store.call_quality("nosuch") == {}


def test_m004_migrates_an_older_database_and_its_rows_count_as_unrecorded(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
    for fn in MIGRATIONS[:3]:
        fn(con)
        con.execute("INSERT INTO _migrations VALUES (?, 0)", (fn.__name__,))
    assert [fn.__name__ for fn in MIGRATIONS[:4]][-1] == "m004_call_details"
    event = {
        "call_id": "c1",
        "model": "mock/m",
        "request_hash": "h",
        "messages": [],
        "config": {},
        "choices": ["4"],
        "tags": {"run_id": "R", "strategy": "direct"},
    }
    con.execute(
        "INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            *("c1", "h", "mock/m", None, "generate", None, 0, "R", "1", "direct", 0.0, 0.1),
            *(1, 3, 1, 0, 0.0, 0, None, None, json.dumps(event)),
        ),
    )
    con.commit()
    con.close()
    store = Store(path)
    assert "m004_call_details" in store.applied_migrations()
    assert store.call_quality("R") == {"direct": CallQuality(calls=1, unrecorded=1)}
    (old,) = store.calls(run_id="R")
    assert old.finish_reasons == [] and old.usage.known  # a version-1 event still reads


def _failing_call_statement(event: object) -> tuple[str, tuple[()], bool]:
    # The call record, the second statement of the pair, fails (as a full disk would).
    return ("INSERT INTO no_such_table VALUES (1)", (), False)


async def test_a_failure_between_cache_entry_and_call_record_leaves_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflectlab.store import _store

    path = tmp_path / "r.db"
    store = Store(path)
    model = get_model("mock/m", outputs=["Answer: 4", "Answer: 5"], cache=store, recorder=store)
    with monkeypatch.context() as patched:
        patched.setattr(_store, "_call_statement", _failing_call_statement)
        with pytest.raises(StoreError):
            await model.generate("q")
    assert (_count(path, "cache"), _count(path, "calls")) == (0, 0)
    # Rolled back on the writer's connection: the next call lands whole.
    await model.generate("q2")
    assert (_count(path, "cache"), _count(path, "calls")) == (1, 1)
    # The same from synchronous code, on the main connection.
    with monkeypatch.context() as patched:
        patched.setattr(_store, "_call_statement", _failing_call_statement)
        out = await get_model("mock/m", outputs=["Answer: 6"]).generate("q3")
        event = store.calls(run_id=None)[0]
        with pytest.raises(StoreError):
            store.record_cached_call(event, "k3", out)
    assert (_count(path, "cache"), _count(path, "calls")) == (1, 1)
    assert not store.db.conn.in_transaction
    store.close()


_KILLED_CHILD = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from reflectlab.model import get_model
    from reflectlab.store import Store

    def kill_at_call_record(statement):
        # SIGKILL the moment the call record's INSERT starts: after the cache row's INSERT
        # ran, before anything else. No handler, no cleanup: what kill -9 does.
        if "INTO calls" in statement:
            os.kill(os.getpid(), signal.SIGKILL)

    # On every connection the store opens (its writer thread's included).
    connect = Store._connect
    def traced(self):
        db = connect(self)
        db.conn.set_trace_callback(kill_at_call_record)
        return db
    Store._connect = traced

    store = Store(sys.argv[1])
    model = get_model("mock/m", outputs=["Answer: 4"], cache=store, recorder=store)
    asyncio.run(model.generate("q"))
    print("not killed")
    """
)


def test_kill_9_between_cache_entry_and_call_record_leaves_neither(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Store(path).close()
    env = {**os.environ, "REFLECTLAB_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_CHILD, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # A paid call must not come back as a free cache hit on resume: no cache row without its
    # call record (and so, here, neither).
    assert (_count(path, "cache"), _count(path, "calls")) == (0, 0)


async def test_memory_cache_and_recorder_only_setups_still_work(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    cache = MemoryCache()
    model = get_model("mock/m", outputs=["a"], cycle=True, cache=cache, recorder=store)
    await model.generate("q")
    await model.generate("q")
    assert len(cache) == 1
    assert [r[0] for r in store.db.execute("SELECT from_cache FROM calls ORDER BY started_at")] == [
        0,
        1,
    ]
    recorder_only = get_model("mock/m", outputs=["b"], recorder=store)
    await recorder_only.generate("q2")
    assert store.cache_stats().entries == 0
    assert len(store.calls()) == 3
