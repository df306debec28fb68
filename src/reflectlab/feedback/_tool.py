"""Tool feedback: label-free external signals.

:class:`TaskCheckFeedback` asks the task's own check (visible unit tests for code tasks,
programmatic constraint checks for instruction following) and hands its text — the failing test
and its error, the unmet constraint — to the refiner. No gold label is involved.
"""

from __future__ import annotations

from typing import ClassVar

from reflectlab.errors import ConfigError
from reflectlab.feedback._base import (
    Feedback,
    FeedbackContext,
    FeedbackKind,
    FeedbackRequest,
    FeedbackSource,
)


class TaskCheckFeedback(FeedbackSource):
    kind: ClassVar[FeedbackKind] = "tool"
    name = "task-check"

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        result = await ctx.task.check(ctx.sample, request.response)
        if result is None:
            raise ConfigError(
                f"task {ctx.task.name!r} has no label-free check for tool feedback; "
                "use a strategy that runs code (critic, progco) or another feedback kind"
            )
        return Feedback(
            kind=self.kind,
            source=f"{self.name}:{ctx.task.name}",
            text=result.feedback,
            verdict="correct" if result.passed else "incorrect",
            round=request.round,
            details=result.details,
        )
