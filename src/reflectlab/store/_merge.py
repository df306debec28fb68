"""Copying one run's rows from another store file, and writing the run row of a merge.

The rules that decide *whether* runs may be merged (same configuration, shard counts, ...)
live in :mod:`reflectlab.run._shards`; this module only moves rows, idempotently:

- samples, calls and cache entries are keyed (run and sample id, call id, request hash) and
  copied only when absent, so copying twice adds nothing;
- a result is copied, with its checkpoints, when it is absent or finished at another time (the
  shard was resumed since and retried it); an identical result is left alone;
- the cache entries copied are those the run's calls made (by request hash), not the whole
  source cache;
- an offline stage (``rot``'s guidelines) is copied from the first source that has it.

Each source is copied in one transaction: a merge interrupted half-way leaves whole sources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from reflectlab.store._runs import RunRecord
    from reflectlab.store._store import Store


class MergedPart(BaseModel):
    """One shard as merged: which execution (its start time) and how it stood."""

    index: int
    created_at: float
    updated_at: float
    status: str
    error: str | None = None
    n_samples: int
    n_expected: int


def _columns(store: Store, table: str) -> str:
    return ", ".join(r[1] for r in store.db.execute(f"PRAGMA main.table_info({table})"))


def copy_run_rows(store: Store, source: Path, run_id: str, record: RunRecord) -> dict[str, int]:
    """Copy run ``run_id``'s rows from the store file ``source`` into ``store``; return how
    many rows of each table were new or changed."""
    db = store.db
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    counts: dict[str, int] = {}
    try:
        with store.db.transaction():
            run_cols = ", ".join(
                c for c in _columns(store, "runs").split(", ") if c not in ("pid", "host")
            )
            db.execute(
                f"INSERT OR IGNORE INTO main.runs ({run_cols}) "
                f"SELECT {run_cols} FROM src.runs WHERE run_id = ?",
                (run_id,),
            )
            cols = _columns(store, "samples")
            counts["samples"] = db.execute(
                f"INSERT OR IGNORE INTO main.samples ({cols}) "
                f"SELECT {cols} FROM src.samples WHERE run_id = ?",
                (run_id,),
            ).rowcount
            changed = db.execute(
                "SELECT s.strategy, s.sample_id FROM src.results s LEFT JOIN main.results m "
                "ON m.run_id = s.run_id AND m.strategy = s.strategy AND m.sample_id = s.sample_id "
                "WHERE s.run_id = ? AND (m.run_id IS NULL OR m.finished_at IS NOT s.finished_at)",
                (run_id,),
            ).fetchall()
            rcols, ccols = _columns(store, "results"), _columns(store, "checkpoints")
            keys = [(run_id, strategy, sample_id) for strategy, sample_id in changed]
            where = "WHERE run_id = ? AND strategy = ? AND sample_id = ?"
            db.executemany(f"DELETE FROM main.checkpoints {where}", keys)
            db.executemany(
                f"INSERT OR REPLACE INTO main.results ({rcols}) "
                f"SELECT {rcols} FROM src.results {where}",
                keys,
            )
            db.executemany(
                f"INSERT INTO main.checkpoints ({ccols}) "
                f"SELECT {ccols} FROM src.checkpoints {where}",
                keys,
            )
            counts["results"] = len(keys)
            cols = _columns(store, "calls")
            counts["calls"] = db.execute(
                f"INSERT OR IGNORE INTO main.calls ({cols}) "
                f"SELECT {cols} FROM src.calls WHERE run_id = ?",
                (run_id,),
            ).rowcount
            cols = _columns(store, "cache")
            counts["cache"] = db.execute(
                f"INSERT OR IGNORE INTO main.cache ({cols}) SELECT {cols} FROM src.cache "
                "WHERE key IN (SELECT request_hash FROM src.calls WHERE run_id = ? "
                "AND error IS NULL AND from_cache = 0)",
                (run_id,),
            ).rowcount
            counts["offline_stages"] = _copy_offline_stages(store, run_id)
            if not isinstance(record.versions.get("shard"), dict):
                _set_run(store, record, record.versions)  # a whole run: as it stands there
    finally:
        db.execute("DETACH DATABASE src")
    return counts


def _copy_offline_stages(store: Store, run_id: str) -> int:
    """Each strategy's offline stage, from the first source that has it (every shard runs the
    same stage on the same training split); a source from before the table adds none."""
    has = store.db.execute(
        "SELECT 1 FROM src.sqlite_master WHERE type = 'table' AND name = 'offline_stages'"
    ).fetchone()
    if not has:
        return 0
    cols = _columns(store, "offline_stages")
    return int(
        store.db.execute(
            f"INSERT OR IGNORE INTO main.offline_stages ({cols}) "
            f"SELECT {cols} FROM src.offline_stages WHERE run_id = ?",
            (run_id,),
        ).rowcount
    )


def write_merged_run(
    store: Store,
    record: RunRecord,
    *,
    count: int | None,
    parts: dict[int, MergedPart],
    versions: dict[str, Any],
) -> None:
    """Set the run row of a merge of ``parts`` (shards of ``count``): sizes summed, the whole
    run's expected count until every shard is in, status completed when all shards are."""
    if count is None:
        return
    info = record.versions.get("shard") or {}
    present = [parts[i] for i in sorted(parts)]
    missing = [i for i in range(count) if i not in parts]
    statuses = {p.status for p in present}
    if missing:
        status = "partial"
    elif statuses == {"completed"}:
        status = "completed"
    elif statuses <= {"completed", "budget_exhausted"}:
        status = "budget_exhausted"
    else:
        status = "partial"
    notes = []
    if missing:
        notes.append(
            f"merged {len(present)} of {count} shards; missing {', '.join(map(str, missing))}"
        )
    for p in present:
        if p.status != "completed":
            notes.append(f"shard {p.index}/{count}: {p.status}{f' ({p.error})' if p.error else ''}")
        elif p.error:
            notes.append(f"shard {p.index}/{count}: {p.error}")
    merged = record.model_copy(
        update={
            "created_at": min(p.created_at for p in present),
            "updated_at": max(p.updated_at for p in present),
            "status": status,
            "error": "; ".join(notes) or None,
            "n_samples": sum(p.n_samples for p in present),
            "n_expected": (
                int(info.get("expected_total", 0))
                if missing
                else sum(p.n_expected for p in present)
            ),
        }
    )
    shard = {
        "count": count,
        "n_total": info.get("n_total"),
        "expected_total": info.get("expected_total"),
        "parts": {str(p.index): p.model_dump() for p in present},
    }
    with store.db.transaction():
        _set_run(store, merged, {**versions, "shard": shard})


def _set_run(store: Store, run: RunRecord, versions: dict[str, Any]) -> None:
    store.db.execute(
        "UPDATE runs SET created_at = ?, updated_at = ?, status = ?, n_samples = ?, "
        "n_expected = ?, versions_json = ?, error = ?, pid = NULL, host = NULL "
        "WHERE run_id = ?",
        (
            run.created_at,
            run.updated_at,
            run.status,
            run.n_samples,
            run.n_expected,
            json.dumps(versions),
            run.error,
            run.run_id,
        ),
    )
