"""A stored run as flat rows for pandas, duckdb or a spreadsheet: JSON Lines, CSV or Parquet.

``what="results"`` (the default) gives one row per strategy x sample:

================== ======= ==============================================================
column             type    meaning
================== ======= ==============================================================
run_id             str     the run
task, model        str     the run's task and solver model
strategy           str     strategy label (``self_refine:feedback=oracle``,
                           ``retry@self_refine`` for a compute-matched baseline)
baseline_of        str?    the reflection strategy a compute-matched baseline is sized to
budget_mode        str?    ``equal-calls`` / ``equal-tokens`` for such a baseline
sample_id          str     the sample (pair runs or strategies on it)
position           int     the sample's position in the task
input              str     the prompt's task text
target             str     the gold answer, as JSON text
final_answer       str?    the extracted final answer
final_correct      bool    scored correct (an errored sample is never correct)
final_reason       str?    why the scorer decided so
final_response     str?    the final reply, whole
rounds             int     how many rounds have a checkpoint
correct_by_round   list    correct at each round (CSV: JSON text)
stop_reason        str     why the strategy stopped
errored            bool    the sample errored (failed call, sandbox, strategy bug, ...)
error_kind         str?    what made it error (``None`` when it ran to its end)
error              str?    the error message
oracle_assisted    bool    a gold label reached a prompt or a stop rule
feedback_kinds     list    feedback used: intrinsic, critic, tool, oracle (CSV: JSON text)
provenance         str     ``ORACLE-ASSISTED``, the kinds joined by ``+``, or ``none``
calls, cache_hits  int     model calls made; of which served from reflectlab's cache
prompt_tokens,     int     tokens; ``cached_tokens`` is the part of ``prompt_tokens`` the
completion_tokens,         server served from its prefix cache
cached_tokens
total_tokens       int     prompt + completion
cost_usd           float   cost (0 for local models or unknown prices)
wall_s             float   the sample's own wall time
finished_at        float   Unix time the result was stored
================== ======= ==============================================================

``what="checkpoints"``: one row per scored intermediate answer (``run_id, strategy,
sample_id, idx, round, answer, correct, score, reason, note, calls, tokens, response``).
``what="calls"``: one row per model call (``call_id, run_id, strategy, sample_id, model,
role, round, sample_index, from_cache, attempts, prompt_tokens, completion_tokens,
cached_tokens, cost_usd, latency_s, started_at, finish_reasons, truncated, error,
error_type, request_hash, messages`` (JSON text)``, response`` (the first choice)).

Every row of one kind has the same columns in the same order, so an empty cell is ``None``
(CSV: empty), never a missing key. Parquet needs pyarrow (``pip install reflectlab[export]``).

Example::

    from reflectlab.run import export_run
    export_run(store, run_id, "results.parquet", format="parquet")
    # pandas.read_parquet("results.parquet").groupby("strategy").final_correct.mean()
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO, Any, Literal

from reflectlab.analysis import provenance_label
from reflectlab.errors import ConfigError
from reflectlab.run._summary import get_run_or_fail
from reflectlab.store import Store

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_KINDS",
    "ExportFormat",
    "ExportKind",
    "export_columns",
    "export_rows",
    "export_run",
    "export_text",
]

ExportFormat = Literal["jsonl", "csv", "parquet"]
ExportKind = Literal["results", "calls", "checkpoints"]
EXPORT_FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
EXPORT_KINDS: tuple[str, ...] = ("results", "calls", "checkpoints")

RESULT_COLUMNS = (
    "run_id", "task", "model", "strategy", "baseline_of", "budget_mode", "sample_id",
    "position", "input", "target", "final_answer", "final_correct", "final_reason",
    "final_response", "rounds", "correct_by_round", "stop_reason", "errored", "error_kind",
    "error", "oracle_assisted", "feedback_kinds", "provenance", "calls", "cache_hits",
    "prompt_tokens", "completion_tokens", "cached_tokens", "total_tokens", "cost_usd",
    "wall_s", "finished_at",
)  # fmt: skip
CHECKPOINT_COLUMNS = (
    "run_id", "strategy", "sample_id", "idx", "round", "answer", "correct", "score",
    "reason", "note", "calls", "tokens", "response",
)  # fmt: skip
CALL_COLUMNS = (
    "call_id", "run_id", "strategy", "sample_id", "model", "role", "round", "sample_index",
    "from_cache", "attempts", "prompt_tokens", "completion_tokens", "cached_tokens",
    "cost_usd", "latency_s", "started_at", "finish_reasons", "truncated", "error",
    "error_type", "request_hash", "messages", "response",
)  # fmt: skip


def export_rows(store: Store, run_id: str, what: ExportKind = "results") -> list[dict[str, Any]]:
    """The rows of ``what`` for a run (a unique prefix of its id is enough), as documented in
    the module; lists stay lists (CSV writing turns them into JSON text)."""
    if what not in EXPORT_KINDS:
        raise ConfigError(f"--what must be one of {', '.join(EXPORT_KINDS)}, not {what!r}")
    run = get_run_or_fail(store, run_id)
    if what == "calls":
        return [
            {
                "call_id": e.call_id,
                "run_id": run.run_id,
                "strategy": e.tags.get("strategy"),
                "sample_id": None if e.tags.get("sample_id") is None else str(e.tags["sample_id"]),
                "model": e.model,
                "role": e.role,
                "round": e.round,
                "sample_index": e.sample_index,
                "from_cache": e.from_cache,
                "attempts": e.attempts,
                "prompt_tokens": e.usage.prompt_tokens,
                "completion_tokens": e.usage.completion_tokens,
                "cached_tokens": e.usage.cached_tokens,
                "cost_usd": e.usage.cost_usd,
                "latency_s": e.latency_s,
                "started_at": e.started_at,
                "finish_reasons": [str(r) for r in e.finish_reasons],
                "truncated": e.truncated,
                "error": e.error,
                "error_type": e.error_type,
                "request_hash": e.request_hash,
                "messages": json.dumps(
                    [m.model_dump(mode="json") for m in e.messages], ensure_ascii=False
                ),
                "response": e.choices[0] if e.choices else None,
            }
            for e in store.calls(run_id=run.run_id)
        ]
    results = store.results(run.run_id, with_checkpoints=True)
    if what == "checkpoints":
        return [
            {
                "run_id": r.run_id,
                "strategy": r.strategy,
                "sample_id": r.sample_id,
                **{k: getattr(c, k) for k in CHECKPOINT_COLUMNS[3:]},
            }
            for r in results
            for c in sorted(r.checkpoints, key=lambda c: c.idx)
        ]
    samples = {s.sample_id: s for s in store.run_samples(run.run_id)}
    rows = []
    for r in results:
        sample = samples.get(r.sample_id)
        by_round: dict[int, bool] = {}
        for cp in sorted(r.checkpoints, key=lambda c: c.idx):
            by_round[cp.round] = cp.correct
        rows.append(
            {
                "run_id": r.run_id,
                "task": run.task,
                "model": run.model,
                "strategy": r.strategy,
                "baseline_of": r.baseline_of,
                "budget_mode": r.budget_mode,
                "sample_id": r.sample_id,
                "position": sample.position if sample else None,
                "input": sample.input if sample else None,
                "target": json.dumps(sample.target, default=str) if sample else None,
                "final_answer": r.final_answer,
                "final_correct": bool(r.final_correct and r.final_response is not None),
                "final_reason": r.final_reason,
                "final_response": r.final_response,
                "rounds": len(by_round),
                "correct_by_round": [by_round[k] for k in sorted(by_round)],
                "stop_reason": r.stop_reason,
                "errored": r.errored,
                "error_kind": r.error_kind,
                "error": r.error,
                "oracle_assisted": r.oracle_assisted or "oracle" in r.feedback_kinds,
                "feedback_kinds": list(r.feedback_kinds),
                "provenance": provenance_label(r.feedback_kinds, r.oracle_assisted),
                "calls": r.calls,
                "cache_hits": r.cache_hits,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "cached_tokens": r.cached_tokens,
                "total_tokens": r.prompt_tokens + r.completion_tokens,
                "cost_usd": r.cost_usd,
                "wall_s": r.wall_s,
                "finished_at": r.finished_at,
            }
        )
    return rows


def export_columns(what: ExportKind = "results") -> tuple[str, ...]:
    """The columns of ``what``, in the order every export writes them."""
    return {"results": RESULT_COLUMNS, "calls": CALL_COLUMNS}.get(what, CHECKPOINT_COLUMNS)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def _write_text(
    rows: list[dict[str, Any]], columns: tuple[str, ...], fmt: str, out: IO[str]
) -> None:
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({c: row[c] for c in columns}, ensure_ascii=False, default=str))
            out.write("\n")
        return
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])


def _parquet_module() -> Any:
    try:
        import pyarrow  # type: ignore[import-not-found, unused-ignore]
        import pyarrow.parquet  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise ConfigError(
            "--format parquet needs pyarrow: pip install 'reflectlab[export]' "
            "(or use --format jsonl or csv)"
        ) from None
    return pyarrow


def export_run(
    store: Store,
    run_id: str,
    output: str | Path | IO[str] | None = None,
    *,
    format: ExportFormat = "jsonl",
    what: ExportKind = "results",
) -> int:
    """Write the rows of ``what`` (see the module) to ``output`` — a path, a text stream, or
    ``None`` to only count them — and return how many rows.
    Parquet needs a path."""
    if format not in EXPORT_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}")
    pa = _parquet_module() if format == "parquet" else None
    rows = export_rows(store, run_id, what)
    columns = export_columns(what)
    if pa is not None:
        if not isinstance(output, str | Path):
            raise ConfigError("--format parquet writes a file: give -o FILE.parquet")
        table = pa.Table.from_pylist([{c: row[c] for c in columns} for row in rows])
        if not rows:
            table = pa.table({c: pa.array([], pa.null()) for c in columns})
        pa.parquet.write_table(table, str(output))
        return len(rows)
    if isinstance(output, str | Path):
        with open(output, "w", encoding="utf-8", newline="") as fh:
            _write_text(rows, columns, format, fh)
    elif output is not None:
        _write_text(rows, columns, format, output)
    return len(rows)


def export_text(
    store: Store,
    run_id: str,
    *,
    format: Literal["jsonl", "csv"] = "jsonl",
    what: ExportKind = "results",
) -> str:
    """The export as a string (JSON Lines or CSV)."""
    buffer = io.StringIO(newline="")
    export_run(store, run_id, buffer, format=format, what=what)
    return buffer.getvalue()
