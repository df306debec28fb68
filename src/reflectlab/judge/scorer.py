"""A model-graded scorer: a judge's rating, thresholded, as a task :class:`~reflectlab.task.Score`.

For tasks without a programmatic check (open-ended writing, explanations), the experiments
runner can score each checkpoint with :class:`JudgeScorer`. It implements the task package's
scorer seam, an async callable ``(sample, response) -> Score`` (``reflectlab.task`` ``Scorer``,
accepted by file tasks as ``scorer=``), and also offers the same as ``score(sample,
response)``, the signature of :meth:`reflectlab.task.Task.score`. The judge sees
``sample.input`` as the question; with ``use_target_as_reference=True`` it also sees
``sample.target`` as a reference answer (MT-Bench's reference-guided grading). That is scoring,
not a prompt of the strategy under test, so it does not make a run oracle-assisted.

``Score.correct`` is ``rating >= threshold``; ``Score.value`` is the rating rescaled to
[0, 1] (so means are comparable across scales); the raw rating, scale, threshold and the
judge's reasoning are in ``details``. An unparseable verdict scores as wrong with the parse
error as ``reason``: counted, not skipped.

Example::

    scorer = JudgeScorer(PointwiseJudge(get_model("openai/gpt-4o-mini")), threshold=7)
    score = await scorer.score(sample, response)
"""

from __future__ import annotations

from reflectlab.errors import ConfigError
from reflectlab.judge.protocols import PointwiseJudge
from reflectlab.task import Sample, Score

__all__ = ["JudgeScorer"]


class JudgeScorer:
    """Score a response with a :class:`PointwiseJudge`; correct iff rating >= ``threshold``."""

    def __init__(
        self,
        judge: PointwiseJudge,
        *,
        threshold: float,
        use_target_as_reference: bool = False,
    ) -> None:
        low, high = judge.scale
        if not low <= threshold <= high:
            raise ConfigError(f"threshold {threshold} is outside the judge's scale {low}-{high}")
        self.judge = judge
        self.threshold = threshold
        self.use_target_as_reference = use_target_as_reference

    @property
    def name(self) -> str:
        return f"judge:{self.judge.name}"

    async def __call__(self, sample: Sample, response: str) -> Score:
        """The task package's ``Scorer`` protocol."""
        return await self.score(sample, response)

    async def score(self, sample: Sample, response: str) -> Score:
        reference = None
        if self.use_target_as_reference:
            if sample.target is None:
                raise ConfigError(
                    f"sample {sample.id!r} has no target to use as the judge's reference"
                )
            reference = str(sample.target)
        judgment = await self.judge.judge(sample.input, response, reference=reference)
        low, high = judgment.scale
        details = {
            "judge": judgment.judge,
            "rating": judgment.score,
            "scale": [low, high],
            "threshold": self.threshold,
            "reference_guided": judgment.reference_guided,
            "reasoning": judgment.reasoning,
        }
        if judgment.score is None:
            return Score(
                correct=False,
                value=0.0,
                reason=f"unparseable judge verdict: {judgment.parse_error}",
                details=details,
            )
        return Score(
            correct=judgment.score >= self.threshold,
            value=(judgment.score - low) / (high - low),
            answer=None,
            details=details,
        )
