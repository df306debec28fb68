"""``retry``: resample a fresh answer whenever a failure signal says the last one is wrong.

The control that several self-correction papers omit. Huang et al. 2023 ("Large Language Models
Cannot Self-Correct Reasoning Yet", ICLR 2024) point out that much of the gain reported for
reflection with a correctness signal (e.g. Reflexion's gold-label evaluator) can come from the
signal alone: simply trying again until it says "correct". ``retry`` measures exactly that — the
same evaluator and stop rule as ``reflexion`` and ``self_refine``, but the next attempt is a
fresh sample of the *same* prompt: no critique text, no reflection, no memory.

Procedure: attempt 0 (role "draft", round 0); then, for k = 1..max_rounds, the evaluator of the
chosen feedback kind judges the last attempt (round k); unless it says "correct", a new attempt
is sampled (role "draft", round k) and checkpointed. Evaluators: ``tool`` = the task's
label-free check; ``oracle`` = the gold label (marks the run oracle-assisted); ``intrinsic`` =
the solver's own yes/no verification with :data:`VERIFY_PROMPT`; ``critic`` = the same question
put to the critic model. An unparseable verification is an "unknown" verdict (counted in
``ctx.notes["unknown_verdicts"]``), which, like "incorrect", leads to another attempt: only a
positive verdict stops, as in the reflection strategies this controls for. Every attempt is
sampled at ``temperature`` (> 0) so attempts differ; each is a distinct, cacheable call.

Exact control for ``reflexion``: with the same ``feedback`` and ``temperature`` (0.7 by default
in both), attempt 0 is the very request of reflexion's first trial (:func:`sample_attempt`: the
task prompt alone, role "draft", the same temperature), so the cache serves both the same
draft, and the evaluator is the same (:func:`verify_answer`). What differs is only what comes
after a failure: a fresh sample here, a reflection-guided trial there.
"""

from __future__ import annotations

import re

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback, FeedbackKind, Verdict
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Rounds, Temperature
from reflectlab.strategy._primitives import Conversation, critique, evaluate_and_revise
from reflectlab.strategy._registry import StrategyFn, strategy

# A plain yes/no self-verification (the "is the answer correct?" check that Huang et al. 2023
# and Reflexion-style evaluators rely on), shared with ``reflexion`` so both use one evaluator.
VERIFY_PROMPT = (
    "Check the answer above carefully, step by step, against the task. Is it correct? "
    "End with a final line that is exactly 'Correct: yes' or 'Correct: no'."
)
CRITIC_VERIFY_PROMPT = (
    "Here is a task and a proposed answer.\n\nTask:\n{question}\n\nProposed answer:\n{response}"
    "\n\nCheck the answer carefully, step by step, against the task. Is it correct? End with a "
    "final line that is exactly 'Correct: yes' or 'Correct: no'."
)
_YES_NO_RE = re.compile(r"\bcorrect[ \t*_]*:[ \t*_]*(yes|no)\b", re.I)


def parse_yes_no(text: str) -> Verdict:
    """The verdict of the last ``Correct: yes|no`` line; "unknown" when there is none."""
    found = _YES_NO_RE.findall(text)
    if not found:
        return "unknown"
    return "correct" if found[-1].lower() == "yes" else "incorrect"


async def sample_attempt(ctx: StrategyContext, *, temperature: float, round: int) -> str:
    """One attempt at the task prompt alone (role "draft") at ``temperature``: retry's every
    attempt and reflexion's first trial, the same request so the cache shares it."""
    out = await ctx.generate(
        Conversation.start(ctx).messages, role="draft", round=round, temperature=temperature
    )
    return out.text


async def verify_answer(
    ctx: StrategyContext, kind: FeedbackKind, response: str, *, round: int
) -> Feedback:
    """The evaluator shared by ``retry`` and ``reflexion``: feedback of ``kind`` on
    ``response`` as an answer to the task prompt, in a clean conversation (the evaluator sees
    the task and the answer, not the attempt's own prompt history)."""
    convo = Conversation.start(ctx).assistant(response)
    return await critique(
        ctx,
        kind,
        convo,
        response,
        round=round,
        self_prompt=ctx.prompt("VERIFY_PROMPT", VERIFY_PROMPT),
        critic_prompt=ctx.prompt("CRITIC_VERIFY_PROMPT", CRITIC_VERIFY_PROMPT),
        parse=parse_yes_no,
    )


@strategy(
    paper="(baseline) resample on a failure signal; the control in Huang et al., Large Language "
    "Models Cannot Self-Correct Reasoning Yet",
    year=2023,
    feedback=("intrinsic", "critic", "tool", "oracle"),
    baseline=True,
    calls=lambda p: 1 + 2 * p["max_rounds"],  # attempt, then verdict and retry a round
)
def retry(
    max_rounds: Rounds = 3, feedback: FeedbackKind = "intrinsic", temperature: Temperature = 0.7
) -> StrategyFn:
    """Try again with the same prompt while the evaluator does not say the answer is correct."""
    if temperature <= 0:
        raise ConfigError("retry resamples: temperature must be > 0 or every attempt is the same")

    async def run(ctx: StrategyContext) -> str:
        async def attempt(k: int) -> str:
            return await sample_attempt(ctx, temperature=temperature, round=k)

        async def evaluate(response: str, k: int) -> Feedback:
            return await verify_answer(ctx, feedback, response, round=k)

        async def resample(response: str, fb: Feedback, k: int) -> str:
            return await attempt(k)

        first = await attempt(0)
        ctx.checkpoint(first, round=0)
        return await evaluate_and_revise(
            ctx, first, max_rounds=max_rounds, evaluate=evaluate, revise=resample
        )

    return run
