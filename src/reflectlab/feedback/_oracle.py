"""Oracle feedback: the gold label decides. Marks the run oracle-assisted, always.

Reflexion's and several self-correction papers' gains came from such a signal (Huang et al.
2023 point this out); reflectlab allows it but never calls it self-correction.
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
        ctx.mark_oracle(f"gold label used as feedback in round {request.round}")
        score = await ctx.task.score(ctx.sample, request.response)
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
