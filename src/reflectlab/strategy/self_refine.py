"""``self_refine``: iterative refinement with self-feedback.

Madaan et al. 2023, "Self-Refine: Iterative Refinement with Self-Feedback" (NeurIPS). Procedure:
the model drafts y0; then, each iteration, the same model gives feedback on its current output
(actionable, specific) and refines given the feedback and its previous outputs; it stops when
the feedback says the output needs no change (the paper's stop indicator) or after a maximum
number of iterations (4 in the paper; default 3 here, the task issue's workload).

Prompt roles follow the paper (generate / feedback / refine) and the refiner sees the whole
history of earlier answers and feedback, kept as one growing conversation so the prefix is
reused. Deviations: the paper's prompts are task-specific few-shot demonstrations; these are
zero-shot and task-agnostic (the task supplies the answer format). ``feedback`` may be
``critic`` (another model's feedback: then this is dual-model refinement), ``tool`` (the task's
check) or ``oracle`` (gold label; the run is marked oracle-assisted).
"""

from __future__ import annotations

from reflectlab.feedback import FeedbackKind
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Rounds
from reflectlab.strategy._primitives import Conversation, ask, critique_and_refine
from reflectlab.strategy._registry import StrategyFn, strategy

FEEDBACK_PROMPT = (
    "Review your answer above. Give specific, actionable feedback: check each step for "
    "mistakes and say exactly what is wrong and how to fix it. If the answer is fully correct "
    "and needs no change, say so and end with [[CORRECT]]; otherwise end with [[INCORRECT]]."
)
CRITIC_PROMPT = (
    "Here is a task and a proposed answer.\n\nTask:\n{question}\n\nProposed answer:\n{response}"
    "\n\nGive specific, actionable feedback: check each step for mistakes and say exactly what "
    "is wrong and how to fix it. If the answer is fully correct, say so and end with "
    "[[CORRECT]]; otherwise end with [[INCORRECT]]."
)
REFINE_PROMPT = (
    "Feedback:\n{feedback}\n\nUsing this feedback, write an improved answer to the original "
    "task. Give the complete answer in the format the task asks for."
)


@strategy(
    paper="Madaan et al., Self-Refine: Iterative Refinement with Self-Feedback",
    year=2023,
    feedback=("intrinsic", "critic", "tool", "oracle"),
)
def self_refine(
    max_rounds: Rounds = 3, feedback: FeedbackKind = "intrinsic", stop_on_correct: bool = True
) -> StrategyFn:
    """Draft, then feedback -> refine until the feedback says stop or max_rounds."""

    async def run(ctx: StrategyContext) -> str:
        convo = Conversation.start(ctx)
        draft = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(draft, round=0)
        return await critique_and_refine(
            ctx,
            convo,
            draft,
            kind=feedback,
            max_rounds=max_rounds,
            self_prompt=ctx.prompt("FEEDBACK_PROMPT", FEEDBACK_PROMPT),
            critic_prompt=ctx.prompt("CRITIC_PROMPT", CRITIC_PROMPT),
            refine_prompt=ctx.prompt("REFINE_PROMPT", REFINE_PROMPT),
            stop_on_correct=stop_on_correct,
        )

    return run
