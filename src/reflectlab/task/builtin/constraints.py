"""``constraints``: writing tasks with 2-5 programmatically checkable constraints.

Made for DeCRIM-style refinement (Ferraz et al. 2024, "LLM Self-Correction with DeCRIM:
Decompose, Critique, and Refine for Enhanced Following of Instructions with Multiple
Constraints", arXiv:2410.06458): a short writing request plus a numbered list of constraints
(word count, required keywords, no commas, number of bullet points, closing phrase, ...).

Each constraint is an IFEval instruction with its arguments, checked by
:mod:`reflectlab.task.ifeval` under strict evaluation, so the checks are the benchmark's own,
tested code. Constraints are drawn from groups, at most one per group, and groups that could
contradict each other (all-lowercase and a capitalised closing phrase) are never combined.

A reply is correct when it meets every constraint; ``Score.value`` is the share met.
:meth:`ConstraintsTask.oracle_check` returns which constraints fail, in words. Although every
constraint is stated in the prompt, that checker *is* the scorer, so its verdict is the gold
label: it reaches a strategy only through the oracle channel (ORACLE-ASSISTED), never as
label-free tool feedback. A label-free variant would have to parse the constraints out of the
prompt text itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from pydantic import Field

from reflectlab.task._base import CheckResult, Extracted, Sample, SampleView, Score, Task
from reflectlab.task._instructions import describe_instruction
from reflectlab.task._options import TaskOptions
from reflectlab.task.ifeval import IFEvalRecord, evaluate_response

__all__ = ["ConstraintsOptions", "ConstraintsTask", "generate_constraints"]

# (request, topic keywords): keywords are plain lowercase words the request makes natural.
TOPICS: list[tuple[str, list[str]]] = [
    ("Write a short blog post about the benefits of urban gardening.",
     ["soil", "community", "harvest", "balcony", "compost"]),
    ("Write a product description for a reusable water bottle.",
     ["steel", "hydration", "lid", "insulated", "durable"]),
    ("Write a letter to a friend describing your last holiday.",
     ["beach", "museum", "train", "weather", "souvenir"]),
    ("Write a short story about a lighthouse keeper.",
     ["storm", "lamp", "ship", "island", "night"]),
    ("Explain to a teenager why sleep matters.",
     ["brain", "memory", "energy", "screen", "routine"]),
    ("Write a review of an imaginary Italian restaurant.",
     ["pasta", "service", "dessert", "price", "atmosphere"]),
    ("Describe how a bicycle works to a ten-year-old.",
     ["pedal", "chain", "wheel", "brake", "balance"]),
    ("Write an announcement for a neighbourhood book swap.",
     ["library", "saturday", "novel", "volunteer", "coffee"]),
    ("Write a short speech thanking a retiring teacher.",
     ["classroom", "patience", "students", "lessons", "gratitude"]),
    ("Explain the water cycle.",
     ["evaporation", "cloud", "rain", "ocean", "vapor"]),
    ("Write a pitch for a mobile app that helps people drink more water.",
     ["reminder", "goal", "notification", "habit", "health"]),
    ("Describe a perfect rainy Sunday.",
     ["tea", "blanket", "window", "book", "soup"]),
    ("Write advice for someone starting to learn the guitar.",
     ["chord", "practice", "fingers", "strings", "rhythm"]),
    ("Write a short history of the printing press for a school newsletter.",
     ["gutenberg", "books", "ink", "europe", "literacy"]),
    ("Write an email asking a landlord to repair a broken heater.",
     ["apartment", "repair", "winter", "urgent", "tenant"]),
    ("Explain why bees are important.",
     ["pollen", "flowers", "honey", "crops", "hive"]),
    ("Write a motivational note for a friend running their first marathon.",
     ["finish", "training", "miles", "courage", "crowd"]),
    ("Describe the ideal home office.",
     ["desk", "light", "chair", "plants", "quiet"]),
]  # fmt: skip

_FILLER_WORDS = ["very", "really", "amazing", "thing", "good", "nice", "just", "stuff"]
_END_PHRASES = [
    "Is there anything else I can help with?",
    "Thank you for reading.",
    "Let me know what you think.",
    "That is all for today.",
]

Constraint = dict[str, Any]  # {"id": IFEval instruction id, "kwargs": {...}}


def _length(rng: random.Random, words: list[str]) -> Constraint:
    if rng.random() < 0.5:
        return {
            "id": "length_constraints:number_words",
            "kwargs": {"relation": "at least", "num_words": rng.choice([60, 80, 100, 150])},
        }
    return {"id": "length_constraints:number_words",
            "kwargs": {"relation": "less than",
                       "num_words": rng.choice([60, 80, 120])}}  # fmt: skip


def _keywords(rng: random.Random, words: list[str]) -> Constraint:
    return {"id": "keywords:existence", "kwargs": {"keywords": [words.pop(), words.pop()]}}


def _frequency(rng: random.Random, words: list[str]) -> Constraint:
    return {"id": "keywords:frequency",
            "kwargs": {"keyword": words.pop(), "relation": "at least",
                       "frequency": rng.randint(2, 3)}}  # fmt: skip


def _forbidden(rng: random.Random, words: list[str]) -> Constraint:
    return {"id": "keywords:forbidden_words",
            "kwargs": {"forbidden_words": rng.sample(_FILLER_WORDS, 2)}}  # fmt: skip


def _layout(rng: random.Random, words: list[str]) -> Constraint:
    kind = rng.choice(["bullets", "paragraphs", "highlights"])
    if kind == "bullets":
        return {"id": "detectable_format:number_bullet_lists",
                "kwargs": {"num_bullets": rng.randint(3, 5)}}  # fmt: skip
    if kind == "paragraphs":
        return {"id": "length_constraints:number_paragraphs",
                "kwargs": {"num_paragraphs": rng.randint(2, 4)}}  # fmt: skip
    return {"id": "detectable_format:number_highlighted_sections",
            "kwargs": {"num_highlights": rng.randint(2, 3)}}  # fmt: skip


def _ending(rng: random.Random, words: list[str]) -> Constraint:
    if rng.random() < 0.6:
        return {"id": "startend:end_checker", "kwargs": {"end_phrase": rng.choice(_END_PHRASES)}}
    return {"id": "detectable_content:postscript", "kwargs": {"postscript_marker": "P.S."}}


def _simple(instruction_id: str, **kwargs: Any) -> Callable[[random.Random, list[str]], Constraint]:
    return lambda rng, words: {"id": instruction_id, "kwargs": dict(kwargs)}


_GROUPS: dict[str, Callable[[random.Random, list[str]], Constraint]] = {
    "length": _length,
    "keywords": _keywords,
    "frequency": _frequency,
    "forbidden": _forbidden,
    "comma": _simple("punctuation:no_comma"),
    "layout": _layout,
    "ending": _ending,
    "case": _simple("change_case:english_lowercase"),
    "title": _simple("detectable_format:title"),
    "placeholder": _simple("detectable_content:number_placeholders", num_placeholders=2),
}
# Pairs that may contradict each other: a closing phrase or "P.S." is capitalised, but
# "lowercase only" forbids capitals.
_EXCLUSIVE = [{"case", "ending"}]


class ConstraintsOptions(TaskOptions):
    n: int = Field(default=100, ge=1)
    min_constraints: int = Field(default=2, ge=1, le=5)
    max_constraints: int = Field(default=5, ge=1, le=5)


def generate_constraints(seed: int, index: int, low: int = 2, high: int = 5) -> Sample:
    """Writing task ``index`` of ``seed`` with ``low``-``high`` constraints."""
    rng = random.Random(f"constraints:{seed}:{index}:{low}:{high}")
    request, pool = rng.choice(TOPICS)
    words = rng.sample(pool, len(pool))
    count = rng.randint(low, high)
    groups: list[str] = []
    for group in rng.sample(sorted(_GROUPS), len(_GROUPS)):
        if len(groups) == count:
            break
        if any(group in pair and (pair - {group}) & set(groups) for pair in _EXCLUSIVE):
            continue
        groups.append(group)
    constraints = [_GROUPS[group](rng, words) for group in groups]
    listed = "\n".join(f"{i}. {_sentence(c)}" for i, c in enumerate(constraints, start=1))
    prompt = f"{request}\n\nYour response must follow all of these constraints:\n{listed}"
    return Sample(
        id=str(index),
        input=prompt,
        target={"constraints": constraints},
        metadata={"constraints": constraints, "groups": groups},
    )


def _sentence(constraint: Constraint) -> str:
    text = describe_instruction(constraint["id"], constraint["kwargs"])
    return text[0].upper() + text[1:] + "."


def _record(sample: Sample) -> IFEvalRecord:
    constraints = sample.metadata["constraints"]
    return IFEvalRecord(
        id=sample.id,
        prompt=sample.input,
        instruction_ids=tuple(c["id"] for c in constraints),
        kwargs=tuple(c["kwargs"] for c in constraints),
    )


class ConstraintsTask(Task):
    """Generated multi-constraint writing tasks (see the module docstring)."""

    name = "constraints"
    answer_kind = "text"
    default_max_tokens = 800
    # The constraint records are what the scorer checks: feedback from them is an oracle.
    gold_check = "the constraint checker over the generated constraint list (the scorer)"

    def __init__(self, options: ConstraintsOptions | None = None) -> None:
        self.options = options or ConstraintsOptions()
        low, high = self.options.min_constraints, self.options.max_constraints
        if low > high:
            from reflectlab.errors import ConfigError

            raise ConfigError(f"task 'constraints': min_constraints {low} > max_constraints {high}")
        self._samples = [
            generate_constraints(self.options.seed, i, low, high) for i in range(self.options.n)
        ]

    def samples(self) -> list[Sample]:
        return self._samples

    def extract(self, sample: SampleView, response: str) -> Extracted:
        text = response.strip()
        return Extracted(value=text or None, reason=None if text else "empty reply")

    def _results(self, sample: Sample, response: str) -> list[tuple[Constraint, bool]]:
        result = evaluate_response(_record(sample), response, loose=False)
        return list(zip(sample.metadata["constraints"], result.follow_list, strict=True))

    async def score(self, sample: Sample, response: str) -> Score:
        results = self._results(sample, response)
        failed = [c["id"] for c, ok in results if not ok]
        return Score(
            correct=not failed,
            value=sum(ok for _, ok in results) / len(results),
            reason=("empty reply" if not response.strip() else None)
            or (("not met: " + ", ".join(failed)) if failed else None),
            details={"met": [ok for _, ok in results]},
        )

    async def oracle_check(self, sample: Sample, response: str) -> CheckResult:
        results = self._results(sample, response)
        failed = [(i, c) for i, (c, ok) in enumerate(results, start=1) if not ok]
        if not failed:
            feedback = f"All {len(results)} constraints are met."
        else:
            feedback = f"{len(failed)} of {len(results)} constraints are not met:\n" + "\n".join(
                f"- constraint {i}: {_sentence(c)}" for i, c in failed
            )
        return CheckResult(
            passed=not failed,
            feedback=feedback,
            details={"failed": [i for i, _ in failed]},
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.options.model_dump()}
