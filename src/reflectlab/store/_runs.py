"""Run tables: runs, samples, results (one per strategy x sample) and their checkpoints.

A result and its checkpoints are written in one transaction when the sample finishes, so a
killed run never leaves half a sample behind; ``finished`` tells a resumed run what to skip.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from reflectlab.errors import ConfigError
from reflectlab.store._db import Database
from reflectlab.store._leases import HOST, pid_exists
from reflectlab.store._writer import Statement, apply


class RunRecord(BaseModel):
    run_id: str
    created_at: float
    updated_at: float
    status: str
    task: str
    model: str
    strategies: list[str]
    n_samples: int
    n_expected: int
    config: dict[str, Any]
    versions: dict[str, Any]
    error: str | None = None
    n_done: int = 0


class CheckpointRecord(BaseModel):
    idx: int
    round: int
    response: str
    correct: bool
    score: float = 0.0
    answer: str | None = None
    reason: str | None = None
    note: str | None = None
    calls: int = 0
    tokens: int = 0


class ResultRecord(BaseModel):
    """One strategy on one sample. ``error_kind`` is set when the sample errored (a failed
    model call, sandbox or strategy bug: see :attr:`errored`); it is kept in ``detail``."""

    run_id: str
    strategy: str
    sample_id: str
    baseline_of: str | None = None
    budget_mode: str | None = None
    final_response: str | None
    final_correct: bool
    final_answer: str | None = None
    final_reason: str | None = None
    stop_reason: str
    error: str | None = None
    oracle_assisted: bool = False
    feedback_kinds: list[str] = Field(default_factory=list)
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    detail: dict[str, Any] = Field(default_factory=dict)
    finished_at: float = 0.0
    checkpoints: list[CheckpointRecord] = Field(default_factory=list)

    @property
    def error_kind(self) -> str | None:
        """What made this sample error, or ``None`` if it ran to its end. Results stored
        before the kind was recorded fall back on their stop reason."""
        return error_kind(self.detail.get("error_kind"), self.error, self.stop_reason)

    @property
    def errored(self) -> bool:
        return self.error_kind is not None


class SampleRecord(BaseModel):
    sample_id: str
    position: int
    input: str
    target: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)


_ERROR_STOPS = ("model_error", "strategy_error", "sandbox_error")


def error_kind(recorded: Any, error: str | None, stop_reason: str) -> str | None:
    """A result's error kind: the one recorded in its detail, else (results stored before it
    was) one read from its stop reason and error."""
    kind = recorded
    if kind is None and error is not None and stop_reason in _ERROR_STOPS:
        kind = error.split(":", 1)[0] if stop_reason == "model_error" else stop_reason
    return None if kind is None else str(kind)


#: The columns :meth:`RunTables.outcome_rows` yields, in order.
OUTCOME_COLUMNS = (
    "strategy", "sample_id", "correct_by_round", "final_correct", "has_answer", "calls",
    "cache_hits", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd", "wall_s",
    "feedback_kinds", "oracle_assisted", "stop_reason", "error", "error_kind", "scored",
    "baseline_of", "budget_mode",
)  # fmt: skip
_RUN_COLS = (
    "run_id, created_at, updated_at, status, task, model, strategies, n_samples, n_expected, "
    "config_json, versions_json, error"
)


def _alive(pid: int | None, host: str | None) -> bool:
    """Whether the process that owns a running run still exists (unknown hosts: assume so)."""
    if pid is None or host != HOST:
        return True
    return pid_exists(pid)


class RunTables:
    """Mixed into :class:`reflectlab.store.Store`."""

    db: Database

    if TYPE_CHECKING:  # provided by Store: one transaction, group-committed per loop turn

        async def _write(self, statements: Sequence[Statement]) -> None: ...

    def create_run(self, run: RunRecord, samples: list[SampleRecord]) -> None:
        with self.db.transaction():
            self.db.execute(
                f"INSERT INTO runs ({_RUN_COLS}, pid, host) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id,
                    run.created_at,
                    run.updated_at,
                    run.status,
                    run.task,
                    run.model,
                    json.dumps(run.strategies),
                    run.n_samples,
                    run.n_expected,
                    json.dumps(run.config),
                    json.dumps(run.versions),
                    run.error,
                    os.getpid(),
                    HOST,
                ),
            )
            self.db.executemany(
                "INSERT INTO samples VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        run.run_id,
                        s.sample_id,
                        s.position,
                        s.input,
                        json.dumps(s.target, default=str),
                        json.dumps(s.metadata, default=str),
                    )
                    for s in samples
                ],
            )

    def set_run_status(self, run_id: str, status: str, error: str | None = None) -> None:
        self.db.execute(
            "UPDATE runs SET status = ?, error = ?, updated_at = ?, pid = ?, host = ? "
            "WHERE run_id = ?",
            (status, error, time.time(), os.getpid(), HOST, run_id),
        )

    def update_run_expected(self, run_id: str, n_expected: int) -> None:
        self.db.execute("UPDATE runs SET n_expected = ? WHERE run_id = ?", (n_expected, run_id))

    def _run_from_row(self, row: tuple[Any, ...], n_done: int) -> RunRecord:
        status = row[3]
        if status == "running" and not _alive(row[12], row[13]):
            status = "interrupted"  # its process is gone (kill -9, crash): resume it
        return RunRecord(
            run_id=row[0],
            created_at=row[1],
            updated_at=row[2],
            status=status,
            task=row[4],
            model=row[5],
            strategies=json.loads(row[6]),
            n_samples=row[7],
            n_expected=row[8],
            config=json.loads(row[9]),
            versions=json.loads(row[10]),
            error=row[11],
            n_done=n_done,
        )

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this id, or the only one it is a prefix of; ``None`` if none matches.
        A prefix of several runs raises :class:`~reflectlab.errors.ConfigError` listing them."""
        row = self.db.execute(
            f"SELECT {_RUN_COLS}, pid, host FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if row is None:
            # substr, not LIKE: '_' and '%' in what the user typed are not wildcards.
            matches = self.db.execute(
                f"SELECT {_RUN_COLS}, pid, host FROM runs WHERE substr(run_id, 1, ?) = ? "
                "ORDER BY created_at DESC LIMIT 11",
                (len(run_id), run_id),
            ).fetchall()
            if not matches or not run_id:
                return None
            if len(matches) > 1:
                shown = ", ".join(m[0] for m in matches[:10])
                more = " and more" if len(matches) > 10 else ""
                raise ConfigError(
                    f"run id prefix {run_id!r} is ambiguous: it matches {shown}{more} "
                    "(newest first); give more characters"
                )
            row = matches[0]
        done = self.db.execute(
            "SELECT COUNT(*) FROM results WHERE run_id = ?", (row[0],)
        ).fetchone()[0]
        return self._run_from_row(row, done)

    def list_runs(self, limit: int = 50) -> list[RunRecord]:
        rows = self.db.execute(
            f"SELECT {_RUN_COLS}, pid, host FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)
        ).fetchall()
        done = dict(self.db.execute("SELECT run_id, COUNT(*) FROM results GROUP BY run_id"))
        return [self._run_from_row(r, done.get(r[0], 0)) for r in rows]

    def run_samples(self, run_id: str) -> list[SampleRecord]:
        return [
            SampleRecord(
                sample_id=r[0],
                position=r[1],
                input=r[2],
                target=json.loads(r[3]),
                metadata=json.loads(r[4]),
            )
            for r in self.db.execute(
                "SELECT sample_id, position, input, target_json, metadata_json FROM samples "
                "WHERE run_id = ? ORDER BY position",
                (run_id,),
            )
        ]

    def finished(self, run_id: str, *, with_errors: bool = True) -> set[tuple[str, str]]:
        """(strategy, sample_id) pairs already finished in this run; ``with_errors=False``
        leaves out errored ones (so a resume runs them again)."""
        if with_errors:
            return {
                (r[0], r[1])
                for r in self.db.execute(
                    "SELECT strategy, sample_id FROM results WHERE run_id = ?", (run_id,)
                )
            }
        return {
            (r.strategy, r.sample_id)
            for r in self.results(run_id, with_checkpoints=False)
            if not r.errored
        }

    def save_result(self, result: ResultRecord) -> None:
        with self.db.transaction():
            apply(self.db, _result_statements(result))

    async def asave_result(self, result: ResultRecord) -> None:
        """:meth:`save_result` from an event loop: committed with the other writes of this
        loop turn; returns once it is committed."""
        await self._write(_result_statements(result))

    def get_result(self, run_id: str, strategy: str, sample_id: str) -> ResultRecord | None:
        """One finished result, without its checkpoints (``None`` if not finished)."""
        found = self.results(run_id, strategy=strategy, sample_id=sample_id, with_checkpoints=False)
        return found[0] if found else None

    def results(
        self,
        run_id: str,
        *,
        with_checkpoints: bool = True,
        strategy: str | None = None,
        sample_id: str | None = None,
        first_samples: int | None = None,
    ) -> list[ResultRecord]:
        """Results (with their checkpoints unless told not to), by strategy then sample
        position; only one strategy's, one sample's, or those of the ``first_samples``
        samples by position, if given."""
        cols = (
            "run_id, strategy, sample_id, baseline_of, budget_mode, final_response, "
            "final_correct, final_answer, final_reason, stop_reason, error, oracle_assisted, "
            "feedback_kinds, calls, cache_hits, prompt_tokens, completion_tokens, "
            "cached_tokens, cost_usd, wall_s, detail_json, finished_at"
        )
        where, params = "run_id = ?", list[Any]([run_id])
        if strategy is not None:
            where += " AND strategy = ?"
            params.append(strategy)
        if sample_id is not None:
            where += " AND sample_id = ?"
            params.append(sample_id)
        if first_samples is not None:
            where += (
                " AND sample_id IN (SELECT sample_id FROM samples WHERE run_id = ? "
                "AND position < ?)"
            )
            params += [run_id, first_samples]
        out: list[ResultRecord] = []
        for row in self.db.execute(
            f"SELECT {cols} FROM results r WHERE {where} ORDER BY strategy, "
            "(SELECT position FROM samples s WHERE s.run_id = r.run_id "
            "AND s.sample_id = r.sample_id)",
            params,
        ):
            values = dict(zip([c.strip() for c in cols.split(",")], row, strict=True))
            values["feedback_kinds"] = json.loads(values["feedback_kinds"])
            values["detail"] = json.loads(values.pop("detail_json"))
            out.append(ResultRecord.model_validate(values))
        if with_checkpoints:
            by_key = {(r.strategy, r.sample_id): r for r in out}
            cp_where, cp_params = "run_id = ?", list[Any]([run_id])
            if first_samples is not None:
                cp_where += (
                    " AND sample_id IN (SELECT sample_id FROM samples WHERE run_id = ? "
                    "AND position < ?)"
                )
                cp_params += [run_id, first_samples]
            for row in self.db.execute(
                "SELECT strategy, sample_id, idx, round, response, correct, score, answer, "
                f"reason, note, calls, tokens FROM checkpoints WHERE {cp_where} "
                "ORDER BY strategy, sample_id, idx",
                cp_params,
            ):
                res = by_key.get((row[0], row[1]))
                if res is not None:
                    res.checkpoints.append(
                        CheckpointRecord(
                            idx=row[2],
                            round=row[3],
                            response=row[4],
                            correct=bool(row[5]),
                            score=row[6],
                            answer=row[7],
                            reason=row[8],
                            note=row[9],
                            calls=row[10],
                            tokens=row[11],
                        )
                    )
        return out

    def outcome_rows(self, run_id: str) -> Iterator[tuple[Any, ...]]:
        """What a summary needs of each result (:data:`OUTCOME_COLUMNS`), in the order of
        :meth:`results`, without reading responses, details or checkpoint texts: a run of
        100,000 samples is summarised from a few columns, not from whole records.
        ``correct_by_round`` is the correctness of the last checkpoint of each round."""
        rounds: dict[tuple[str, str], dict[int, bool]] = {}
        for strategy, sample_id, rnd, correct in self.db.execute(
            "SELECT strategy, sample_id, round, correct FROM checkpoints WHERE run_id = ? "
            "ORDER BY strategy, sample_id, idx",
            (run_id,),
        ):
            rounds.setdefault((strategy, sample_id), {})[rnd] = bool(correct)
        kinds: dict[str, list[str]] = {}  # the few distinct feedback_kinds texts, parsed once
        # Each row's texts are new objects; strategy names and stop reasons repeat, keep one.
        same: dict[str, str] = {}
        for row in self.db.execute(
            "SELECT r.strategy, r.sample_id, r.final_correct, r.final_response IS NOT NULL, "
            "r.calls, r.cache_hits, r.prompt_tokens, r.completion_tokens, r.cached_tokens, "
            "r.cost_usd, r.wall_s, r.feedback_kinds, r.oracle_assisted, r.stop_reason, "
            "r.error, json_extract(r.detail_json, '$.error_kind'), "
            "json_extract(r.detail_json, '$.unscored'), r.baseline_of, r.budget_mode "
            "FROM results r LEFT JOIN samples s "
            "ON s.run_id = r.run_id AND s.sample_id = r.sample_id "
            "WHERE r.run_id = ? ORDER BY r.strategy, s.position",
            (run_id,),
        ):
            by_round = rounds.pop((row[0], row[1]), {})
            text = row[11]
            if text not in kinds:
                kinds[text] = json.loads(text)
            yield (
                same.setdefault(row[0], row[0]),
                row[1],
                [by_round[k] for k in sorted(by_round)],
                bool(row[2]),
                bool(row[3]),
                *row[4:11],
                list(kinds[text]),
                bool(row[12]),
                same.setdefault(row[13], row[13]),
                row[14],
                error_kind(row[15], row[14], row[13]),
                not row[16],
                row[17],
                row[18],
            )

    def fresh_calls(self, run_id: str) -> set[tuple[str, str, str]]:
        """(strategy, sample_id, request_hash) of every call this run paid for. After a resume,
        a cache hit on one of these is that sample's own earlier call, not a free answer."""
        return {
            (r[0], r[1], r[2])
            for r in self.db.execute(
                "SELECT strategy, sample_id, request_hash FROM calls WHERE run_id = ? "
                "AND from_cache = 0 AND error IS NULL",
                (run_id,),
            )
        }


def _result_statements(r: ResultRecord) -> list[Statement]:
    """The writes of :meth:`RunTables.save_result`, to run in one transaction."""
    return [
        # A retried sample replaces its errored attempt whole, checkpoints included.
        (
            "DELETE FROM checkpoints WHERE run_id = ? AND strategy = ? AND sample_id = ?",
            (r.run_id, r.strategy, r.sample_id),
            False,
        ),
        (
            "INSERT OR REPLACE INTO results VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                r.run_id,
                r.strategy,
                r.sample_id,
                r.baseline_of,
                r.budget_mode,
                r.final_response,
                int(r.final_correct),
                r.final_answer,
                r.final_reason,
                r.stop_reason,
                r.error,
                int(r.oracle_assisted),
                json.dumps(r.feedback_kinds),
                r.calls,
                r.cache_hits,
                r.prompt_tokens,
                r.completion_tokens,
                r.cached_tokens,
                r.cost_usd,
                r.wall_s,
                json.dumps(r.detail, default=str),
                r.finished_at or time.time(),
            ),
            False,
        ),
        (
            "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.run_id,
                    r.strategy,
                    r.sample_id,
                    c.idx,
                    c.round,
                    c.response,
                    int(c.correct),
                    c.score,
                    c.answer,
                    c.reason,
                    c.note,
                    c.calls,
                    c.tokens,
                )
                for c in r.checkpoints
            ],
            True,
        ),
        ("UPDATE runs SET updated_at = ? WHERE run_id = ?", (time.time(), r.run_id), False),
    ]
