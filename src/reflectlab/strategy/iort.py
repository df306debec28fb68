"""``iort``: Instruct-of-Reflection — an instructor decides to refresh, stop or select.

Liu et al. 2025, "Instruct-of-Reflection: Enhancing Large Language Models Iterative Reflection
Capabilities via Dynamic-Meta Instruction" (NAACL 2025, arXiv:2503.00902). The paper finds
static reflection loops redundant (they keep reflecting on a settled answer), drifting (they
talk a right answer into a wrong one) and stubborn (they never change a wrong one), and puts
an *instructor* in charge of each iteration. Procedure:

1. The model answers (role "draft", round 0).
2. A **meta-thinker** writes meta-thoughts for the problem — the high-level strategy, the key
   concepts and the typical pitfalls, without solving it (role "plan", once).
3. Each round k: the model **reflects** on its current answer and gives a reflected answer
   (role "refine"). A **self-consistency check** compares the two answers (after the task's
   extraction, label-free). If they agree the instructor's instruction is **stop**: the
   answer is settled (round k is the reflected answer). Otherwise the **instructor** (role
   "judge"), reading the meta-thoughts and both answers, instructs either **select** — one of
   the two answers is the better one; it becomes round k and the loop stops — or **refresh**
   — with a written instruction, after which the model answers afresh following the
   instruction and the meta-thoughts (role "refresh", checkpointed as round k) and the next
   round reflects on that answer. Up to ``max_rounds`` rounds.

Parsing: the instructor must end with ``[[SELECT 1]]``, ``[[SELECT 2]]`` or ``[[REFRESH]]``;
anything else is counted (``ctx.notes["unparsed_instructions"]``) and treated as refresh with
no instruction — it never selects an answer on a guess. ``ctx.notes["instructions"]`` lists
the instruction of each round. All signals are the model's own: feedback kind "intrinsic".

Deviations: the paper's meta-thinker draws on a meta-memory of past meta-thoughts (retrieved
demonstrations) and its instructor is prompted with its own templates; we did not find the
prompts (the authors' repository github.com/llp635/IoRT was not available to us), so all
prompts here are ours, written from the paper's description, and there is no meta-memory.
Its consistency classifier is implemented as an answer comparison.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from reflectlab.feedback import Feedback
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import (
    Conversation,
    answer_format,
    ask,
    record_feedback,
    same_answer,
    tally,
)
from reflectlab.strategy._registry import StrategyFn, strategy

Instruction = Literal["stop", "select", "refresh"]

# Ours, after the paper's meta-thinker (Sec. 3): high-level guidance, not a solution.
META_PROMPT = (
    "Task:\n{question}\n\nDo not solve the task. Write meta-thoughts for it: the high-level "
    "strategy to solve this kind of problem, the key concepts or formulas involved, and the "
    "typical mistakes to avoid. Be brief."
)
# Ours, after the paper's basic reflection step.
REFLECT_PROMPT = (
    "Reflect on your answer above: check each step against the task and look for mistakes. "
    "Then give your answer again — corrected if you found a mistake, unchanged if not. {format}"
)
# Ours, after the paper's instructor (Sec. 3): refresh / select from meta-thoughts.
INSTRUCTOR_PROMPT = (
    "You are instructing a problem solver whose answer changed when it reflected on it.\n\n"
    "Task:\n{question}\n\nMeta-thoughts about the task:\n{meta}\n\nAnswer 1 (before "
    "reflection):\n{first}\n\nAnswer 2 (after reflection):\n{second}\n\nUsing the "
    "meta-thoughts, judge the two answers. If one of them is clearly correct, select it. If "
    "neither is convincing, write a short instruction for solving the task afresh (what to do "
    "differently). End with exactly one of: [[SELECT 1]], [[SELECT 2]] or [[REFRESH]]."
)
# Ours: the refreshed attempt follows the instructor's instruction and the meta-thoughts.
REFRESH_PROMPT = (
    "{question}\n\nMeta-thoughts about this task:\n{meta}\n\nInstruction for this attempt:\n"
    "{instruction}"
)

_DECISION = re.compile(r"\[\[\s*(SELECT\s*([12])|REFRESH)\s*\]\]", re.I)


def parse_instruction(text: str) -> tuple[Literal["select", "refresh"], int] | None:
    """The instructor's last decision: ``("select", 1|2)`` or ``("refresh", 0)``; ``None``
    when there is none."""
    found = _DECISION.findall(text)
    if not found:
        return None
    _, which = found[-1]
    return ("select", int(which)) if which else ("refresh", 0)


def instruction_text(text: str) -> str:
    """The instructor's reply without its decision marker (the refresh instruction)."""
    return _DECISION.sub("", text).strip()


@strategy(
    paper="Liu et al., Instruct-of-Reflection: Enhancing Large Language Models Iterative "
    "Reflection Capabilities via Dynamic-Meta Instruction",
    year=2025,
    feedback=("intrinsic",),
)
def iort(max_rounds: Annotated[int, Field(ge=1, le=10)] = 3) -> StrategyFn:
    """Reflect; stop when answers agree, else an instructor selects one or orders a refresh."""

    async def run(ctx: StrategyContext) -> str:
        tpl = ctx.prompt
        reflect_prompt = tpl("REFLECT_PROMPT", REFLECT_PROMPT)
        instructor_prompt = tpl("INSTRUCTOR_PROMPT", INSTRUCTOR_PROMPT)
        refresh_prompt = tpl("REFRESH_PROMPT", REFRESH_PROMPT)
        question = ctx.task.format_prompt(ctx.sample)
        convo = Conversation.start(ctx, prompt=question)
        current = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(current, round=0)
        rounds = min(max_rounds, ctx.budget.max_rounds)
        meta_out = await ctx.generate(
            [
                ChatMessage(
                    role="user", content=tpl("META_PROMPT", META_PROMPT).format(question=question)
                )
            ],
            role="plan",
            round=0,
        )
        meta = meta_out.text.strip()
        ctx.notes["meta_thoughts"] = meta
        instructions: list[Instruction] = []
        ctx.notes["instructions"] = instructions
        for k in range(1, rounds + 1):
            convo.user(reflect_prompt.format(format=answer_format(ctx)))
            reflected = await ask(ctx, convo, role="refine", round=k)
            if same_answer(ctx, current, reflected):
                instructions.append("stop")
                ctx.checkpoint(reflected, round=k, note="stop: reflection kept the answer")
                ctx.notes["stop_reason"] = f"instruction stop in round {k}: answers agree"
                return reflected
            text = instructor_prompt.format(
                question=question, meta=meta, first=current, second=reflected
            )
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)], role="judge", round=k
            )
            decision = parse_instruction(out.text)
            record_feedback(
                ctx,
                Feedback(
                    kind="intrinsic",
                    source="instructor",
                    text=out.text,
                    round=k,
                    details={"decision": decision},
                ),
            )
            if decision is not None and decision[0] == "select":
                instructions.append("select")
                chosen = current if decision[1] == 1 else reflected
                ctx.checkpoint(chosen, round=k, note=f"select: answer {decision[1]}")
                ctx.notes["stop_reason"] = f"instruction select in round {k}"
                return chosen
            if decision is None:
                tally(ctx, "unparsed_instructions")
            instructions.append("refresh")
            guidance = instruction_text(out.text) if decision is not None else ""
            prompt = refresh_prompt.format(
                question=question, meta=meta, instruction=guidance or "(none given)"
            )
            convo = Conversation.start(ctx, prompt=prompt)
            current = await ask(ctx, convo, role="refresh", round=k)
            ctx.checkpoint(current, round=k, note="refresh")
        ctx.notes["stop_reason"] = f"max_rounds={rounds}"
        return current

    return run
