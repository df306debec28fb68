"""One result's trace as data: its steps in the order they happened, strings interned.

A step is a model call (role, round, model, messages, replies, tokens, latency), a scored
checkpoint, or a piece of feedback that no call wrote (tool, oracle). Model feedback is the
reply of the call that wrote it, so it is attached to that call rather than repeated. Every
text goes through the block's string table (:class:`Chunk`), so the prefix a conversation
resends each round is stored once.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from reflectlab.store import CheckpointRecord, ResultRecord

__all__ = ["CallsOfSample", "Chunk", "Event", "drop_empty", "events_of", "result_entry"]

#: One logged model call as stored: the JSON of a ``reflectlab.model.CallEvent``. Plain
#: dicts, not models: a large run has tens of thousands of them and only a few fields are read.
Event = dict[str, Any]
#: The calls of one sample (every strategy), given its id.
CallsOfSample = Callable[[str], Iterable[Event]]


def drop_empty(entry: dict[str, Any]) -> dict[str, Any]:
    """Leave out null/false/empty fields: tens of thousands of steps add up."""
    return {k: v for k, v in entry.items() if v is not None and v is not False and v != []}


class Chunk:
    """One block of traces with its string table."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._ids: dict[str, int] = {}
        self.samples: dict[str, Any] = {}
        self.results: dict[str, Any] = {}
        self.size = 0

    def s(self, text: str) -> int:
        idx = self._ids.get(text)
        if idx is None:
            idx = len(self.strings)
            self.strings.append(text)
            self._ids[text] = idx
            self.size += len(text) + 4
        return idx

    def payload(self) -> dict[str, Any]:
        return {"strings": self.strings, "samples": self.samples, "results": self.results}


def _call_step(e: Event, chunk: Chunk) -> dict[str, Any]:
    chunk.size += 96
    usage = e.get("usage") or {}
    raw_config = e.get("config")
    # Every sampling parameter as logged, null meaning "the server's default"; the JSON is
    # interned, so the few distinct configs of a run cost one string per block.
    config = (
        chunk.s(json.dumps(raw_config, sort_keys=True, ensure_ascii=False, default=str))
        if isinstance(raw_config, dict)
        else None
    )
    attempts = e.get("attempts") or 0
    truncated = sum(reason == "length" for reason in e.get("finish_reasons") or [])
    return drop_empty(
        {
            "t": "call",
            "role": e.get("role"),
            "round": e.get("round"),
            "model": e.get("model"),
            "msgs": [
                [m.get("role", "?"), chunk.s(str(m.get("content", "")))]
                for m in e.get("messages") or []
            ],
            "out": [chunk.s(str(c)) for c in e.get("choices") or []],
            "pt": usage.get("prompt_tokens", 0),
            "ct": usage.get("completion_tokens", 0),
            "kt": usage.get("cached_tokens") or None,
            "cost": usage.get("cost_usd") or None,
            "lat": round(float(e.get("latency_s") or 0.0), 4),
            "hit": bool(e.get("from_cache")),
            "si": e.get("sample_index") or None,
            "att": attempts if attempts > 1 else None,
            "err": e.get("error"),
            "et": e.get("error_type"),
            "cfg": config,
            # replies cut by the token limit; tokens the server did not report
            "trunc": truncated or None,
            "nu": usage.get("known") is False and not e.get("error"),
        }
    ) | {"fb": []}


def _checkpoint_step(cp: CheckpointRecord, chunk: Chunk) -> dict[str, Any]:
    chunk.size += 64
    return drop_empty(
        {
            "t": "cp",
            "idx": cp.idx,
            "round": cp.round,
            "resp": chunk.s(cp.response),
            "ans": cp.answer,
            "ok": cp.correct,
            "score": cp.score,
            "reason": cp.reason,
            "note": cp.note,
            "calls": cp.calls,
            "tok": cp.tokens,
        }
    ) | {"ok": cp.correct}


def _match_call(
    events: Sequence[Event], fb: dict[str, Any], start: int, taken: set[int]
) -> int | None:
    """The model call whose reply *is* this feedback (intrinsic/critic feedback text is the
    critique call's reply), searched after the previous feedback first."""
    text = str(fb.get("text", "")).strip()
    if not text:
        return None
    order = itertools.chain(range(start, len(events)), range(0, start))
    for j in order:
        choices = events[j].get("choices") or []
        if j in taken or not choices or str(choices[0]).strip() != text:
            continue
        rnd = events[j].get("round")
        if fb.get("round") is None or rnd is None or rnd == fb.get("round"):
            return j
    return None


def _timeline(
    r: ResultRecord, events: Sequence[Event], chunk: Chunk
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Steps in the order they happened: calls in call order; a checkpoint right after the
    call that produced it (``cp.calls`` counts the calls made before it); model feedback
    attached to the call that wrote it; other feedback (tool, oracle) just before the next
    call of its round (the call that reads it), or at the end."""
    feedback_raw = [f for f in r.detail.get("feedback", []) if isinstance(f, dict)]
    feedback = [
        drop_empty(
            {
                "kind": f.get("kind"),
                "source": f.get("source"),
                "text": chunk.s(str(f.get("text", ""))),
                "verdict": f.get("verdict"),
                "round": f.get("round"),
                "details": f.get("details") or None,
            }
        )
        for f in feedback_raw
    ]
    call_steps = [_call_step(e, chunk) for e in events]
    n = len(call_steps)
    seq = itertools.count()
    keyed: list[tuple[int, int, int, dict[str, Any]]] = [
        (i, 0, next(seq), step) for i, step in enumerate(call_steps)
    ]
    for cp in sorted(r.checkpoints, key=lambda c: c.idx):
        keyed.append((min(cp.calls, n) - 1, 1, next(seq), _checkpoint_step(cp, chunk)))
    anchor, taken = -1, set[int]()
    for k, fb in enumerate(feedback_raw):
        j = _match_call(events, fb, anchor + 1, taken)
        if j is not None:
            call_steps[j]["fb"].append(k)
            taken.add(j)
            anchor = max(anchor, j)
            continue
        rnd = fb.get("round")
        reader = next(
            (i for i in range(anchor + 1, n) if rnd is not None and events[i].get("round") == rnd),
            None,
        )
        after = reader - 1 if reader is not None else n - 1
        keyed.append((after, 2, next(seq), {"t": "fb", "fb": k}))
        anchor = max(anchor, after)
    keyed.sort(key=lambda item: item[:3])
    for step in call_steps:
        if not step["fb"]:
            del step["fb"]
    return [item[3] for item in keyed], feedback


def result_entry(
    r: ResultRecord, events: Sequence[Event], missing: int, chunk: Chunk
) -> dict[str, Any]:
    steps, feedback = _timeline(r, events, chunk)
    detail = r.detail
    return drop_empty(
        {
            "final": None if r.final_response is None else chunk.s(r.final_response),
            "ans": r.final_answer,
            "ok": r.final_correct and r.final_response is not None,
            "reason": r.final_reason,
            "stop": r.stop_reason,
            "err": r.error,
            "oracle": list(detail.get("oracle_reasons") or []),
            "kinds": r.feedback_kinds,
            "calls": r.calls,
            "hits": r.cache_hits,
            "pt": r.prompt_tokens,
            "ct": r.completion_tokens,
            "kt": r.cached_tokens or None,
            "cost": r.cost_usd or None,
            "wall": round(r.wall_s, 4),
            "notes": detail.get("notes") or None,
            "base": r.baseline_of,
            "mode": r.budget_mode,
            "missing": missing or None,
            "steps": steps,
            "feedback": feedback,
        }
    )


def events_of(
    results: Sequence[ResultRecord], calls: Iterable[Event]
) -> dict[str, tuple[list[Event], int]]:
    """Each of one sample's results with its calls in the order they were made, and how many
    of its recorded call ids are absent from the call log. A result without ``call_ids``
    falls back to the strategy tag, in start order."""
    by_id: dict[str, Event] = {}
    by_strategy: dict[str, list[Event]] = defaultdict(list)
    for e in calls:
        by_id[str(e.get("call_id"))] = e
        by_strategy[str((e.get("tags") or {}).get("strategy"))].append(e)
    out: dict[str, tuple[list[Event], int]] = {}
    for r in results:
        ids = r.detail.get("call_ids")
        if isinstance(ids, list):
            found = [by_id[i] for i in ids if i in by_id]
            out[r.strategy] = (found, len(ids) - len(found))
        else:
            tagged = by_strategy.get(r.strategy, [])
            out[r.strategy] = (sorted(tagged, key=lambda e: e.get("started_at") or 0.0), 0)
    return out
