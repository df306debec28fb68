"""``multiplex_cot``: a first chain of thought, then a second that critiques it and answers.

Ji et al. 2025, "MyGO Multiplex CoT: A Method for Self-Reflection in Large Language Models via
Double Chain of Thought Thinking" (arXiv:2501.13117). Procedure (their Section 3): (1) the model
reasons about the problem step by step — the first chain of thought (role "draft",
checkpointed as round 0); (2) in a second chain of thought it reviews the first one, critiques
each step for errors, inconsistencies and gaps, and gives a refined reasoning and the final
answer (role "refine", round 1). Exactly two chains, by prompting alone, no training and no
stop rule: the second chain always runs.

Deviations: the paper gives its method as prose and a notebook outline, not as verbatim
prompts; we did not find its exact prompt wording, so :data:`FIRST_PROMPT` and
:data:`SECOND_PROMPT` are our paraphrases of its two stages. The second chain continues the
first one's conversation (the paper feeds the first chain back to the model; the content is
the same and the prefix is reused). The task's answer-format instruction is repeated at the
end of the second chain so its answer can be extracted.
"""

from __future__ import annotations

from reflectlab.feedback import Feedback
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, answer_format, ask, record_feedback
from reflectlab.strategy._registry import StrategyFn, strategy

# Paraphrase of Ji et al. 2025, Sec. 3 ("initial chain of thought"): not their wording.
FIRST_PROMPT = "{task}\n\nThink step by step: write out your chain of thought, then your answer."
# Paraphrase of Ji et al. 2025, Sec. 3 ("review and refinement", the second chain of thought).
SECOND_PROMPT = (
    "Now start a second chain of thought about your first one. Review each step of your "
    "reasoning above: check it for logical errors, inconsistencies, wrong calculations and "
    "missing steps, and say what you find. Then give your refined reasoning and the final "
    "answer. {format}"
)


@strategy(
    paper="Ji et al., MyGO Multiplex CoT: A Method for Self-Reflection in Large Language Models "
    "via Double Chain of Thought Thinking",
    year=2025,
    feedback=("intrinsic",),
)
def multiplex_cot() -> StrategyFn:
    """Two chains of thought: the second critiques the first and gives the final answer."""

    async def run(ctx: StrategyContext) -> str:
        task = ctx.task.format_prompt(ctx.sample)
        first_prompt = ctx.prompt("FIRST_PROMPT", FIRST_PROMPT)
        convo = Conversation.start(ctx, prompt=first_prompt.format(task=task))
        first = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(first, round=0)
        if ctx.budget.max_rounds < 1:
            ctx.notes["stop_reason"] = "max_rounds=0: no second chain"
            return first
        convo.user(ctx.prompt("SECOND_PROMPT", SECOND_PROMPT).format(format=answer_format(ctx)))
        second = await ask(ctx, convo, role="refine", round=1)
        # The second chain is the model's own critique (and answer): intrinsic feedback.
        record_feedback(
            ctx, Feedback(kind="intrinsic", source="second-chain", text=second, round=1)
        )
        ctx.checkpoint(second, round=1)
        return second

    return run
