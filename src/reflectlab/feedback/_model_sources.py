"""Model-based feedback: the solver itself (intrinsic) or another model (critic)."""

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


class IntrinsicFeedback(FeedbackSource):
    """The solver model critiques its own response with the strategy's critique prompt."""

    kind: ClassVar[FeedbackKind] = "intrinsic"
    name = "self-critique"

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        if not request.critique_messages:
            raise ConfigError("intrinsic feedback needs critique messages")
        out = await ctx.generate(request.critique_messages, role="feedback", round=request.round)
        return Feedback(
            kind=self.kind,
            source=f"{self.name}:{ctx.model.name}",
            text=out.text,
            verdict=request.parse(out.text),
            round=request.round,
        )


class CriticFeedback(FeedbackSource):
    """A separate critic model critiques the response (dual-model reflection)."""

    kind: ClassVar[FeedbackKind] = "critic"
    name = "critic"

    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        critic = ctx.critic
        if critic is None:
            raise ConfigError("critic feedback needs a critic model (--critic-model)")
        if not request.critique_messages:
            raise ConfigError("critic feedback needs critique messages")
        out = await ctx.generate(
            request.critique_messages, role="feedback", round=request.round, model=critic
        )
        return Feedback(
            kind=self.kind,
            source=f"{self.name}:{critic.name}",
            text=out.text,
            verdict=request.parse(out.text),
            round=request.round,
        )
