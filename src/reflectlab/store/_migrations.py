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


@migration
def m002_runs(db: sqlite3.Connection) -> None:
    """Experiments: runs, their samples, one result per (strategy, sample), its checkpoints."""
    db.execute(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            status TEXT NOT NULL,
            task TEXT NOT NULL,
            model TEXT NOT NULL,
            strategies TEXT NOT NULL,
            n_samples INTEGER NOT NULL,
            n_expected INTEGER NOT NULL,
            config_json TEXT NOT NULL,
            versions_json TEXT NOT NULL,
            error TEXT
        )
        """
    )
    db.execute(
        """
        CREATE TABLE samples (
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
            sample_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            input TEXT NOT NULL,
            target_json TEXT NOT NULL,
            metadata_json TEXT NOT NULL,
            PRIMARY KEY (run_id, sample_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE results (
            run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
            strategy TEXT NOT NULL,
            sample_id TEXT NOT NULL,
            baseline_of TEXT,
            budget_mode TEXT,
            final_response TEXT,
            final_correct INTEGER NOT NULL,
            final_answer TEXT,
            final_reason TEXT,
            stop_reason TEXT NOT NULL,
            error TEXT,
            oracle_assisted INTEGER NOT NULL,
            feedback_kinds TEXT NOT NULL,
            calls INTEGER NOT NULL,
            cache_hits INTEGER NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            cached_tokens INTEGER NOT NULL,
            cost_usd REAL NOT NULL,
            wall_s REAL NOT NULL,
            detail_json TEXT NOT NULL,
            finished_at REAL NOT NULL,
            PRIMARY KEY (run_id, strategy, sample_id)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE checkpoints (
            run_id TEXT NOT NULL,
            strategy TEXT NOT NULL,
            sample_id TEXT NOT NULL,
            idx INTEGER NOT NULL,
            round INTEGER NOT NULL,
            response TEXT NOT NULL,
            correct INTEGER NOT NULL,
            score REAL NOT NULL,
            answer TEXT,
            reason TEXT,
            note TEXT,
            calls INTEGER NOT NULL,
            tokens INTEGER NOT NULL,
            PRIMARY KEY (run_id, strategy, sample_id, idx),
            FOREIGN KEY (run_id, strategy, sample_id)
                REFERENCES results(run_id, strategy, sample_id) ON DELETE CASCADE
        )
        """
    )
    db.execute("CREATE INDEX runs_created ON runs(created_at)")


@migration
def m003_run_owner(db: sqlite3.Connection) -> None:
    """Which process runs a run: a run left "running" by a process that is gone (kill -9,
    power loss) is shown as interrupted, not as running forever."""
    db.execute("ALTER TABLE runs ADD COLUMN pid INTEGER")
    db.execute("ALTER TABLE runs ADD COLUMN host TEXT")


@migration
def m004_call_details(db: sqlite3.Connection) -> None:
    """What a call's reply was like, queryable without parsing event_json: the finish reason of
    each choice (a JSON list), whether one was cut by the token limit, whether the server
    reported usage, and how many empty or malformed replies were retried before it. Rows
    written before this migration keep NULL there: not recorded, not "fine"."""
    db.execute("ALTER TABLE calls ADD COLUMN finish_reasons TEXT")
    db.execute("ALTER TABLE calls ADD COLUMN truncated INTEGER")
    db.execute("ALTER TABLE calls ADD COLUMN usage_known INTEGER")
    db.execute("ALTER TABLE calls ADD COLUMN invalid_replies INTEGER")


@migration
def m005_run_leases(db: sqlite3.Connection) -> None:
    """One live runner per run: the owner's token, process (pid, host, start time) and last
    heartbeat. A second runner refuses while the owner lives; a dead owner's lease is taken."""
    db.execute(
        """
        CREATE TABLE run_leases (
            run_id TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE,
            token TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            proc_start TEXT,
            acquired_at REAL NOT NULL,
            heartbeat_at REAL NOT NULL
        )
        """
    )
