"""The strategy context: models, task, sample, feedback, budget, and the record of checkpoints.

Every model call a strategy makes goes through :meth:`StrategyContext.generate`, which enforces
the per-sample budget, tags the call with its role and round, and numbers repeated identical
requests (so five self-consistency samples are five distinct, cacheable calls — and a resumed
run asks for exactly the same five).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reflectlab.errors import BudgetExceeded
from reflectlab.feedback import Feedback, FeedbackKind, FeedbackRequest, feedback_source
from reflectlab.model import ChatMessage, GenerateConfig, Model, ModelOutput
from reflectlab.task import Oracle, Sample, SampleView, Task, TaskView

#: The provenance kind of an answer that used what was learned from a training split's gold
#: labels (the test sample's own gold label never reached it).
TRAIN_ORACLE = "train-oracle"


class Budget(BaseModel):
    """Per-sample limits. When one runs out the strategy stops; its last checkpoint is its
    answer and the stop reason is recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_rounds: int = Field(default=3, ge=0)
    max_calls: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)


class Checkpoint(BaseModel):
    """An intermediate (or final) answer: round 0 is the first draft."""

    round: int
    response: str
    note: str | None = None
    calls: int = 0
    tokens: int = 0


class StrategyContext:
    """What a strategy receives. ``model`` solves; ``critic`` and ``judge`` are optional.

    The context is built from the full task and sample but exposes only their target-free
    views (:attr:`task`, :attr:`sample`): no public attribute or method of it leads to the gold
    label except :meth:`use_oracle`, which records why before it hands out the oracle. So a run
    that used gold information is labelled ORACLE-ASSISTED by construction, whatever the
    strategy's code does with the public API. (Strategies run in-process: this is an API
    boundary, not a sandbox; private attributes are not part of the contract.)
    """

    def __init__(
        self,
        *,
        model: Model,
        task: Task,
        sample: Sample,
        critic: Model | None = None,
        judge: Model | None = None,
        budget: Budget | None = None,
        config: GenerateConfig | None = None,
    ) -> None:
        self._model = model
        self._critic = critic
        self._task = task.view()
        self._sample = sample.view(task.public_metadata)
        self.__oracle = Oracle(task, sample)
        self.judge = judge
        self.budget = budget or Budget()
        self.config = config
        self.checkpoints: list[Checkpoint] = []
        self.feedback: list[Feedback] = []
        self.feedback_kinds: set[FeedbackKind] = set()
        self.oracle_reasons: list[str] = []
        self.train_label_reasons: list[str] = []
        self.calls = 0
        self.tokens = 0
        self.notes: dict[str, Any] = {}
        self._seen: dict[tuple[object, ...], int] = {}
        self._prompts: dict[str, str] = {}

    # -- read-only views (the FeedbackContext protocol) ---------------------------------------
    @property
    def model(self) -> Model:
        return self._model

    @property
    def critic(self) -> Model | None:
        return self._critic

    @property
    def task(self) -> TaskView:
        """The task without its samples, scorer or gold check."""
        return self._task

    @property
    def sample(self) -> SampleView:
        """The sample without its target or gold-derived metadata."""
        return self._sample

    @property
    def oracle_assisted(self) -> bool:
        return bool(self.oracle_reasons)

    # -- prompt templates ---------------------------------------------------------------------
    def prompt(self, name: str, default: str) -> str:
        """The text of the strategy's prompt template ``name``: the run's override (a
        ``--prompts`` file or the ``prompts=`` parameter, see
        :mod:`reflectlab.strategy._prompts`) or ``default``, the module constant."""
        return self._prompts.get(name, default)

    def set_prompts(self, overrides: dict[str, str]) -> None:
        """Install checked template overrides (done by the registry before the strategy runs)."""
        self._prompts = dict(overrides)

    # -- model calls --------------------------------------------------------------------------
    def _check_budget(self) -> None:
        b = self.budget
        if b.max_calls is not None and self.calls >= b.max_calls:
            raise BudgetExceeded(f"max_calls={b.max_calls} reached")
        if b.max_tokens is not None and self.tokens >= b.max_tokens:
            raise BudgetExceeded(f"max_tokens={b.max_tokens} reached ({self.tokens} used)")

    async def generate(
        self,
        messages: list[ChatMessage],
        *,
        role: str,
        round: int | None,
        model: Model | None = None,
        sample_index: int | None = None,
        **config: Any,
    ) -> ModelOutput:
        """One model call, counted against the budget and tagged with ``role`` and ``round``.

        Without an explicit ``sample_index``, the n-th identical request in this context gets
        index n, so repeated sampling yields distinct replies and a resumed run reproduces them.
        """
        self._check_budget()
        target = model or self._model
        if sample_index is None:
            # A plain tuple: strings cache their hash, so this costs far less than serialising
            # the (growing) conversation once more on the hot path.
            key = (
                target.name,
                tuple((m.role, m.content) for m in messages),
                tuple(sorted((k, repr(v)) for k, v in config.items())),
            )
            sample_index = self._seen.get(key, 0)
            self._seen[key] = sample_index + 1
        self.calls += 1
        out = await target.generate(
            messages, self.config, role=role, round=round, sample_index=sample_index, **config
        )
        self.tokens += out.usage.total_tokens
        return out

    # -- records ------------------------------------------------------------------------------
    def checkpoint(self, response: str, round: int, note: str | None = None) -> None:
        """Record an intermediate answer; the runner scores every checkpoint."""
        self.checkpoints.append(
            Checkpoint(
                round=round, response=response, note=note, calls=self.calls, tokens=self.tokens
            )
        )

    def mark_oracle(self, reason: str) -> None:
        """Declare that a gold label reached a prompt or a stop rule."""
        self.oracle_reasons.append(reason)

    def mark_train_labels(self, reason: str) -> None:
        """Declare that this answer used something learned from the gold labels of *training*
        samples (e.g. ``rot``'s guidelines), never this sample's own: the result's provenance
        then lists :data:`TRAIN_ORACLE`, kept apart from ORACLE-ASSISTED (this sample's gold)."""
        self.train_label_reasons.append(reason)

    def use_oracle(self, reason: str) -> Oracle:
        """The oracle channel: the gold scorer and gold check of this sample. The context is
        marked ORACLE-ASSISTED with ``reason`` before the oracle is returned."""
        if not reason.strip():
            raise ValueError("use_oracle needs a reason (it is shown with the result)")
        self.mark_oracle(reason)
        return self.__oracle

    async def get_feedback(self, kind: FeedbackKind, request: FeedbackRequest) -> Feedback:
        """Ask the source of ``kind`` for feedback; the feedback and its kind are recorded."""
        fb = await feedback_source(kind)(self, request)
        self.feedback.append(fb)
        self.feedback_kinds.add(fb.kind)
        return fb
