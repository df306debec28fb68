"""``iort``: Instruct-of-Reflection — an instructor selects, stops or refreshes each iteration.

Liu et al. 2025, "Instruct-of-Reflection: Enhancing Large Language Models Iterative Reflection
Capabilities via Dynamic-Meta Instruction" (NAACL 2025, arXiv:2503.00902). The paper finds
static reflection loops redundant (they keep reflecting on a settled answer), drifting (they
talk a right answer into a wrong one) and stubborn (they never change a wrong one), and puts
an *instructor* in charge of each iteration. Procedure (their Section 4 and Figure 4):

1. A **meta-thinker** writes a meta-thought for the question — the high-level principle or
   strategy it needs, not a solution (role "plan", round 0).
2. The model answers: the basic response (role "draft", checkpointed as round 0).
3. Each iteration k (up to ``max_rounds``, the paper's N = 4): the **reflector** gives
   feedback on the basic response (role "feedback") and then a reflective response (role
   "refine"). A **self-consistency classifier** (no model call) compares the two extracted
   answers:

   - they differ: the instructor (role "judge"), reading the question, the meta-thought and
     both responses with their answers, **selects** the better one; it is the output of
     iteration k and the basic response of the next;
   - they agree: the basic response is the output of iteration k, and the instructor decides
     **stop** (both are reasonable: the loop ends) or **refresh** (both fail): the next
     iteration's reflective response is then a new answer to the question (role "refresh"),
     compared with the unchanged basic response, instead of a reflection.

   Round k is checkpointed with iteration k's output.

Every call is sampled at ``temperature`` (the paper: 0.3 throughout). Parsing: the instructor
must end with the decision lines the paper's case studies show (Appendix C): "Better COT after
comparison: COT 1|2", "Decision: Stop iteration." or "Decision: Refreshing the response.".
An unreadable decision is counted (``ctx.notes["unparsed_instructions"]``) and never guessed:
an unreadable selection keeps the basic response, an unreadable stop/refresh does not stop.
``ctx.notes["instructions"]`` lists the instruction of each iteration. All signals are the
model's own: feedback kind "intrinsic".

Prompts: not the authors'. Their repository (github.com/llp635/IoRT) is not available to us:
no snapshot of it could be fetched and no copy is indexed, and the paper's text as we could
read it (a markdown conversion of arXiv:2503.00902, appendices A-C included) prints none.
The templates here are ours, written from Section 4 and the Appendix C case studies; the
phrases quoted from those case studies are marked beside each constant: "What's the
problem with the above answer?" (the reflector's opening, CRITIC's critique cue), "Here's
the better answer:", and the instructor's decision lines.

Deviations: the meta-thinker is zero-shot; the paper's retrieves the k most similar questions
from a meta-memory of hand-written meta-thoughts and generates few-shot, then adds the new one
to the memory. The paper's math answers are programs (PoT) run by an executor, its
commonsense answers few-shot CoT; here answers are the task's free-text prompt. The paper's
meta-thinker and instructor are GPT-3.5 whatever the solver; here all roles use the run's
model. The paper does not say whether the refreshed answer sees anything but the question;
here it sees the question alone, as the initial answer does.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field

from reflectlab.feedback import Feedback
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._params import Temperature
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

# Ours, after the meta-thinker (Sec. 4.1): a high-level principle or strategy, not a solution.
META_PROMPT = (
    "Question:\n{question}\n\nDo not solve the question. Write a meta-thought for it: the "
    "high-level principle, analytical method or overall strategy that solving it requires, in "
    "one or two sentences."
)
# The reflector's feedback (Sec. 4.2: quality "using evaluation metrics such as plausibility and
# correctness"). The first sentence is quoted from the Appendix C case studies; the rest is ours.
FEEDBACK_PROMPT = (
    "What's the problem with the above answer? Assess 1. its plausibility and 2. its "
    "truthfulness, checking each step. Do not write a new answer yet."
)
# The reflective response (Sec. 4.2: from the question, the basic response and the feedback).
# "Here's the better answer:" is quoted from Appendix C; the rest is ours.
REFLECT_PROMPT = (
    "Based on this feedback, write a better answer to the question. Begin it with "
    '"Here\'s the better answer:". {format}'
)
# The instructor when the two answers differ (Sec. 4.3, "Select Instruction"). Ours; the
# decision line is the one the Appendix C case studies end with.
SELECT_PROMPT = (
    "You are the instructor of a problem solver. Its two solutions below reach different "
    "answers, so at least one of them is wrong. Using the meta-thought as the criterion, "
    "evaluate both carefully and select the better one. End with exactly one line: "
    '"Better COT after comparison: COT 1" or "Better COT after comparison: COT 2".\n\n'
    "Question:\n{question}\n\nMeta-thought:\n{meta}\n\n"
    "COT 1:\n{first}\nExtracted answer: {first_answer}\n\n"
    "COT 2:\n{second}\nExtracted answer: {second_answer}"
)
# The instructor when the two answers agree (Sec. 4.3, "Stop" / "Refresh Instruction"). Ours;
# the decision lines are the ones the Appendix C case studies end with.
STOP_PROMPT = (
    "You are the instructor of a problem solver. Its two solutions below reach the same "
    "answer. Using the meta-thought as the criterion, evaluate both: if both are reasonable "
    'and solve the problem, end with the line "Decision: Stop iteration."; if they fail to '
    "solve it, say what they lack and end with the line "
    '"Decision: Refreshing the response.".\n\n'
    "Question:\n{question}\n\nMeta-thought:\n{meta}\n\n"
    "COT 1:\n{first}\nExtracted answer: {first_answer}\n\n"
    "COT 2:\n{second}\nExtracted answer: {second_answer}"
)

_SELECT = re.compile(
    r"Better\s+(?:COT|Code)\s+after\s+comparison\s*:\s*\**\s*(?:COT|Code)\s*([12])\b", re.I
)
_DECISION = re.compile(r"Decision\s*:\s*\**\s*(stop|refresh)", re.I)


def parse_selection(text: str) -> int | None:
    """The instructor's last "Better COT after comparison: COT n": 1 or 2; ``None`` if none."""
    found: list[str] = _SELECT.findall(text)
    return int(found[-1]) if found else None


def parse_decision(text: str) -> Literal["stop", "refresh"] | None:
    """The instructor's last "Decision: Stop ..." / "Decision: Refresh..."; ``None`` if none."""
    found: list[str] = _DECISION.findall(text)
    if not found:
        return None
    return "stop" if found[-1].lower() == "stop" else "refresh"


@strategy(
    paper="Liu et al., Instruct-of-Reflection: Enhancing Large Language Models Iterative "
    "Reflection Capabilities via Dynamic-Meta Instruction",
    year=2025,
    feedback=("intrinsic",),
    calls=lambda p: 2 + 3 * p["max_rounds"],
)
def iort(
    max_rounds: Annotated[int, Field(ge=1, le=10)] = 4, temperature: Temperature = 0.3
) -> StrategyFn:
    """Reflect; the instructor selects the better of two differing answers, or stops or
    refreshes when they agree."""

    async def run(ctx: StrategyContext) -> str:
        tpl = ctx.prompt
        question = ctx.task.format_prompt(ctx.sample)
        meta_text = tpl("META_PROMPT", META_PROMPT).format(question=question)
        meta_out = await ctx.generate(
            [ChatMessage(role="user", content=meta_text)],
            role="plan",
            round=0,
            temperature=temperature,
        )
        meta = meta_out.text.strip()
        ctx.notes["meta_thoughts"] = meta
        basic = await ask(
            ctx, Conversation.start(ctx), role="draft", round=0, temperature=temperature
        )
        ctx.checkpoint(basic, round=0)
        rounds = min(max_rounds, ctx.budget.max_rounds)
        instructions: list[Instruction] = []
        ctx.notes["instructions"] = instructions
        refreshed: str | None = None
        for k in range(1, rounds + 1):
            if refreshed is None:
                reflective = await reflect(ctx, basic, k)
            else:
                reflective, refreshed = refreshed, None

            fields = {
                "question": question,
                "meta": meta,
                "first": basic,
                "first_answer": answer_of(ctx, basic),
                "second": reflective,
                "second_answer": answer_of(ctx, reflective),
            }
            if not same_answer(ctx, basic, reflective):
                text = await instruct(ctx, tpl("SELECT_PROMPT", SELECT_PROMPT).format(**fields), k)
                choice = parse_selection(text)
                if choice is None:
                    tally(ctx, "unparsed_instructions")
                instructions.append("select")
                basic = reflective if choice == 2 else basic
                ctx.checkpoint(basic, round=k, note=f"select: COT {choice or '? (kept COT 1)'}")
                continue
            text = await instruct(ctx, tpl("STOP_PROMPT", STOP_PROMPT).format(**fields), k)
            decision = parse_decision(text)
            if decision == "stop":
                instructions.append("stop")
                ctx.checkpoint(basic, round=k, note="stop: the answers agree and hold")
                ctx.notes["stop_reason"] = f"instruction stop in round {k}"
                return basic
            if decision is None:
                tally(ctx, "unparsed_instructions")
            instructions.append("refresh")
            ctx.checkpoint(basic, round=k, note="refresh")
            if k < rounds:
                # The next iteration compares the unchanged basic response with a new answer.
                fresh = Conversation.start(ctx)
                refreshed = await ask(
                    ctx, fresh, role="refresh", round=k + 1, temperature=temperature
                )
        ctx.notes["stop_reason"] = f"max_rounds={rounds}"
        return basic

    async def reflect(ctx: StrategyContext, basic: str, k: int) -> str:
        convo = Conversation.start(ctx).assistant(basic)
        feedback_prompt = ctx.prompt("FEEDBACK_PROMPT", FEEDBACK_PROMPT)
        feedback = await ask(
            ctx, convo.user(feedback_prompt), role="feedback", round=k, temperature=temperature
        )
        record_feedback(ctx, Feedback(kind="intrinsic", source="reflector", text=feedback, round=k))
        reflect_prompt = ctx.prompt("REFLECT_PROMPT", REFLECT_PROMPT)
        convo.user(reflect_prompt.format(format=answer_format(ctx)))
        return await ask(ctx, convo, role="refine", round=k, temperature=temperature)

    async def instruct(ctx: StrategyContext, text: str, k: int) -> str:
        out = await ctx.generate(
            [ChatMessage(role="user", content=text)],
            role="judge",
            round=k,
            temperature=temperature,
        )
        record_feedback(
            ctx, Feedback(kind="intrinsic", source="instructor", text=out.text, round=k)
        )
        return out.text

    return run


def answer_of(ctx: StrategyContext, response: str) -> str:
    """The task's extraction of ``response`` for the instructor (the paper's A_b / A_r)."""
    value = ctx.task.extract(ctx.sample, response).value
    return "(none)" if value is None else str(value)
