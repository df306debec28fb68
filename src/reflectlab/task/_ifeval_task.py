"""IFEval as a task: verifiable instruction following (Zhou et al. 2023, arXiv:2311.07911).

Samples come from IFEval's ``input_data.jsonl`` (id = ``key``); the prompt is the IFEval prompt
unchanged. Scoring uses :mod:`reflectlab.task.ifeval`, the programmatic checker: a reply is
correct when it follows every instruction under *strict* evaluation; ``Score.value`` is the
share of instructions followed, and the loose results are kept in ``Score.details``.
:meth:`IFEvalTask.summary_metrics` gives the benchmark's four accuracies over a set of replies.

:meth:`IFEvalTask.oracle_check` runs the same strict checks and names the unmet instructions
in words. It is *not* label-free: the instruction list is the benchmark's gold annotation and
the checker is the scorer, so its pass/fail is the gold label. It reaches a strategy only
through the oracle channel, which marks the run ORACLE-ASSISTED; the task has no label-free
check (``feedback=tool`` is refused before any model call).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reflectlab.task._base import CheckResult, Extracted, Sample, SampleView, Score, Task
from reflectlab.task._instructions import describe_instruction
from reflectlab.task._options import TaskOptions
from reflectlab.task.ifeval import (
    IFEvalRecord,
    evaluate_response,
    load_ifeval_inputs,
    score_responses,
)

__all__ = ["IFEvalOptions", "IFEvalTask"]


class IFEvalOptions(TaskOptions):
    #: Only the first ``n`` prompts (``None``: all).
    n: int | None = None


def _record_of(sample: Sample) -> IFEvalRecord:
    target = sample.target or {}
    return IFEvalRecord(
        id=sample.id,
        prompt=sample.input,
        instruction_ids=tuple(target.get("instruction_id_list", ())),
        kwargs=tuple(target.get("kwargs", ())),
    )


class IFEvalTask(Task):
    """IFEval from a local ``input_data.jsonl``."""

    default_max_tokens = 800

    answer_kind = "text"
    # The instruction list and its arguments are the benchmark's gold annotation of the prompt,
    # and the checker over them is the scorer: feedback from it is an oracle, not a tool.
    gold_check = "IFEval's instruction checker over the annotated instructions (the scorer)"

    def __init__(self, path: str | Path, options: IFEvalOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or IFEvalOptions()
        self.name = f"ifeval:{self.path.name}"
        records = load_ifeval_inputs(self.path)
        if self.options.n is not None:
            records = records[: self.options.n]
        self._records = {record.id: record for record in records}
        self._samples = [
            Sample(
                id=record.id,
                input=record.prompt,
                target={
                    "instruction_id_list": list(record.instruction_ids),
                    "kwargs": [dict(kw) for kw in record.kwargs],
                },
            )
            for record in records
        ]

    def samples(self) -> list[Sample]:
        return self._samples

    def record(self, sample: Sample) -> IFEvalRecord:
        """The validated IFEval record behind ``sample``."""
        record = self._records.get(sample.id)
        return (
            record if record is not None and record.prompt == sample.input else _record_of(sample)
        )

    def extract(self, sample: SampleView, response: str) -> Extracted:
        text = response.strip()
        return Extracted(value=text or None, reason=None if text else "empty reply")

    async def score(self, sample: Sample, response: str) -> Score:
        record = self.record(sample)
        strict = evaluate_response(record, response, loose=False)
        loose = evaluate_response(record, response, loose=True)
        missed = [
            iid
            for iid, ok in zip(record.instruction_ids, strict.follow_list, strict=True)
            if not ok
        ]
        reason = None
        if not response.strip():
            reason = "empty reply"
        elif missed:
            reason = "not followed (strict): " + ", ".join(missed)
        return Score(
            correct=strict.follow_all,
            value=sum(strict.follow_list) / len(strict.follow_list),
            answer=None,
            reason=reason,
            details={
                "instruction_id_list": list(record.instruction_ids),
                "strict": list(strict.follow_list),
                "loose": list(loose.follow_list),
                "loose_follow_all": loose.follow_all,
            },
        )

    async def oracle_check(self, sample: Sample, response: str) -> CheckResult:
        record = self.record(sample)
        strict = evaluate_response(record, response, loose=False)
        unmet = [
            describe_instruction(iid, kwargs)
            for iid, kwargs, ok in zip(
                record.instruction_ids, record.kwargs, strict.follow_list, strict=True
            )
            if not ok
        ]
        if not unmet:
            feedback = "All instructions of the request are followed."
        else:
            feedback = "The response does not follow these instructions of the request:\n" + (
                "\n".join(f"- {text}" for text in unmet)
            )
        return CheckResult(
            passed=not unmet,
            feedback=feedback,
            details={
                "unmet": [
                    i
                    for i, ok in zip(record.instruction_ids, strict.follow_list, strict=True)
                    if not ok
                ]
            },
        )

    def summary_metrics(
        self, samples: Sequence[Sample], responses: Sequence[str], scores: Sequence[Score]
    ) -> dict[str, float]:
        """IFEval's four accuracies over ``responses[i]`` to ``samples[i]``.

        Taken from the per-instruction results :meth:`score` keeps in ``details`` (so nothing
        is checked twice); replies scored elsewhere are re-checked.
        """
        complete = len(scores) == len(samples) > 0
        if not complete or not all("strict" in s.details and "loose" in s.details for s in scores):
            result = score_responses([self.record(s) for s in samples], list(responses))
            return {
                "prompt_strict": result.prompt_strict,
                "instruction_strict": result.instruction_strict,
                "prompt_loose": result.prompt_loose,
                "instruction_loose": result.instruction_loose,
            }
        out: dict[str, float] = {}
        total = sum(len(s.details["strict"]) for s in scores)
        for mode in ("strict", "loose"):
            lists = [s.details[mode] for s in scores]
            out[f"prompt_{mode}"] = sum(all(x) for x in lists) / len(lists)
            out[f"instruction_{mode}"] = sum(sum(x) for x in lists) / total
        return {k: out[k] for k in ("prompt_strict", "instruction_strict", "prompt_loose",
                                    "instruction_loose")}  # fmt: skip

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.path), "n": len(self._samples)}
