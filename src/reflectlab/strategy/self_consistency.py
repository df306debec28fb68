"""``self_consistency``: sample several reasoning paths, answer by majority.

Wang et al. 2022, "Self-Consistency Improves Chain of Thought Reasoning in Language Models"
(ICLR 2023): sample n chain-of-thought paths at temperature > 0 and take the most frequent final
answer after normalisation. The paper used n up to 40 at T=0.5-0.7; the default here is 5 at
T=0.7 so it can serve as a compute-matched baseline for 3-round reflection (5 calls).
Checkpoints: round 0 is the first sample alone (what ``direct`` sampling would give), round 1
the majority.
"""

from __future__ import annotations

from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Count, Temperature
from reflectlab.strategy._primitives import Conversation, majority, sample_n
from reflectlab.strategy._registry import StrategyFn, strategy
from reflectlab.strategy.cot import COT_SUFFIX


@strategy(
    paper="Wang et al., Self-Consistency Improves Chain of Thought Reasoning in Language Models",
    year=2022,
    baseline=True,
    calls=lambda p: p["n"],
)
def self_consistency(n: Count = 5, temperature: Temperature = 0.7, cot: bool = True) -> StrategyFn:
    """Majority vote over n sampled answers (normalised by the task's extractor)."""

    async def run(ctx: StrategyContext) -> str:
        suffix = ctx.prompt("COT_SUFFIX", COT_SUFFIX) if cot else ""
        prompt = ctx.task.format_prompt(ctx.sample) + suffix
        convo = Conversation.start(ctx, prompt=prompt)
        k = n if ctx.budget.max_calls is None else max(1, min(n, ctx.budget.max_calls))
        replies = await sample_n(
            ctx, convo.messages, k, role="vote", round=0, temperature=temperature
        )
        ctx.checkpoint(replies[0], round=0, note="first sample")
        answer, votes = majority(ctx, replies)
        ctx.notes["votes"] = votes
        ctx.checkpoint(answer, round=1, note="majority")
        return answer

    return run
