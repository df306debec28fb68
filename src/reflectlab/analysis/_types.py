"""Input and result types of the analysis package.

:class:`Outcome` is what the runner hands in, one per (strategy, sample). The result types
(:class:`FlipCounts`, :class:`StrategySummary`, :class:`Comparison`, :class:`RunSummary`) are
plain pydantic models so ``model_dump()`` is the JSON the CLI prints and the HTML report reads.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

_Count = Annotated[int, Field(ge=0)]
_Amount = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]


class Outcome(BaseModel):
    """The scored result of one strategy on one sample.

    ``correct_by_round[k]`` is the score of the checkpoint of round ``k`` (round 0 is the first
    draft). A sample that stopped early has fewer entries; the analysis carries its last
    checkpoint forward, because that is still its answer at later rounds. A sample that produced
    no answer at all has no entries and counts as wrong at every round.

    ``final_correct`` is the score of the final answer (normally the last checkpoint). It cannot
    be true when ``has_answer`` is false: an unanswered sample is a counted failure.

    ``baseline_of`` and ``budget_mode`` mark a compute-matched baseline, e.g. strategy
    ``"self_consistency@self_refine"`` with ``baseline_of="self_refine"`` and
    ``budget_mode="equal-calls"``.

    Example::

        Outcome(strategy="self_refine", sample_id="q1", correct_by_round=[False, True],
                final_correct=True, has_answer=True, calls=3, feedback_kinds=["intrinsic"])
    """

    model_config = ConfigDict(extra="forbid")

    strategy: str = Field(min_length=1)
    sample_id: str = Field(min_length=1)
    correct_by_round: list[bool] = Field(default_factory=list)
    final_correct: bool
    has_answer: bool = True
    calls: _Count = 0
    cache_hits: _Count = 0
    prompt_tokens: _Count = 0
    completion_tokens: _Count = 0
    cached_tokens: _Count = 0
    cost_usd: _Amount = 0.0
    wall_s: _Amount = 0.0
    feedback_kinds: list[str] = Field(default_factory=list)
    oracle_assisted: bool = False
    stop_reason: str = "completed"
    error: str | None = None
    #: Set when the sample errored (failed call, sandbox, strategy bug): not an answer.
    error_kind: str | None = None
    #: False when there is no gold answer to score against (a proxied chat request): the
    #: correctness fields are then meaningless and summaries show no accuracy.
    scored: bool = True
    baseline_of: str | None = None
    budget_mode: str | None = None

    @model_validator(mode="after")
    def _answer_before_credit(self) -> Outcome:
        if self.final_correct and not self.has_answer:
            raise ValueError(
                f"final_correct is true but has_answer is false "
                f"(strategy {self.strategy!r}, sample {self.sample_id!r}): "
                "a sample without an answer cannot be correct"
            )
        return self

    @property
    def uses_oracle(self) -> bool:
        """True when a gold label reached a prompt or stop rule, whichever way it was recorded
        (an ``oracle`` feedback kind is oracle assistance even if the flag was not set)."""
        return self.oracle_assisted or "oracle" in self.feedback_kinds


class FlipCounts(BaseModel):
    """How answers moved between two rounds (Huang et al. 2023, "Large Language Models Cannot
    Self-Correct Reasoning Yet", Table 3 style): right->right, right->wrong, wrong->right,
    wrong->wrong.

    ``to_round`` is ``None`` for the "first draft -> final answer" row. ``active`` is how many
    samples really produced a checkpoint at ``to_round`` (the rest are carried forward); it is
    ``None`` for the final row.
    """

    from_round: int
    to_round: int | None
    label: str
    n: int
    right_right: int = 0
    right_wrong: int = 0
    wrong_right: int = 0
    wrong_wrong: int = 0
    active: int | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def net(self) -> int:
        """Samples fixed minus samples broken: positive means the round helped."""
        return self.wrong_right - self.right_wrong


class StrategySummary(BaseModel):
    """Everything the CLI table and the HTML report show for one strategy.

    Token and cost fields are sums over samples. ``wall_s`` is the sum of per-sample wall
    time, not the run's elapsed time (samples run concurrently). ``cached_tokens`` is the part
    of ``prompt_tokens`` the server served from its prefix cache, not an extra amount.
    ``provenance`` is the label shown on every line: ``"ORACLE-ASSISTED"`` whenever a gold
    label was used, otherwise the feedback kinds joined by ``+``, or ``"none"``.
    """

    name: str
    n: int
    correct: int
    accuracy: float
    ci_low: float
    ci_high: float
    confidence: float
    accuracy_by_round: list[float]
    flips_by_round: list[FlipCounts]
    flips_total: FlipCounts
    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    total_tokens: int
    cost_usd: float
    cost_per_correct: float | None
    tokens_per_sample: float
    wall_s: float
    no_answer: int
    errors: int
    stop_reasons: dict[str, int]
    #: Errored samples by kind (``AuthenticationError``, ``SandboxError``, ...). They stay in
    #: ``n`` as not correct, and are left out of paired comparisons.
    errors_by_kind: dict[str, int] = Field(default_factory=dict)
    #: False when none of the strategy's samples could be scored (no gold answer): accuracy,
    #: its interval, per-round accuracy and flips are then not measurements (the JSON shows
    #: null for them) and the strategy is left out of comparisons.
    scored: bool = True
    #: Calls cut by the token limit, and calls whose server reported no usage (their tokens
    #: are unknown, not 0); ``None`` when the call log does not say.
    truncated_calls: int | None = None
    usage_unknown_calls: int | None = None
    feedback_kinds: list[str]
    oracle_assisted: bool
    provenance: str
    baseline_of: str | None = None
    budget_mode: str | None = None


class Comparison(BaseModel):
    """A strategy against a baseline on the samples both ran (paired by ``sample_id``).

    ``b`` counts samples the strategy got right and the baseline wrong, ``c`` the reverse;
    ``p_value`` is the exact McNemar test on them and ``p_holm`` its Holm-adjusted value within
    the family of comparisons made in one call. ``diff`` is strategy minus baseline accuracy
    (a fraction; the verdict shows points) with a paired bootstrap interval.
    ``only_in_strategy``/``only_in_baseline`` count unpaired samples: when either is non-zero
    the sample sets differ and the verdict says so.
    """

    strategy: str
    baseline: str
    budget_mode: str | None
    n_paired: int
    only_in_strategy: int
    only_in_baseline: int
    errored_excluded: int = 0
    accuracy: float
    baseline_accuracy: float
    diff: float
    diff_ci_low: float
    diff_ci_high: float
    confidence: float
    b: int
    c: int
    p_value: float
    p_holm: float
    alpha: float
    significant: bool
    oracle_assisted: bool
    verdict: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sets_differ(self) -> bool:
        """True when the two strategies did not run on the same samples."""
        return self.only_in_strategy > 0 or self.only_in_baseline > 0


class RunSummary(BaseModel):
    """The analysis of one run: what ``reflectlab run --json`` prints (the runner adds
    ``run_id``). ``baseline`` is the strategy every other one was compared with, if any."""

    strategies: list[StrategySummary]
    comparisons: list[Comparison]
    baseline: str | None
    confidence: float
    alpha: float
    oracle_assisted: bool
    #: Per model: generated tokens/s of the run's fresh calls (completion tokens / summed
    #: latency; :meth:`~reflectlab.store.Store.generation_tok_s`). Empty when not computed.
    generation_tok_s: dict[str, float] = Field(default_factory=dict)
