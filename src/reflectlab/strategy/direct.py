"""``direct``: one answer, no reflection. The floor every strategy is compared with."""

from __future__ import annotations

from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, ask
from reflectlab.strategy._registry import StrategyFn, strategy


@strategy(paper="(baseline) a single answer to the task prompt", year=None, baseline=True)
def direct() -> StrategyFn:
    """Ask once with the task's prompt; the reply is the answer."""

    async def run(ctx: StrategyContext) -> str:
        reply = await ask(ctx, Conversation.start(ctx), role="draft", round=0)
        ctx.checkpoint(reply, round=0)
        return reply

    return run
