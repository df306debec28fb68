"""The task contract: samples, a prompt format, answer extraction and a scorer.

A strategy never hard-codes an answer format: it asks the task to phrase the prompt
(:meth:`Task.format_prompt`), to pull an answer out of a reply (:meth:`Task.extract`, used for
voting and for scoring) and, where the task has one, for a label-free external check
(:meth:`Task.check`: visible unit tests, programmatic constraint checks) that tool feedback may
show the model. :meth:`Task.score` compares with the gold target and must never reach a prompt
except through the oracle feedback source, which marks the run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Sample(BaseModel):
    """One item of a task. ``target`` is the gold answer (kept away from prompts)."""

    model_config = ConfigDict(frozen=True)

    id: str
    input: str
    target: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Extracted(BaseModel):
    """An answer pulled out of a model reply. ``value`` is normalised (so equal answers compare
    equal for majority voting); ``None`` means no answer could be found, with ``reason``."""

    value: str | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


class Score(BaseModel):
    """The score of one reply against the gold target."""

    correct: bool
    value: float = 0.0
    answer: str | None = None
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class CheckResult(BaseModel):
    """A label-free external check of a reply (tool feedback): passed or not, and the text the
    model may read (e.g. the failing test and its error, or the unmet constraints)."""

    passed: bool
    feedback: str
    details: dict[str, Any] = Field(default_factory=dict)


class Task(ABC):
    """A task = samples + prompt format + answer extraction + scorer."""

    name: str = "task"
    #: What kind of answer the task expects; strategies use it to phrase generic prompts.
    answer_kind: str = "text"

    @abstractmethod
    def samples(self) -> list[Sample]:
        """All samples of the task, in a stable order."""

    def format_prompt(self, sample: Sample) -> str:
        """The user message for a first attempt (includes the answer-format instruction)."""
        return sample.input

    @abstractmethod
    def extract(self, sample: Sample, response: str) -> Extracted:
        """Pull the (normalised) answer out of a reply."""

    @abstractmethod
    async def score(self, sample: Sample, response: str) -> Score:
        """Score a reply against the gold target. A reply without an extractable answer scores
        as wrong, with the reason kept."""

    async def check(self, sample: Sample, response: str) -> CheckResult | None:
        """A label-free external check, or ``None`` if the task has none."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "answer_kind": self.answer_kind}
