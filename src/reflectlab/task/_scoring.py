"""Scoring existing outputs, without calling any model: ``reflectlab score`` in library form.

A responses file is JSON Lines, in one of three row formats (one format per file):

- ours: ``{"id": ..., "response": "..."}``, one row per sample;
- HumanEval's sample files: ``{"task_id": ..., "completion": "..."}`` (the completion of the
  prompt), any number of rows per problem: several samples per problem give pass@k;
- IFEval's response files: ``{"prompt": "...", "response": "..."}``, matched to the sample
  whose prompt is exactly that text.

Every row is checked before anything is scored: a malformed row, an id (or prompt) the task
does not have, or a sample answered twice (except in HumanEval's format) is an
:class:`~reflectlab.errors.InputError` naming the line.

When a sample has several responses (or the file is in HumanEval's format), the report adds
the unbiased pass@k estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained
on Code", eq. 1), for k in (1, 10, 100) where every problem has at least k samples, as
HumanEval's own ``evaluate_functional_correctness`` does.

Scoring runs concurrently; code tasks additionally cap sandboxed programs in flight (see
:data:`reflectlab.task._code.SANDBOX_CONCURRENCY`).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from reflectlab.errors import InputError
from reflectlab.task._base import Sample, Score, Task
from reflectlab.task._rows import read_jsonl

__all__ = [
    "PASS_AT_K",
    "ItemScore",
    "Response",
    "ScoreReport",
    "SummarizingTask",
    "load_responses",
    "pass_at_k",
    "score_report",
]

PASS_AT_K = (1, 10, 100)
"""The k of pass@k reported, as in HumanEval's ``evaluate_functional_correctness``."""

RowFormat = Literal["id", "humaneval", "ifeval"]
_FORMATS: dict[RowFormat, tuple[str, str]] = {
    "id": ("id", "response"),
    "humaneval": ("task_id", "completion"),
    "ifeval": ("prompt", "response"),
}
_EXPECTED = (
    '{"id", "response"}, HumanEval\'s {"task_id", "completion"} or IFEval\'s {"prompt", "response"}'
)


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
    line: int | None = None


class ScoreReport(BaseModel):
    """Accuracy over the scored replies, per-item results, and task-specific metrics."""

    task: str
    n: int
    correct: int
    accuracy: float
    per_item: list[ItemScore]
    metrics: dict[str, float] = Field(default_factory=dict)
    n_problems: int | None = None
    samples_per_problem: tuple[int, int] | None = None
    """``(fewest, most)`` responses per sample, when pass@k was computed."""

    def to_json(self) -> dict[str, Any]:
        """The ``reflectlab score --json`` document: metrics at the top level."""
        exclude = {"metrics"} | (
            set() if self.n_problems else {"n_problems", "samples_per_problem"}
        )
        out = self.model_dump(exclude=exclude)
        out.update(self.metrics)
        return out


def load_responses(path: str | Path, task: Task) -> list[Response]:
    """The rows of a responses file matched to the task's samples (see the module docstring)."""
    path = Path(path)
    samples = task.samples()
    by_id = {sample.id: sample for sample in samples}
    by_prompt: dict[str, Sample | None] = {}
    for sample in samples:  # a prompt shared by two samples cannot say which one it answers
        by_prompt[sample.input] = None if sample.input in by_prompt else sample
    fmt: RowFormat | None = None
    seen: dict[str, int] = {}
    out: list[Response] = []
    for line, row in read_jsonl(path):
        row_fmt = _row_format(row, path, line)
        if fmt is None:
            fmt = row_fmt
        elif row_fmt != fmt:
            raise InputError(
                f"this row has {_keys(row_fmt)} but line {out[0].line} has {_keys(fmt)}: "
                "use one format per file",
                path=str(path),
                line=line,
            )
        key_field, response_field = _FORMATS[row_fmt]
        if response_field not in row:
            raise InputError(
                f"missing: a row {_keys(row_fmt)} needs {response_field!r} (expected a row "
                f"{_EXPECTED}, got keys {sorted(row)})",
                path=str(path),
                line=line,
                field=response_field,
            )
        response = row.get(response_field)
        if not isinstance(response, str):
            raise InputError(
                f"must be a string, got {type(response).__name__}", path=str(path), line=line,
                field=response_field,
            )  # fmt: skip
        sample = _match(row, row_fmt, task, by_id, by_prompt, path, line)
        if sample.id in seen and row_fmt != "humaneval":
            raise InputError(
                f"id {sample.id!r} already answered on line {seen[sample.id]}",
                path=str(path),
                line=line,
                field=key_field,
            )
        seen.setdefault(sample.id, line)
        out.append(Response(sample=sample, response=response, line=line))
    if not out:
        raise InputError(f"no responses (expected JSONL rows {_EXPECTED})", path=str(path))
    return out


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of pass@k from ``n`` samples of which ``c`` are correct (Chen et al.
    2021, eq. 1): ``1 - C(n - c, k) / C(n, k)``, the chance that at least one of ``k`` samples
    drawn without replacement from the ``n`` is correct. Exact integer binomials, one rounding.

    >>> pass_at_k(10, 1, 1), pass_at_k(10, 0, 5), pass_at_k(10, 6, 5)
    (0.1, 0.0, 1.0)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    total = math.comb(n, k)
    return (total - math.comb(n - c, k)) / total


def _row_format(row: Mapping[str, Any], path: Path, line: int) -> RowFormat:
    if "id" in row:
        return "id"
    if "task_id" in row or "completion" in row:
        return "humaneval"
    if "prompt" in row:
        return "ifeval"
    raise InputError(
        f"no id: expected a row {_EXPECTED}, got keys {sorted(row)}",
        path=str(path),
        line=line,
        field="id",
    )


def _keys(fmt: RowFormat) -> str:
    return "{" + ", ".join(f'"{k}"' for k in _FORMATS[fmt]) + "}"


def _match(
    row: Mapping[str, Any],
    fmt: RowFormat,
    task: Task,
    by_id: Mapping[str, Sample],
    by_prompt: Mapping[str, Sample | None],
    path: Path,
    line: int,
) -> Sample:
    """The sample a row answers: by id (``id``/``task_id``) or by exact prompt text."""
    if fmt == "ifeval":
        prompt = row.get("prompt")
        if not isinstance(prompt, str):
            raise InputError(
                f"must be a string, got {type(prompt).__name__}", path=str(path), line=line,
                field="prompt",
            )  # fmt: skip
        if prompt not in by_prompt:
            raise InputError(
                f"task {task.name!r} has no sample with this prompt ({prompt[:60]!r}...)",
                path=str(path),
                line=line,
                field="prompt",
            )
        found = by_prompt[prompt]
        if found is None:
            raise InputError(
                f"several samples of task {task.name!r} have this prompt; answer them by id",
                path=str(path),
                line=line,
                field="prompt",
            )
        return found
    field = _FORMATS[fmt][0]
    raw_id = row.get(field)
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int):
        raise InputError(
            f"must be a string or an integer, got {raw_id!r}", path=str(path), line=line,
            field=field,
        )  # fmt: skip
    sample = by_id.get(str(raw_id))
    if sample is None:
        shown = ", ".join(list(by_id)[:3])
        raise InputError(
            f"unknown id {str(raw_id)!r}: task {task.name!r} has no such sample "
            f"(ids look like: {shown}, ...)",
            path=str(path),
            line=line,
            field=field,
        )
    return sample


async def score_report(
    task: Task,
    responses: Sequence[Response],
    *,
    concurrency: int = 32,
    on_scored: Callable[[], None] | None = None,
) -> ScoreReport:
    """Score every response (at most ``concurrency`` at once), in input order; ``on_scored``
    is called as each one is scored (the CLI's progress)."""
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(item: Response) -> Score:
        async with slots:
            score = await task.score(item.sample, item.response)
        if on_scored is not None:
            on_scored()
        return score

    scores = await asyncio.gather(*(one(item) for item in responses))
    per_item = [
        ItemScore(
            id=item.sample.id,
            correct=score.correct,
            score=score.value,
            answer=score.answer,
            reason=score.reason,
            line=item.line,
        )
        for item, score in zip(responses, scores, strict=True)
    ]
    correct = sum(s.correct for s in scores)
    metrics: dict[str, float] = {}
    if isinstance(task, SummarizingTask):
        metrics = task.summary_metrics(
            [item.sample for item in responses], [item.response for item in responses], scores
        )
    # n samples and c correct per problem, in first-seen order.
    tally: dict[str, list[int]] = {}
    for item, score in zip(responses, scores, strict=True):
        counts = tally.setdefault(item.sample.id, [0, 0])
        counts[0] += 1
        counts[1] += score.correct
    sizes = [n for n, _ in tally.values()]
    multi = bool(sizes) and (max(sizes) > 1 or task.answer_kind == "code")
    if multi:
        for k in PASS_AT_K:
            if min(sizes) >= k:
                estimates = [pass_at_k(n, c, k) for n, c in tally.values()]
                metrics[f"pass@{k}"] = sum(estimates) / len(estimates)
    return ScoreReport(
        task=task.name,
        n=len(per_item),
        correct=correct,
        accuracy=correct / len(per_item) if per_item else 0.0,
        per_item=per_item,
        metrics=metrics,
        n_problems=len(tally) if multi else None,
        samples_per_problem=(min(sizes), max(sizes)) if multi else None,
    )
