"""Strict and loose evaluation of responses, and IFEval's four accuracy figures.

*Strict*: the response as given must satisfy the instruction. *Loose* (an upper bound, from the
IFEval paper): the instruction counts as followed if any of eight variants of the response
satisfies it: the response itself, without its first line, without its last line, without
both, and each of those four with every ``*`` removed. This forgives a chatty first line
("Sure, here is ...") and markdown emphasis that breaks a literal check.

*Prompt-level* accuracy is the share of prompts whose instructions are all followed;
*instruction-level* accuracy the share of all instructions followed, pooled over prompts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reflectlab.task.ifeval._registry import build_check

__all__ = [
    "IFEvalItemResult",
    "IFEvalItemScore",
    "IFEvalRecord",
    "IFEvalScores",
    "evaluate_response",
    "loose_variants",
    "score_responses",
]


@dataclass(frozen=True)
class IFEvalRecord:
    """One IFEval prompt and its verifiable instructions.

    ``kwargs[i]`` holds the arguments of ``instruction_ids[i]``. ``id`` is the data file's
    ``key`` as a string. Construction validates every instruction id and its arguments, so a
    bad record fails when it is made, not half-way through scoring a run.
    """

    id: str
    prompt: str
    instruction_ids: tuple[str, ...]
    kwargs: tuple[Mapping[str, object], ...]

    def __post_init__(self) -> None:
        if not self.instruction_ids:
            raise ValueError(f"record {self.id!r} has no instructions")
        if len(self.instruction_ids) != len(self.kwargs):
            raise ValueError(
                f"record {self.id!r}: {len(self.instruction_ids)} instruction ids but "
                f"{len(self.kwargs)} kwargs"
            )
        for instruction_id, kwargs in zip(self.instruction_ids, self.kwargs, strict=True):
            build_check(instruction_id, kwargs)


@dataclass(frozen=True)
class IFEvalItemResult:
    """Whether one response followed each instruction of its record (in record order)."""

    follow_all: bool
    follow_list: tuple[bool, ...]


@dataclass(frozen=True)
class IFEvalItemScore:
    """Strict and loose results of one record's response."""

    id: str
    instruction_ids: tuple[str, ...]
    strict: IFEvalItemResult
    loose: IFEvalItemResult


@dataclass(frozen=True)
class IFEvalScores:
    """The four IFEval accuracies (fractions in [0, 1]) and the per-item results behind them."""

    prompt_strict: float
    instruction_strict: float
    prompt_loose: float
    instruction_loose: float
    per_item: tuple[IFEvalItemScore, ...]

    def by_instruction(self, *, loose: bool = False) -> dict[str, float]:
        """Accuracy per instruction id, to see which kinds of instruction a model misses."""
        followed: dict[str, int] = defaultdict(int)
        total: dict[str, int] = defaultdict(int)
        for item in self.per_item:
            result = item.loose if loose else item.strict
            for instruction_id, ok in zip(item.instruction_ids, result.follow_list, strict=True):
                total[instruction_id] += 1
                followed[instruction_id] += ok
        return {key: followed[key] / total[key] for key in sorted(total)}


def loose_variants(response: str) -> tuple[str, ...]:
    """The eight texts loose evaluation tries, the unmodified response first."""
    lines = response.split("\n")
    trimmed = (
        response,
        "\n".join(lines[1:]).strip(),
        "\n".join(lines[:-1]).strip(),
        "\n".join(lines[1:-1]).strip(),
    )
    return trimmed + tuple(text.replace("*", "") for text in trimmed)


def evaluate_response(record: IFEvalRecord, response: str, *, loose: bool) -> IFEvalItemResult:
    """Check ``response`` against every instruction of ``record``.

    A blank text (the response, or a loose variant) follows no instruction.

    >>> record = IFEvalRecord("1", "Say hi, no commas.", ("punctuation:no_comma",), ({},))
    >>> evaluate_response(record, "Hi there", loose=False).follow_all
    True
    """
    candidates = loose_variants(response) if loose else (response,)
    candidates = tuple(text for text in candidates if text.strip())
    follow_list = tuple(
        any(check(text) for text in candidates)
        for check in (
            build_check(instruction_id, kwargs)
            for instruction_id, kwargs in zip(record.instruction_ids, record.kwargs, strict=True)
        )
    )
    return IFEvalItemResult(follow_all=all(follow_list), follow_list=follow_list)


def score_responses(records: Sequence[IFEvalRecord], responses: Sequence[str]) -> IFEvalScores:
    """Score ``responses[i]`` against ``records[i]``, strict and loose.

    A response that is empty (e.g. the model's output could not be obtained) is scored as
    following nothing, never skipped, so the denominators are always all records and all
    instructions.
    """
    if len(records) != len(responses):
        raise ValueError(f"{len(records)} records but {len(responses)} responses")
    if not records:
        raise ValueError("no records to score")
    items = tuple(
        IFEvalItemScore(
            id=record.id,
            instruction_ids=record.instruction_ids,
            strict=evaluate_response(record, response, loose=False),
            loose=evaluate_response(record, response, loose=True),
        )
        for record, response in zip(records, responses, strict=True)
    )
    instructions = sum(len(item.instruction_ids) for item in items)

    def prompt_level(results: list[IFEvalItemResult]) -> float:
        return sum(result.follow_all for result in results) / len(results)

    def instruction_level(results: list[IFEvalItemResult]) -> float:
        return sum(sum(result.follow_list) for result in results) / instructions

    strict = [item.strict for item in items]
    loose = [item.loose for item in items]
    return IFEvalScores(
        prompt_strict=prompt_level(strict),
        instruction_strict=instruction_level(strict),
        prompt_loose=prompt_level(loose),
        instruction_loose=instruction_level(loose),
        per_item=items,
    )
