"""The offline-stage table: what a strategy learned once per run on the training split."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel, Field

from reflectlab.store._db import Database

#: The sample id an offline stage's calls are tagged with (they belong to no sample).
OFFLINE_SAMPLE = "(offline)"

_COLS = (
    "run_id, strategy, params_json, record_json, oracle_reasons_json, calls, cache_hits, "
    "prompt_tokens, completion_tokens, cost_usd, wall_s, finished_at"
)


class OfflineRecord(BaseModel):
    """One strategy's offline stage in one run. ``params`` completed the test-time strategy's
    parameters (``rot``: its guidelines); ``record`` is what it learned and from what;
    ``oracle_reasons`` the gold-label uses, all on the training split."""

    run_id: str
    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)
    record: dict[str, Any] = Field(default_factory=dict)
    oracle_reasons: list[str] = Field(default_factory=list)
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    finished_at: float = 0.0


class OfflineTables:
    """Mixed into :class:`reflectlab.store.Store`."""

    db: Database

    def save_offline(self, rec: OfflineRecord) -> None:
        self.db.execute(
            f"INSERT OR REPLACE INTO offline_stages ({_COLS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rec.run_id,
                rec.strategy,
                json.dumps(rec.params),
                json.dumps(rec.record),
                json.dumps(rec.oracle_reasons),
                rec.calls,
                rec.cache_hits,
                rec.prompt_tokens,
                rec.completion_tokens,
                rec.cost_usd,
                rec.wall_s,
                rec.finished_at or time.time(),
            ),
        )

    def offline_stages(self, run_id: str) -> list[OfflineRecord]:
        rows = self.db.execute(
            f"SELECT {_COLS} FROM offline_stages WHERE run_id = ? ORDER BY finished_at",
            (run_id,),
        ).fetchall()
        return [_from_row(row) for row in rows]

    def get_offline(self, run_id: str, strategy: str) -> OfflineRecord | None:
        return next((r for r in self.offline_stages(run_id) if r.strategy == strategy), None)


def _from_row(row: tuple[Any, ...]) -> OfflineRecord:
    return OfflineRecord(
        run_id=row[0],
        strategy=row[1],
        params=json.loads(row[2]),
        record=json.loads(row[3]),
        oracle_reasons=json.loads(row[4]),
        calls=row[5],
        cache_hits=row[6],
        prompt_tokens=row[7],
        completion_tokens=row[8],
        cost_usd=row[9],
        wall_s=row[10],
        finished_at=row[11],
    )
