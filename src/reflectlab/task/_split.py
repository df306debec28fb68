"""A train/test split of any task: training samples are never scored as test samples.

Two task options, accepted by every task (``--task-option train=8``)::

    train=N           the first N samples of the task (after its own ``n``) form the training
                      split; the task's samples are the rest
    train_file=PATH   the training split is read from PATH, a file of the same kind with the
                      same options (e.g. GSM8K's train.jsonl); with ``train=N``, its first N

Only strategies with an offline stage (``rot``) read the training split, through the runner; a
strategy never sees it from a test sample. :meth:`TrainTestTask.samples` is the test split
only, so whatever scores a task's samples scores no training sample. The split is first-N,
not random: the same options always give the same split, and ``describe()`` records it (with
the training sample ids) in the run's versions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reflectlab.errors import ConfigError
from reflectlab.task._base import CheckResult, Extracted, Sample, SampleView, Score, Task
from reflectlab.task._options import parse_options

__all__ = ["SplitOptions", "TrainTestTask", "split_task"]

#: Class-level declarations of a task that a wrapper must repeat as its own.
_DECLARATIONS = ("public_metadata", "label_free_check", "gold_check", "default_max_tokens")


class SplitOptions(BaseModel):
    """The split options (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train: int = Field(default=0, ge=0)
    train_file: str | None = None

    @property
    def wanted(self) -> bool:
        return self.train > 0 or self.train_file is not None


def pop_split_options(task: str, options: dict[str, Any]) -> SplitOptions:
    """Take the split options out of ``options`` (the rest go to the task), validated."""
    mine = {k: options.pop(k) for k in list(options) if k in SplitOptions.model_fields}
    return parse_options(SplitOptions, task, mine)


class TrainTestTask(Task):
    """``inner`` with its samples split: :meth:`samples` is the test split,
    :meth:`train_samples` the training split. Everything else is ``inner``'s."""

    def __init__(self, inner: Task, train: list[Sample], test: list[Sample], source: str) -> None:
        self.inner = inner
        self.name = inner.name
        self.answer_kind = inner.answer_kind
        for attr in _DECLARATIONS:  # class-level on the task: repeated on this instance
            setattr(self, attr, getattr(inner, attr))
        self._train = train
        self._test = test
        self._source = source

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this wrapper lacks (a task's path, options, ...).
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def samples(self) -> list[Sample]:
        return list(self._test)

    def train_samples(self) -> list[Sample]:
        return list(self._train)

    def format_prompt(self, sample: SampleView) -> str:
        return self.inner.format_prompt(sample)

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return self.inner.extract(sample, response)

    async def score(self, sample: Sample, response: str) -> Score:
        return await self.inner.score(sample, response)

    async def check(self, sample: SampleView, response: str) -> CheckResult | None:
        return await self.inner.check(sample, response)

    async def oracle_check(self, sample: Sample, response: str) -> CheckResult | None:
        return await self.inner.oracle_check(sample, response)

    def describe(self) -> dict[str, Any]:
        split = {
            "train": len(self._train),
            "test": len(self._test),
            "train_source": self._source,
            "train_ids": [s.id for s in self._train],
        }
        return {**self.inner.describe(), "split": split}


def split_task(
    task: Task, split: SplitOptions, load_train: Callable[[str], Task] | None = None
) -> Task:
    """``task`` split by ``split`` (``task`` itself when no split is asked for).
    ``load_train(path)`` builds the task of a ``train_file``."""
    if not split.wanted:
        return task
    samples = task.samples()
    if split.train_file is not None:
        if load_train is None:
            raise ConfigError(f"task {task.name!r}: train_file needs a task read from a file")
        pool = load_train(split.train_file).samples()
        train = pool[: split.train] if split.train else pool
        source = split.train_file
        test = samples
    else:
        if split.train >= len(samples):
            raise ConfigError(
                f"task {task.name!r}: train={split.train} leaves no test sample "
                f"(the task has {len(samples)})"
            )
        train, test = samples[: split.train], samples[split.train :]
        source = f"the task's first {split.train} samples"
    if not train:
        raise ConfigError(f"task {task.name!r}: the training split is empty")
    return TrainTestTask(task, train, test, source)
