"""The trace viewer's data: every step of every (strategy, sample), compact and loaded lazily.

Why this shape: a run of 5,000 samples x 5 strategies holds tens of thousands of model calls
whose prompts repeat (each round resends the conversation so far). Building 25,000 rows of
markup up front would make the page slow to open, so the report embeds data, not markup:

- one small *index*: a row per result (strategy, sample, correctness per round, flip flags,
  answer, calls, tokens) that the list view filters and pages through;
- *chunks* of full traces, each holding consecutive samples with all their strategies, where
  every distinct string is stored once (a conversation's shared prefix costs nothing extra).
  The browser decompresses a chunk only when one of its samples is opened.

Every block is gzip-compressed JSON in base64 inside a ``<script type="application/
gzip+base64">`` element (inert: the browser never runs it); browsers decompress it natively
with ``DecompressionStream``. Model text never becomes markup: the viewer writes it with
``textContent``.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reflectlab.report._steps import CallsOfSample, Chunk, drop_empty, events_of, result_entry
from reflectlab.store import CheckpointRecord, ResultRecord, SampleRecord

__all__ = [
    "CHUNK_BYTES",
    "FLAG_CORRECT",
    "FLAG_ERROR",
    "FLAG_NO_ANSWER",
    "FLAG_ORACLE",
    "FLAG_RIGHT_TO_WRONG",
    "FLAG_WRONG_TO_RIGHT",
    "IndexOnlyRow",
    "TracePayload",
    "build_trace_payload",
    "decode_block",
    "encode_block",
    "flag_bits",
    "round_trajectory",
]

#: Bits of an index row's ``flags`` (the viewer's filters read them).
FLAG_CORRECT = 1
FLAG_RIGHT_TO_WRONG = 2
FLAG_WRONG_TO_RIGHT = 4
FLAG_ORACLE = 8
FLAG_NO_ANSWER = 16
FLAG_ERROR = 32

#: Uncompressed size after which a chunk is closed. Small enough that opening a sample
#: decompresses well under a megabyte; large enough that a 25,000-result run has ~100 chunks.
CHUNK_BYTES = 384 * 1024
_PREVIEW_CHARS = 240
_TARGET_CHARS = 80


@dataclass(frozen=True)
class TracePayload:
    """Encoded blocks for the report: the index and the trace chunks (base64 gzip JSON).
    ``n_traced`` of ``n_results`` results have their trace in a chunk; the index lists all."""

    index: str
    chunks: list[str]
    n_results: int
    raw_bytes: int
    n_traced: int = -1
    traced_samples: int = -1
    n_samples: int = -1


@dataclass(frozen=True)
class IndexOnlyRow:
    """A result listed in the index without its trace (beyond the report's trace limit):
    what the list shows and filters on, read from a few columns."""

    strategy: str
    sample_id: str
    trajectory: str
    final_correct: bool
    has_answer: bool
    oracle: bool
    error: bool
    final_answer: str | None
    calls: int
    tokens: int


def encode_block(obj: Any) -> str:
    """Compact JSON -> gzip (deterministic: no timestamp) -> base64 text."""
    raw = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
    packed = gzip.compress(raw.encode("utf-8", "replace"), compresslevel=6, mtime=0)
    return base64.b64encode(packed).decode("ascii")


def decode_block(text: str) -> Any:
    """The inverse of :func:`encode_block` (for tools and tests reading a report back)."""
    return json.loads(gzip.decompress(base64.b64decode(text.strip())).decode("utf-8"))


def round_trajectory(checkpoints: Sequence[CheckpointRecord]) -> str:
    """``"10"`` = right at round 0, wrong at round 1: the last checkpoint of each round, in
    round order (the same rule the analysis uses for accuracy and flips per round)."""
    by_round: dict[int, bool] = {}
    for cp in sorted(checkpoints, key=lambda c: c.idx):
        by_round[cp.round] = cp.correct
    return "".join("1" if by_round[k] else "0" for k in sorted(by_round))


def _flags(r: ResultRecord, trajectory: str) -> int:
    return flag_bits(
        trajectory,
        correct=r.final_correct,
        has_answer=r.final_response is not None,
        oracle=r.oracle_assisted or "oracle" in r.feedback_kinds,
        error=bool(r.error),
    )


def flag_bits(
    trajectory: str, *, correct: bool, has_answer: bool, oracle: bool, error: bool
) -> int:
    """An index row's ``flags`` (the ``FLAG_*`` bits)."""
    flags = 0
    if correct and has_answer:
        flags |= FLAG_CORRECT
    if "10" in trajectory:
        flags |= FLAG_RIGHT_TO_WRONG
    if "01" in trajectory:
        flags |= FLAG_WRONG_TO_RIGHT
    if oracle:
        flags |= FLAG_ORACLE
    if not has_answer:
        flags |= FLAG_NO_ANSWER
    if error:
        flags |= FLAG_ERROR
    return flags


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _target_text(target: Any) -> str:
    if target is None:
        return ""
    if isinstance(target, str):
        return target
    return json.dumps(target, ensure_ascii=False, default=str)


def build_trace_payload(
    samples: Sequence[SampleRecord],
    results: Sequence[ResultRecord],
    calls_of: CallsOfSample,
    strategy_order: Sequence[str],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    index_only: Iterable[IndexOnlyRow] = (),
) -> TracePayload:
    """Encode the index and the trace chunks of one run. Rows are sample-major (a sample's
    strategies side by side) so one chunk answers "how did each strategy do on this item".
    ``calls_of(sample_id)`` gives that sample's logged calls; it is asked one sample at a
    time, so a large run's call log is never held in memory at once. ``index_only`` rows
    (results of samples after those of ``results``) are listed with chunk ``-1``: no trace
    embedded."""
    extra = list(index_only)
    strategies = list(
        dict.fromkeys(
            [*strategy_order, *(r.strategy for r in results), *(x.strategy for x in extra)]
        )
    )
    s_index = {name: k for k, name in enumerate(strategies)}
    ordered_samples = list(samples)
    known = {s.sample_id for s in ordered_samples}
    for r in results:  # a result whose sample row is missing still shows up
        if r.sample_id not in known:
            known.add(r.sample_id)
            ordered_samples.append(
                SampleRecord(sample_id=r.sample_id, position=len(ordered_samples), input="")
            )
    i_index = {s.sample_id: i for i, s in enumerate(ordered_samples)}
    by_sample: dict[str, list[ResultRecord]] = defaultdict(list)
    for r in results:
        by_sample[r.sample_id].append(r)

    rows: list[list[Any]] = []
    chunks: list[str] = []
    raw_bytes = 0
    chunk = Chunk()
    for sample in ordered_samples:
        mine = sorted(by_sample.get(sample.sample_id, []), key=lambda r: s_index[r.strategy])
        if not mine:
            continue
        i = i_index[sample.sample_id]
        events = events_of(mine, calls_of(sample.sample_id))
        chunk.samples[str(i)] = drop_empty(
            {
                "input": chunk.s(sample.input),
                "target": sample.target,
                "meta": sample.metadata or None,
            }
        )
        for r in mine:
            s = s_index[r.strategy]
            trajectory = round_trajectory(r.checkpoints)
            found, missing = events[r.strategy]
            chunk.results[f"{s}:{i}"] = result_entry(r, found, missing, chunk)
            rows.append(
                [
                    s,
                    i,
                    trajectory,
                    _flags(r, trajectory),
                    r.final_answer,
                    r.calls + r.cache_hits,
                    r.prompt_tokens + r.completion_tokens,
                    len(chunks),
                ]
            )
        if chunk.size >= chunk_bytes:
            raw_bytes += chunk.size
            chunks.append(encode_block(chunk.payload()))
            chunk = Chunk()
    if chunk.results:
        raw_bytes += chunk.size
        chunks.append(encode_block(chunk.payload()))
    n_traced = len(rows)
    traced_samples = len({row[1] for row in rows})
    for x in extra:
        if x.sample_id not in i_index:
            i_index[x.sample_id] = len(ordered_samples)
            ordered_samples.append(
                SampleRecord(sample_id=x.sample_id, position=len(ordered_samples), input="")
            )
        rows.append(
            [
                s_index[x.strategy],
                i_index[x.sample_id],
                x.trajectory,
                flag_bits(
                    x.trajectory,
                    correct=x.final_correct,
                    has_answer=x.has_answer,
                    oracle=x.oracle,
                    error=x.error,
                ),
                x.final_answer,
                x.calls,
                x.tokens,
                -1,
            ]
        )
    index = {
        "v": 1,
        "strategies": strategies,
        "samples": [
            [
                s.sample_id,
                _short(s.input, _PREVIEW_CHARS),
                _short(_target_text(s.target), _TARGET_CHARS),
            ]
            for s in ordered_samples
        ],
        "rows": rows,
        "chunks": len(chunks),
    }
    return TracePayload(
        index=encode_block(index),
        chunks=chunks,
        n_results=len(rows),
        raw_bytes=raw_bytes,
        n_traced=n_traced,
        traced_samples=traced_samples,
        n_samples=len({row[1] for row in rows}),
    )
