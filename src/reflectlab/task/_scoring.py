"""Scoring existing outputs, without calling any model: ``reflectlab score`` in library form.

A responses file is JSON Lines, one ``{"id": ..., "response": "..."}`` per sample (for
HumanEval the response is the completion of the prompt, as in HumanEval's sample files). Every
row is checked before anything is scored: a malformed row, an id the task does not have, or an
id given twice is an :class:`~reflectlab.errors.InputError` naming the line.

Scoring runs concurrently; code tasks additionally cap sandboxed programs in flight (see
:data:`reflectlab.task._code.SANDBOX_CONCURRENCY`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from reflectlab.errors import InputError
from reflectlab.task._base import Sample, Score, Task
from reflectlab.task._rows import read_jsonl

__all__ = [
    "ItemScore",
    "Response",
    "ScoreReport",
    "SummarizingTask",
    "load_responses",
    "score_report",
]


@dataclass(frozen=True)
class Response:
    """One reply to score, with the line it came from."""

    sample: Sample
    response: str
    line: int | None = None


@runtime_checkable
class SummarizingTask(Protocol):
    """A task with benchmark-level metrics beyond accuracy (IFEval's four accuracies)."""

    def summary_metrics(
        self, samples: Sequence[Sample], responses: Sequence[str], scores: Sequence[Score]
    ) -> dict[str, float]: ...


class ItemScore(BaseModel):
    id: str
    correct: bool
    score: float
    answer: str | None = None
    reason: str | None = None


class ScoreReport(BaseModel):
    """Accuracy over the scored replies, per-item results, and task-specific metrics."""

    task: str
    n: int
    correct: int
    accuracy: float
    per_item: list[ItemScore]
    metrics: dict[str, float] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``reflectlab score --json`` document: metrics at the top level."""
        out = self.model_dump(exclude={"metrics"})
        out.update(self.metrics)
        return out


def load_responses(path: str | Path, task: Task) -> list[Response]:
    """The rows of a responses file matched to the task's samples (see the module docstring)."""
    path = Path(path)
    by_id = {sample.id: sample for sample in task.samples()}
    seen: dict[str, int] = {}
    out: list[Response] = []
    for line, row in read_jsonl(path):
        raw_id = row.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
            raise InputError(
                f"must be a string or an integer, got {raw_id!r}", path=str(path), line=line,
                field="id",
            )  # fmt: skip
        sample_id = str(raw_id)
        response = row.get("response")
        if not isinstance(response, str):
            raise InputError(
                f"must be a string, got {type(response).__name__}", path=str(path), line=line,
                field="response",
            )  # fmt: skip
        sample = by_id.get(sample_id)
        if sample is None:
            shown = ", ".join(list(by_id)[:3])
            raise InputError(
                f"unknown id {sample_id!r}: task {task.name!r} has no such sample "
                f"(ids look like: {shown}, ...)",
                path=str(path),
                line=line,
                field="id",
            )
        if sample_id in seen:
            raise InputError(
                f"id {sample_id!r} already answered on line {seen[sample_id]}",
                path=str(path),
                line=line,
                field="id",
            )
        seen[sample_id] = line
        out.append(Response(sample=sample, response=response, line=line))
    if not out:
        raise InputError("no responses", path=str(path))
    return out


async def score_report(
    task: Task, responses: Sequence[Response], *, concurrency: int = 32
) -> ScoreReport:
    """Score every response (at most ``concurrency`` at once), in input order."""
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(item: Response) -> Score:
        async with slots:
            return await task.score(item.sample, item.response)

    scores = await asyncio.gather(*(one(item) for item in responses))
    per_item = [
        ItemScore(
            id=item.sample.id,
            correct=score.correct,
            score=score.value,
            answer=score.answer,
            reason=score.reason,
        )
        for item, score in zip(responses, scores, strict=True)
    ]
    correct = sum(s.correct for s in scores)
    metrics: dict[str, float] = {}
    if isinstance(task, SummarizingTask):
        metrics = task.summary_metrics(
            [item.sample for item in responses], [item.response for item in responses], scores
        )
    return ScoreReport(
        task=task.name,
        n=len(per_item),
        correct=correct,
        accuracy=correct / len(per_item) if per_item else 0.0,
        per_item=per_item,
        metrics=metrics,
    )
