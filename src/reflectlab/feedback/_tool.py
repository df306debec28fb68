"""Tool feedback: label-free external signals.

:class:`TaskCheckFeedback` asks the task's own label-free check (the examples of a HumanEval
docstring, the visible tests of the ``code`` task) and hands its text — the failing example and
its error — to the refiner. It receives only target-free views of the task and the sample, so no
gold label can be involved. A task whose only check reads gold information (IFEval's instruction
checker, the ``constraints`` checker: both are the scorer) has no label-free check: asking for
tool feedback there is refused, and the same check is available as ``feedback=oracle``.
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


def no_label_free_check(task_name: str) -> str:
    """The error for tool feedback on a task without a label-free check."""
    return (
        f"task {task_name!r} has no label-free check, so it cannot give tool feedback; "
        "a check that reads the gold label is an oracle: use feedback=oracle (the run is then "
        "labelled ORACLE-ASSISTED), or a strategy that runs model-written code (critic, progco)"
    )


class TaskCheckFeedback(FeedbackSource):
    kind: ClassVar[FeedbackKind] = "tool"
    name = "task-check"

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        result = await ctx.task.check(ctx.sample, request.response)
        if result is None:
            raise ConfigError(no_label_free_check(ctx.task.name))
        return Feedback(
            kind=self.kind,
            source=f"{self.name}:{ctx.task.name}",
            text=result.feedback,
            verdict="correct" if result.passed else "incorrect",
            round=request.round,
            details=result.details,
        )
