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
from collections.abc import Collection
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class SampleView(BaseModel):
    """What a strategy and a label-free check may see of a sample: its id, its input and the
    metadata keys the task declares public. No gold target, no gold-derived metadata."""

    model_config = ConfigDict(frozen=True)

    id: str
    input: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class Sample(SampleView):
    """One item of a task. ``target`` is the gold answer: only the scorer and the oracle channel
    read it (strategies get :meth:`view`)."""

    target: Any = None

    def view(self, public_metadata: Collection[str] = ()) -> SampleView:
        """The target-free view of this sample, keeping only the ``public_metadata`` keys."""
        return SampleView(
            id=self.id,
            input=self.input,
            metadata={k: v for k, v in self.metadata.items() if k in public_metadata},
        )


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
    """A task = samples + prompt format + answer extraction + scorer.

    Strategies never see the task itself, only a :class:`TaskView` of it and a
    :class:`SampleView` of the sample: :meth:`format_prompt`, :meth:`extract` and :meth:`check`
    therefore receive a view and cannot read the target. :meth:`score` and
    :meth:`oracle_check` receive the full sample; they are reached only by the runner (scoring)
    and by the oracle channel (which marks the run ORACLE-ASSISTED).
    """

    name: str = "task"
    #: What kind of answer the task expects; strategies use it to phrase generic prompts.
    answer_kind: str = "text"
    #: Metadata keys a strategy may see (default: none). Anything derived from the gold answer
    #: (a worked solution, the operations that produce the answer, the instruction list a
    #: checker uses) must stay out of this set.
    public_metadata: ClassVar[frozenset[str]] = frozenset()
    #: What :meth:`check` checks, label-free (e.g. "the examples in the problem statement");
    #: ``None`` when the task has no label-free check.
    label_free_check: ClassVar[str | None] = None
    #: What :meth:`oracle_check` checks when it needs gold information; ``None`` when none.
    gold_check: ClassVar[str | None] = None
    #: ``max_tokens`` per call on the embedded engine (``llamacpp/``) when the run sets none:
    #: room for the reply this task needs, so a small model cannot ramble a slot full.
    default_max_tokens: ClassVar[int] = 600

    @abstractmethod
    def samples(self) -> list[Sample]:
        """All samples of the task, in a stable order."""

    def train_samples(self) -> list[Sample]:
        """The training split (``--task-option train=N`` or ``train_file=PATH``, see
        :mod:`reflectlab.task._split`): samples only an offline stage learns from, never
        scored. Empty for a task without a split."""
        return []

    def format_prompt(self, sample: SampleView) -> str:
        """The user message for a first attempt (includes the answer-format instruction)."""
        return sample.input

    @abstractmethod
    def extract(self, sample: SampleView, response: str) -> Extracted:
        """Pull the (normalised) answer out of a reply."""

    @abstractmethod
    async def score(self, sample: Sample, response: str) -> Score:
        """Score a reply against the gold target. A reply without an extractable answer scores
        as wrong, with the reason kept."""

    async def check(self, sample: SampleView, response: str) -> CheckResult | None:
        """A label-free external check (declared by :attr:`label_free_check`), or ``None``."""
        return None

    async def oracle_check(self, sample: Sample, response: str) -> CheckResult | None:
        """A check that reads gold information (declared by :attr:`gold_check`), for the
        oracle channel only; ``None`` if the task has none (the oracle then uses the score)."""
        return None

    def view(self) -> TaskView:
        """The target-free face of this task that strategies and feedback sources receive."""
        return TaskView(self)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "answer_kind": self.answer_kind}


class TaskView:
    """What a strategy may use of a task: prompt format, answer extraction and the label-free
    check, all on :class:`SampleView` objects. No samples, no scorer, no gold check: the only
    way to gold information is the oracle channel of the strategy context.

    This is an API boundary, not a security boundary: strategies run in-process, so code that
    digs through private attributes or the garbage collector could still find the task. The
    guarantee is that no public method, attribute or documented path leads to a label.
    """

    __slots__ = ("__task",)

    def __init__(self, task: Task) -> None:
        self.__task = task

    @property
    def name(self) -> str:
        return self.__task.name

    @property
    def answer_kind(self) -> str:
        return self.__task.answer_kind

    @property
    def label_free_check(self) -> str | None:
        return self.__task.label_free_check

    def format_prompt(self, sample: SampleView) -> str:
        return self.__task.format_prompt(_as_view(self.__task, sample))

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return self.__task.extract(_as_view(self.__task, sample), response)

    async def check(self, sample: SampleView, response: str) -> CheckResult | None:
        if self.__task.label_free_check is None:
            return None
        return await self.__task.check(_as_view(self.__task, sample), response)

    def describe(self) -> dict[str, Any]:
        return self.__task.describe()

    def __repr__(self) -> str:
        return f"TaskView({self.__task.name!r})"


def _as_view(task: Task, sample: SampleView) -> SampleView:
    """A full :class:`Sample` handed to a view method is reduced to its view first."""
    return sample.view(task.public_metadata) if isinstance(sample, Sample) else sample


class Oracle:
    """The one path from a strategy to gold information: the scorer and the task's gold check
    for one sample. A strategy context hands it out only through
    :meth:`~reflectlab.strategy.StrategyContext.use_oracle`, which marks the result
    ORACLE-ASSISTED with the reason before the handle exists.
    """

    __slots__ = ("__sample", "__task")

    def __init__(self, task: Task, sample: Sample) -> None:
        self.__task = task
        self.__sample = sample

    @property
    def gold_check(self) -> str | None:
        """What :meth:`check` runs, or ``None`` if the task has only its scorer."""
        return self.__task.gold_check

    async def score(self, response: str) -> Score:
        """The gold score of ``response``."""
        return await self.__task.score(self.__sample, response)

    async def check(self, response: str) -> CheckResult | None:
        """The task's gold check of ``response`` (richer text than the score), if it has one."""
        if self.__task.gold_check is None:
            return None
        return await self.__task.oracle_check(self.__sample, response)
