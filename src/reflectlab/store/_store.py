"""The SQLite store: one file, WAL mode, migrated on open.

It implements the model layer's :class:`~reflectlab.model.CallCache`,
:class:`~reflectlab.model.CallRecorder` and :class:`~reflectlab.model.CachingRecorder`. The
connection is in autocommit mode, so each finished model call is durable the moment it is
recorded, not at the end of a batch; an interrupted run loses nothing that finished. A fresh
call's cache entry and its call record are one transaction (:meth:`Store.record_cached_call`),
so a kill between them cannot leave a cached reply that no call record paid for.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from reflectlab._util.paths import default_db_path
from reflectlab.errors import StoreError
from reflectlab.model import CallEvent, ModelOutput
from reflectlab.store._db import Database
from reflectlab.store._leases import RunLeases
from reflectlab.store._migrations import MIGRATIONS
from reflectlab.store._offline import OFFLINE_SAMPLE, OfflineTables
from reflectlab.store._runs import RunTables
from reflectlab.store._writer import GroupWriter, Statement, apply


class CacheStats(BaseModel):
    path: str
    entries: int
    hits: int
    bytes: int
    by_model: dict[str, int]


class CallQuality(BaseModel):
    """How trustworthy one strategy's model calls were (see :meth:`Store.call_quality`)."""

    #: calls that returned a reply (fresh or from the cache; failed calls are in ``errors``)
    calls: int = 0
    #: of those, replies cut by the token limit (finish_reason "length")
    truncated: int = 0
    #: fresh calls whose server reported no usage: their tokens and cost are unknown
    usage_unknown: int = 0
    #: empty or malformed replies that were retried (never used as an answer)
    invalid_replies: int = 0
    #: calls that failed after their retries
    errors: int = 0
    #: calls recorded before finish reasons and usage were (migration m004): not counted above
    unrecorded: int = 0


_CALL_COLUMNS = (
    "call_id, request_hash, model, base_url, role, round, sample_index, run_id, sample_id, "
    "strategy, started_at, latency_s, attempts, prompt_tokens, completion_tokens, "
    "cached_tokens, cost_usd, from_cache, error, error_type, event_json, "
    "finish_reasons, truncated, usage_known, invalid_replies"
)
_INSERT_CALL = (
    f"INSERT OR REPLACE INTO calls ({_CALL_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(_CALL_COLUMNS.split(',')))})"
)


class Store(RunTables, RunLeases, OfflineTables):
    """Open (creating and migrating as needed) the database at ``path``.

    ``Store()`` opens the default database under ``REFLECTLAB_HOME``; ``Store(":memory:")``
    gives a throw-away one.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(default_db_path() if path is None else path)
        self._writer: GroupWriter | None = None
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.db = self._connect()
            self.migrate()
        except (sqlite3.Error, StoreError, OSError) as exc:
            raise StoreError(f"cannot open the reflectlab database at {self.path}: {exc}") from exc

    def _connect(self) -> Database:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db = Database(conn, self.path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=10000")
        return db

    def _group_writer(self) -> GroupWriter:
        """The group commit of writes from an event loop (see :mod:`._writer`)."""
        if self._writer is None:
            self._writer = GroupWriter(self.db)
        return self._writer

    async def _write(self, statements: Sequence[Statement]) -> None:
        """Write ``statements`` in one transaction, grouped with the other writes of this
        event-loop turn; return once they are committed."""
        await self._group_writer().submit(statements)

    # -- schema -------------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending migrations in order; return the names applied now."""
        db = self.db
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)"
        )
        done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        known = {fn.__name__ for fn in MIGRATIONS}
        unknown = done - known
        if unknown:
            raise StoreError(
                f"database {self.path} was written by a newer reflectlab "
                f"(migrations {sorted(unknown)}); upgrade reflectlab"
            )
        applied = []
        for fn in MIGRATIONS:
            if fn.__name__ in done:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                # Re-check under the write lock: another process may have migrated meanwhile.
                if db.execute(
                    "SELECT 1 FROM _migrations WHERE name = ?", (fn.__name__,)
                ).fetchone():
                    db.execute("COMMIT")
                    continue
                fn(db.conn)
                db.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                    (fn.__name__, time.time()),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            applied.append(fn.__name__)
        return applied

    def applied_migrations(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM _migrations ORDER BY rowid")]

    # -- cache (CallCache) --------------------------------------------------------------------
    def cache_get(self, key: str) -> ModelOutput | None:
        row = self.db.execute("SELECT output_json FROM cache WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        # A counter: queued with this loop turn's writes, not waited for.
        self._group_writer().post(
            [("UPDATE cache SET hits = hits + 1 WHERE key = ?", (key,), False)]
        )
        return ModelOutput.model_validate_json(row[0])

    def cache_put(self, key: str, output: ModelOutput) -> None:
        apply(self.db, [_cache_statement(key, output)])

    def record_cached_call(self, event: CallEvent, key: str, output: ModelOutput) -> None:
        """Cache ``output`` under ``key`` and record ``event`` in one transaction (both land or
        neither), so an interrupted process never leaves a free cache hit for a call that no
        call record paid for."""
        with self.db.transaction():
            apply(self.db, [_cache_statement(key, output), _call_statement(event)])

    async def arecord_cached_call(self, event: CallEvent, key: str, output: ModelOutput) -> None:
        """:meth:`record_cached_call` from an event loop: the same single transaction, grouped
        with the other calls that finished in this event-loop turn; returns once it is
        committed."""
        await self._write([_cache_statement(key, output), _call_statement(event)])

    async def arecord_call(self, event: CallEvent) -> None:
        """:meth:`record_call` from an event loop (see :meth:`arecord_cached_call`)."""
        await self._write([_call_statement(event)])

    def cache_stats(self) -> CacheStats:
        entries, hits, size = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(hits), 0), COALESCE(SUM(LENGTH(output_json)), 0) "
            "FROM cache"
        ).fetchone()
        by_model = dict(
            self.db.execute("SELECT model, COUNT(*) FROM cache GROUP BY model ORDER BY model")
        )
        return CacheStats(path=self.path, entries=entries, hits=hits, bytes=size, by_model=by_model)

    def cache_clear(self, model: str | None = None) -> int:
        """Delete cached replies (of one model, or all); return how many were deleted."""
        if model is None:
            cur = self.db.execute("DELETE FROM cache")
        else:
            cur = self.db.execute("DELETE FROM cache WHERE model = ?", (model,))
        return cur.rowcount

    # -- call log (CallRecorder) --------------------------------------------------------------
    def record_call(self, event: CallEvent) -> None:
        apply(self.db, [_call_statement(event)])

    def call_quality(self, run_id: str, *, offline: bool = False) -> dict[str, CallQuality]:
        """Per strategy of run ``run_id`` (key ``""`` for calls without one): how many calls
        returned a reply, how many of those were truncated, how many fresh ones came without
        usage, how many empty or malformed replies were retried, how many calls failed.
        The calls of offline stages (:data:`OFFLINE_SAMPLE`) are apart: only with ``offline``.

        Example::

            store.call_quality(run_id)["self_refine"].truncated  # replies cut by max_tokens
        """
        rows = self.db.execute(
            """
            SELECT COALESCE(strategy, ''),
                   SUM(error IS NULL),
                   COALESCE(SUM(error IS NULL AND truncated > 0), 0),
                   COALESCE(SUM(error IS NULL AND from_cache = 0 AND usage_known = 0), 0),
                   COALESCE(SUM(invalid_replies), 0),
                   SUM(error IS NOT NULL),
                   COALESCE(SUM(error IS NULL AND truncated IS NULL), 0)
            FROM calls WHERE run_id = ? AND (COALESCE(sample_id, '') = ?) = ?
            GROUP BY 1 ORDER BY 1
            """,
            (run_id, OFFLINE_SAMPLE, int(offline)),
        )
        return {
            r[0]: CallQuality(
                calls=r[1],
                truncated=r[2],
                usage_unknown=r[3],
                invalid_replies=r[4],
                errors=r[5],
                unrecorded=r[6],
            )
            for r in rows
        }

    def generation_tok_s(self, run_id: str) -> dict[str, float]:
        """Per model of run ``run_id``: generated tokens per second of its fresh, successful
        calls with known usage (completion tokens / summed call latency). Cache hits are left
        out: they cost no generation. With calls in flight together it is the speed one
        request sees, not the server's total.

        Example::

            store.generation_tok_s(run_id)  # {"llamacpp/default": 31.4}
        """
        rows = self.db.execute(
            """
            SELECT model, SUM(completion_tokens), SUM(latency_s) FROM calls
            WHERE run_id = ? AND from_cache = 0 AND error IS NULL
              AND COALESCE(usage_known, 1) = 1
            GROUP BY model ORDER BY model
            """,
            (run_id,),
        )
        return {r[0]: r[1] / r[2] for r in rows if r[2] and r[2] > 0}

    def calls(self, *, run_id: str | None = None, limit: int | None = None) -> list[CallEvent]:
        sql = "SELECT event_json FROM calls"
        params: list[Any] = []
        if run_id is not None:
            sql += " WHERE run_id = ?"
            params.append(run_id)
        sql += " ORDER BY started_at"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [CallEvent.model_validate_json(r[0]) for r in self.db.execute(sql, params)]

    def close(self) -> None:
        """Write what the group commit still holds, then close the connection."""
        if self._writer is not None:
            self._writer.close()
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cache_statement(key: str, output: ModelOutput) -> Statement:
    return (
        "INSERT OR REPLACE INTO cache (key, model, output_json, created_at) VALUES (?, ?, ?, ?)",
        (key, output.model, output.model_dump_json(), time.time()),
        False,
    )


def _call_statement(event: CallEvent) -> Statement:
    tags = event.tags
    return (
        _INSERT_CALL,
        (
            event.call_id,
            event.request_hash,
            event.model,
            event.base_url,
            event.role,
            event.round,
            event.sample_index,
            tags.get("run_id"),
            None if tags.get("sample_id") is None else str(tags["sample_id"]),
            tags.get("strategy"),
            event.started_at,
            event.latency_s,
            event.attempts,
            event.usage.prompt_tokens,
            event.usage.completion_tokens,
            event.usage.cached_tokens,
            event.usage.cost_usd,
            int(event.from_cache),
            event.error,
            event.error_type,
            event.model_dump_json(),
            orjson.dumps(event.finish_reasons).decode(),
            sum(reason == "length" for reason in event.finish_reasons),
            int(event.usage.known),
            event.invalid_replies,
        ),
        False,
    )
