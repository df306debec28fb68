"""A strategy's offline stage: work done once per run, before any test sample, on the task's
training split (``rot`` searches and reflects there and writes guidelines).

A strategy declares one with ``@strategy(..., offline=OfflineStage(run=..., needed=...))``.
``run(octx, params)`` receives an :class:`OfflineContext` and the strategy's resolved
parameters and returns :class:`Prepared`: parameter values for the test-time strategy (so it
is rebuilt from its name and parameters anywhere, a Ray worker included) and a record of what
was learned, stored with the run and shown by ``reflectlab show`` and the report.

Every call goes through the run's models, so it is cached, logged and counted like any other;
the runner runs the stage once per run, stores its result, and a resumed run reuses it.

The training samples' gold labels are reachable only through each training context's
:meth:`~reflectlab.strategy.StrategyContext.use_oracle`, which records why: the stage's
record lists those reasons, and it is shown as oracle use *on the training split*. A test
sample's context never holds a training sample.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from reflectlab.model import GenerateConfig, Model
from reflectlab.strategy._context import Budget, StrategyContext
from reflectlab.task import Sample, Task

__all__ = ["OfflineContext", "OfflineStage", "Prepared"]


class Prepared(BaseModel):
    """What an offline stage produced: ``params`` complete the test-time strategy's
    parameters; ``record`` is what it learned and from what (stored and shown)."""

    params: dict[str, Any] = Field(default_factory=dict)
    record: dict[str, Any] = Field(default_factory=dict)


class OfflineContext:
    """The run's models and the task's training split, for an offline stage.

    :meth:`sample_context` gives a :class:`StrategyContext` on one training sample (its own
    budget: the run's per-sample one; its gold label through ``use_oracle`` only);
    :meth:`context` one for calls about no sample (reflecting, merging). Each context
    created is kept, so calls, tokens and oracle reasons add up in :attr:`oracle_reasons`.
    """

    def __init__(
        self,
        *,
        model: Model,
        task: Task,
        train: list[Sample],
        critic: Model | None = None,
        judge: Model | None = None,
        budget: Budget | None = None,
        config: GenerateConfig | None = None,
        prompts: dict[str, str] | None = None,
    ) -> None:
        self.model = model
        self.critic = critic
        self.judge = judge
        self._task = task
        self._train = list(train)
        self.budget = budget or Budget()
        self.config = config
        self._prompts = dict(prompts or {})
        self.contexts: list[StrategyContext] = []

    @property
    def train_ids(self) -> list[str]:
        return [s.id for s in self._train]

    def sample_contexts(self) -> list[StrategyContext]:
        """One fresh context per training sample, in the split's order."""
        return [self._new(sample) for sample in self._train]

    def context(self) -> StrategyContext:
        """A context for calls about the training split as a whole (no sample, no label)."""
        return self._new(Sample(id="train-split", input=""))

    def _new(self, sample: Sample) -> StrategyContext:
        ctx = StrategyContext(
            model=self.model,
            critic=self.critic,
            judge=self.judge,
            task=self._task,
            sample=sample,
            budget=self.budget,
            config=self.config,
        )
        ctx.set_prompts(self._prompts)
        self.contexts.append(ctx)
        return ctx

    @property
    def oracle_reasons(self) -> list[str]:
        return [r for ctx in self.contexts for r in ctx.oracle_reasons]

    @property
    def calls(self) -> int:
        return sum(ctx.calls for ctx in self.contexts)


@dataclass(frozen=True)
class OfflineStage:
    """``run(octx, params)``: the stage. ``needed(params)``: whether it runs with these
    resolved parameters (``rot`` given its guidelines has nothing to learn); when it is, the
    task must have a training split (checked before a run exists). ``calls(params, n_train)``:
    the model calls the stage makes at most on ``n_train`` training samples (for the duration
    estimate; None: not known)."""

    run: Callable[[OfflineContext, dict[str, Any]], Awaitable[Prepared]]
    needed: Callable[[dict[str, Any]], bool] = lambda params: True
    calls: Callable[[dict[str, Any], int], int] | None = None
