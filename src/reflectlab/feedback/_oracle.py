"""Oracle feedback: the gold label decides. Marks the run oracle-assisted, always.

Reflexion's and several self-correction papers' gains came from such a signal (Huang et al.
2023 point this out); reflectlab allows it but never calls it self-correction. The source asks
the context's oracle channel (:meth:`FeedbackContext.use_oracle`), the only path to the gold
label, which records the reason before it answers. Where the task has a gold check that says
more than right/wrong (IFEval's unmet instructions), its text is the feedback; otherwise the
feedback is the verdict alone.
"""

from __future__ import annotations

from typing import ClassVar

from reflectlab.feedback._base import (
    Feedback,
    FeedbackContext,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSource,
)


class OracleFeedback(FeedbackSource):
    kind: ClassVar[FeedbackKind] = "oracle"
    name = "gold-label"

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        oracle = ctx.use_oracle(f"gold label used as feedback in round {request.round}")
        check = await oracle.check(request.response)
        if check is not None:
            return Feedback(
                kind=self.kind,
                source=f"{self.name}:{ctx.task.name}",
                text=check.feedback,
                verdict="correct" if check.passed else "incorrect",
                round=request.round,
                details={**check.details, "gold_check": oracle.gold_check},
            )
        score = await oracle.score(request.response)
        text = (
            "Your answer is correct."
            if score.correct
            else "Your answer is incorrect. Find the mistake and solve the problem again."
        )
        return Feedback(
            kind=self.kind,
            source=self.name,
            text=text,
            verdict="correct" if score.correct else "incorrect",
            round=request.round,
            details={"reason": score.reason},
        )
