"""Numbered schema migrations, applied in order, each once. Never edit one after it ships:
add the next number instead (as simonw/llm does)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE cache (
            key TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            output_json TEXT NOT NULL,
            created_at REAL NOT NULL,
            hits INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX cache_model ON cache(model)")
    db.execute(
        """
        CREATE TABLE calls (
            call_id TEXT PRIMARY KEY,
            request_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            base_url TEXT,
            role TEXT NOT NULL,
            round INTEGER,
            sample_index INTEGER NOT NULL,
            run_id TEXT,
            sample_id TEXT,
            strategy TEXT,
            started_at REAL NOT NULL,
            latency_s REAL NOT NULL,
            attempts INTEGER NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            cached_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            from_cache INTEGER NOT NULL,
            error TEXT,
            error_type TEXT,
            event_json TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX calls_run ON calls(run_id, sample_id)")
    db.execute("CREATE INDEX calls_started ON calls(started_at)")
