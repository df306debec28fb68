"""``decrim``: Decompose the instruction into constraints, Critique each, Refine the failures.

Ferraz, Mehta, Lin, Chang, Oraby, Liu, Subramanian, Chung, Bansal & Peng 2024, "LLM
Self-Correction with DeCRIM: Decompose, Critique, and Refine for Enhanced Following of
Instructions with Multiple Constraints" (Findings of EMNLP 2024; arXiv:2410.06458).
Procedure: the model answers the instruction (round 0); a Decomposer turns the instruction
into a list of granular constraints; a Critic judges whether the response satisfies each
constraint; if all are met the response is final, otherwise the model refines it given the
Critic's feedback on the unmet constraints; Critique -> Refine repeats until every constraint
is met or ``max_rounds``.

Who the Critic is (``feedback``):

- ``intrinsic`` (the paper's "weak feedback": the same LLM) or ``critic`` (``ctx.critic``, a
  separate model): one call per constraint (role ``feedback``), run concurrently, each ending
  with ``[[YES]]``/``[[NO]]``. A verdict that cannot be read counts as *not met* (it never
  ends the loop) and is counted in ``notes["critique_parse_failures"]``.
- ``tool``: the task's own label-free check (``task.check``: programmatic constraint checks,
  e.g. IFEval's verifiers) critiques the whole response in one step and names what failed.
  The Decomposer is not called: the check already embodies the decomposition.
- ``oracle``: the gold label decides (the run is marked oracle-assisted); no Decomposer.

With ``tool`` and ``oracle`` the loop is the shared :func:`critique_and_refine`; with
``intrinsic``/``critic`` the per-constraint critique is the evaluator of the shared
:func:`evaluate_and_revise` loop (it stops when every constraint is met: "feedback said
correct in round k"). ``notes["unmet_by_round"]`` lists how many constraints failed per round.

Calls (intrinsic/critic): 1 draft + 1 decompose + per round (c critiques + 1 refine), c being
the number of constraints (at most ``max_constraints``). Checkpoints: round 0 the draft, round
k the k-th refinement.

The Decomposer is the solver model (role ``decompose``); its list is parsed as a numbered or
bulleted list or a JSON array. If nothing can be parsed the whole instruction is treated as
one constraint, counted in ``notes["decompose_parse_failures"]``. Deviations: zero-shot
prompts written after the paper's description (its prompts are few-shot); the instruction is
the task's formatted prompt, so the task's answer-format requirement is a constraint too.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from reflectlab.errors import ConfigError
from reflectlab.feedback import (
    FEEDBACK_KINDS,
    Feedback,
    FeedbackKind,
    FeedbackRequest,
    Verdict,
)
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import gather_calls
from reflectlab.strategy._params import Count, Rounds
from reflectlab.strategy._parsing import parse_list
from reflectlab.strategy._primitives import (
    Conversation,
    ask,
    critique_and_refine,
    evaluate_and_revise,
    tally,
)
from reflectlab.strategy._registry import StrategyFn, strategy

# Prompts after Ferraz et al. 2024 (DeCRIM), Section 5: Decomposer, Critic, Refiner.
DECOMPOSE_PROMPT = (
    "Break the instruction below into the individual constraints a response must satisfy: "
    "what it must contain or do, and every requirement on format, length, style, tone or "
    "wording. Write each constraint as one self-contained sentence.\n"
    "Output a numbered list, one constraint per line, and nothing else.\n\n"
    "Instruction:\n{instruction}"
)
CRITIQUE_PROMPT = (
    "Instruction:\n{instruction}\n\nResponse:\n{response}\n\nConstraint:\n{constraint}\n\n"
    "Does the response satisfy this constraint? Judge only this constraint. Explain briefly; "
    "if it is not satisfied, say exactly what is wrong and how to fix it.\n"
    "End with [[YES]] if the constraint is satisfied, otherwise [[NO]]."
)
REFINE_PROMPT = (
    "Your response does not yet satisfy every constraint of the instruction. Feedback on the "
    "unmet constraints:\n\n{feedback}\n\nRewrite your response so that it satisfies all the "
    "constraints of the original instruction, keeping what already works. Reply with the new "
    "response only."
)
FAILED_CONSTRAINT = "- Constraint: {constraint}\n  Feedback: {critique}"

_MARK = re.compile(r"\[\[\s*(yes|no)\s*\]\]", re.I)


def parse_constraint_verdict(text: str) -> Verdict:
    """``[[YES]]`` -> correct, ``[[NO]]`` -> incorrect (the last marker wins), else unknown."""
    marks = _MARK.findall(text)
    if not marks:
        return "unknown"
    return "correct" if marks[-1].lower() == "yes" else "incorrect"


@strategy(
    paper=(
        "Ferraz et al., LLM Self-Correction with DeCRIM: Decompose, Critique, and Refine for "
        "Enhanced Following of Instructions with Multiple Constraints"
    ),
    year=2024,
    feedback=("intrinsic", "critic", "tool", "oracle"),
    calls=lambda p: 2 + 2 * p["max_rounds"],
)
def decrim(
    max_rounds: Rounds = 3, feedback: FeedbackKind = "intrinsic", max_constraints: Count = 10
) -> StrategyFn:
    """Draft, decompose the instruction into constraints, critique each, refine the unmet."""
    if max_constraints < 1:
        raise ConfigError(f"decrim needs max_constraints >= 1, got {max_constraints}")
    if feedback not in FEEDBACK_KINDS:
        raise ConfigError(f"decrim feedback must be one of {FEEDBACK_KINDS}, not {feedback!r}")

    async def run(ctx: StrategyContext) -> str:
        if feedback == "critic" and ctx.critic is None:
            raise ConfigError("decrim(feedback='critic') needs a critic model (--critic-model)")
        refine_prompt = ctx.prompt("REFINE_PROMPT", REFINE_PROMPT)
        failed = ctx.prompt("FAILED_CONSTRAINT", FAILED_CONSTRAINT)
        instruction = ctx.task.format_prompt(ctx.sample)
        convo = Conversation.start(ctx, prompt=instruction)
        response = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(response, round=0)
        if feedback in ("tool", "oracle"):
            return await critique_and_refine(
                ctx,
                convo,
                response,
                kind=feedback,
                max_rounds=max_rounds,
                self_prompt="",  # unused: tool and oracle sources ignore prompts
                critic_prompt="",
                refine_prompt=refine_prompt,
            )
        if min(max_rounds, ctx.budget.max_rounds) == 0:
            ctx.notes["stop_reason"] = "budget: max_rounds=0"
            return response
        constraints = await _decompose(ctx, instruction, max_constraints)
        ctx.notes["unmet_by_round"] = []

        async def evaluate(current: str, k: int) -> Feedback:
            verdicts = await _critique(ctx, feedback, instruction, current, constraints, k)
            unmet = [
                failed.format(constraint=c, critique=fb.text.strip())
                for c, fb in zip(constraints, verdicts, strict=True)
                if fb.verdict != "correct"
            ]
            ctx.notes["unmet_by_round"].append(len(unmet))
            return Feedback(
                kind=feedback,
                source="decrim-critic",
                text="\n".join(unmet),
                verdict="incorrect" if unmet else "correct",
                round=k,
                details={"unmet": len(unmet), "constraints": len(constraints)},
            )

        async def revise(_current: str, fb: Feedback, k: int) -> str:
            convo.user(refine_prompt.format(feedback=fb.text))
            return await ask(ctx, convo, role="refine", round=k)

        return await evaluate_and_revise(
            ctx, response, max_rounds=max_rounds, evaluate=evaluate, revise=revise
        )

    return run


async def _decompose(ctx: StrategyContext, instruction: str, limit: int) -> list[str]:
    template = ctx.prompt("DECOMPOSE_PROMPT", DECOMPOSE_PROMPT)
    convo = Conversation.start(ctx, prompt=template.format(instruction=instruction))
    reply = await ask(ctx, convo, role="decompose", round=0)
    constraints = parse_list(reply)
    if not constraints:
        tally(ctx, "decompose_parse_failures")
        constraints = [instruction]
    elif len(constraints) > limit:
        ctx.notes["constraints_truncated"] = len(constraints) - limit
        constraints = constraints[:limit]
    ctx.notes["constraints"] = constraints
    return constraints


async def _critique(
    ctx: StrategyContext,
    kind: FeedbackKind,
    instruction: str,
    response: str,
    constraints: list[str],
    round: int,
) -> list[Feedback]:
    """One Critic call per constraint, concurrently (all-or-nothing against the budget)."""
    template = ctx.prompt("CRITIQUE_PROMPT", CRITIQUE_PROMPT)

    def call(constraint: str) -> Callable[[], Awaitable[Feedback]]:
        prompt = template.format(instruction=instruction, response=response, constraint=constraint)
        request = FeedbackRequest(
            response=response,
            round=round,
            critique_messages=[ChatMessage(role="user", content=prompt)],
            parse=parse_constraint_verdict,
        )
        return lambda: ctx.get_feedback(kind, request)

    verdicts = await gather_calls(ctx, [call(c) for c in constraints], "constraint critique")
    failures = sum(fb.verdict == "unknown" for fb in verdicts)
    if failures:
        tally(ctx, "critique_parse_failures", failures)
    return verdicts
