"""``cot``: zero-shot chain of thought.

Kojima et al. 2022, "Large Language Models are Zero-Shot Reasoners" (NeurIPS): appending
"Let's think step by step." elicits reasoning before the answer. Deviation: the paper's second
"answer extraction" call is not made; the task's own answer-format instruction (already in the
prompt) and extractor take its place, so cot costs one call like ``direct``.
"""

from __future__ import annotations

from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, ask
from reflectlab.strategy._registry import StrategyFn, strategy

COT_SUFFIX = "\n\nLet's think step by step."


@strategy(
    paper="Kojima et al., Large Language Models are Zero-Shot Reasoners", year=2022, baseline=True
)
def cot(suffix: str = COT_SUFFIX) -> StrategyFn:
    """Zero-shot chain of thought: the task prompt plus "Let's think step by step."."""

    async def run(ctx: StrategyContext) -> str:
        # A suffix given as the parameter wins; the default one can be overridden as a template.
        text = ctx.prompt("COT_SUFFIX", COT_SUFFIX) if suffix == COT_SUFFIX else suffix
        convo = Conversation.start(ctx, prompt=ctx.task.format_prompt(ctx.sample) + text)
        reply = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(reply, round=0)
        return reply

    return run
