"""``self_correct``: intrinsic self-correction exactly as Huang et al. 2023 tested it.

Huang et al. 2023, "Large Language Models Cannot Self-Correct Reasoning Yet" (ICLR 2024,
arXiv:2310.01798). Procedure (their Section 3, prompts in their Appendix): the model answers
(role "draft", round 0); then each round k it is asked, in the same conversation, to
"Review your previous answer and find problems with your answer." (role "feedback") and then
"Based on the problems you found, improve your answer. Please reiterate your answer, ..."
(role "refine", checkpointed as round k). Two rounds (``rounds=2``, as in their tables), and
**no stop rule**: in their intrinsic setting every round is run whatever the review says,
so a correct answer can be talked out of (right -> wrong flips are the point of measuring).

``stop="oracle"`` is their *oracle* setting (after Kim et al. 2023 and Shinn et al. 2023, whose
gains they attribute to it): before each round the gold label is asked whether the current
answer is already correct, and the loop stops if it is. It goes through the "oracle" feedback
kind, so the run is marked ORACLE-ASSISTED; only the verdict is used, no gold text reaches a
prompt. It is an upper bound, never self-correction.

The parameter is ``rounds``, not ``max_rounds``: every round runs (there is no early stop in
the intrinsic setting), and the paper's 2 must not be replaced by the runner's ``--max-rounds``
default (3); ``--max-rounds`` still caps it (the budget's ``max_rounds``).

Deviations: the first prompt is the task's own prompt (their GSM8K one was "Can you solve the
following math problem? ... Explain your reasoning. Your final answer should be a single
numerical number, in the form \\boxed{answer}, at the end of your response."), so this
strategy starts from the same draft as the baselines; in the improve prompt, their
task-specific answer format (", with your final answer a single numerical number, in the form
\\boxed{answer}.") is replaced by the task's own answer-format instruction, as a sentence (see
:func:`~reflectlab.strategy._primitives.answer_format`). Sampling settings are the run's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import (
    Conversation,
    answer_format,
    ask,
    critique_and_refine,
    oracle_stop,
)
from reflectlab.strategy._registry import StrategyFn, strategy

# Huang et al. 2023, Appendix (the critique prompt, from Kim et al. 2023's RCI), verbatim.
REVIEW_PROMPT = "Review your previous answer and find problems with your answer."
# Huang et al. 2023, Appendix, verbatim up to the answer format, which is the task's.
IMPROVE_PROMPT = (
    "Based on the problems you found, improve your answer. Please reiterate your answer. {format}"
)

Stop = Literal["none", "oracle"]


def improve_prompt(ctx: StrategyContext) -> str:
    """:data:`IMPROVE_PROMPT` with the task's answer format (braces escaped for ``format``)."""
    text = ctx.prompt("IMPROVE_PROMPT", IMPROVE_PROMPT).format(format=answer_format(ctx))
    return text.replace("{", "{{").replace("}", "}}")


@strategy(
    paper="Huang et al., Large Language Models Cannot Self-Correct Reasoning Yet",
    year=2023,
    feedback=("intrinsic", "oracle"),
)
def self_correct(rounds: Annotated[int, Field(ge=1, le=10)] = 2, stop: Stop = "none") -> StrategyFn:
    """Answer, then "review your previous answer" -> "improve your answer", every round."""

    async def run(ctx: StrategyContext) -> str:
        review = ctx.prompt("REVIEW_PROMPT", REVIEW_PROMPT)
        convo = Conversation.start(ctx)
        draft = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(draft, round=0)
        return await critique_and_refine(
            ctx,
            convo,
            draft,
            kind="intrinsic",
            max_rounds=rounds,
            self_prompt=review,
            critic_prompt=review,
            refine_prompt=improve_prompt(ctx),
            stop_on_correct=False,
            stop_rule=oracle_stop(ctx) if stop == "oracle" else None,
        )

    return run
