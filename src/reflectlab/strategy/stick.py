"""``stick``: a self-generated checklist as feedback (STICK), or as a best-of-N selector.

Cook et al. 2024, "TICKing All the Boxes: Generated Checklists Improve LLM Evaluation and
Generation" (arXiv:2410.03608). TICK has the model write, from the instruction alone, a
checklist of YES/NO questions — one per requirement, YES meaning it is met — and answer them
for a response; the pass rate is the share of YES. The paper uses it two ways for generation,
both here (``mode``):

- ``refine`` (STICK, Self-TICK): draft (role "draft", round 0); the model writes the
  checklist once (role "checklist"); each round k it answers every question for its current
  response (role "feedback", one call per question) and, unless every answer is YES, refines
  the response with the checklist answers as feedback (role "refine", checkpointed as round
  k), for up to ``max_rounds`` rounds.
- ``best_of_n``: ``n`` responses at ``temperature`` (round 0 is the first), each evaluated
  against the checklist; the highest pass rate wins (round 1; ties go to the majority answer
  among the tied, then the earliest).

``feedback="critic"`` has the critic model write and answer the checklist instead (then it is
TICK feedback from another model, not STICK). Prompts and the checklist parser are shared with
the judge layer's TICK protocol (:mod:`reflectlab.feedback.checklist`); its two prompts are
also stick's templates ``CHECKLIST_GENERATE`` and ``CHECKLIST_ANSWER``, so a ``--prompts``
file can override them for stick alone (the judge layer keeps its own).

Never guessed: a checklist reply with no questions is counted
(``ctx.notes["checklist_parse_failures"]``) and nothing is refined or selected (the draft or
first candidate stands); an answer with neither ``[[YES]]`` nor ``[[NO]]`` is counted
(``ctx.notes["unparsed_checklist_answers"]``), is not a pass, and is shown to the refiner as
"could not be checked"; only all-YES stops the refine loop. Pass rates are over the answered
questions (``None`` — lowest — when none was answered).

Deviations: the paper's checklist-generation prompt is few-shot; ours is zero-shot (the judge
layer's). The paper answers the whole checklist in one evaluation; here each question is its
own call, as in the judge layer, so an unreadable answer spoils one question, not the
checklist. The refinement prompt (:data:`REFINE_PROMPT`) is ours: we did not find the paper's
wording. Stopping when every item passes is our rule (nothing is left to fix).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from pydantic import Field

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback, FeedbackKind, FeedbackRequest, Verdict
from reflectlab.feedback.checklist import CHECKLIST_ANSWER as CHECKLIST_ANSWER
from reflectlab.feedback.checklist import CHECKLIST_GENERATE as CHECKLIST_GENERATE
from reflectlab.feedback.checklist import checklist_questions, parse_checklist_answer
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import gather_calls
from reflectlab.strategy._primitives import (
    Conversation,
    answer_format,
    ask,
    best_scored,
    evaluate_and_revise,
    sample_n,
    tally,
)
from reflectlab.strategy._registry import StrategyFn, strategy

Mode = Literal["refine", "best_of_n"]

# Ours (the paper's STICK refinement wording was not found): the checklist answers as feedback.
REFINE_PROMPT = (
    "Here is a checklist for the task, answered for your response above:\n\n{checklist}\n\n"
    "Revise your response so that every checklist question can be answered YES, keeping what "
    "already passes. Give the complete revised response. {format}"
)


def answer_verdict(text: str) -> Verdict:
    answer = parse_checklist_answer(text)
    return "unknown" if answer is None else ("correct" if answer else "incorrect")


def pass_rate(verdicts: list[Verdict]) -> float | None:
    answered = [v for v in verdicts if v != "unknown"]
    return sum(v == "correct" for v in answered) / len(answered) if answered else None


def checklist_feedback(questions: list[str], verdicts: list[Verdict]) -> str:
    marks = {"correct": "YES", "incorrect": "NO", "unknown": "could not be checked"}
    return "\n".join(f"- [{marks[v]}] {q}" for q, v in zip(questions, verdicts, strict=True))


@strategy(
    paper="Cook et al., TICKing All the Boxes: Generated Checklists Improve LLM Evaluation and "
    "Generation",
    year=2024,
    feedback=("intrinsic", "critic"),
)
def stick(
    mode: Mode = "refine",
    feedback: Literal["intrinsic", "critic"] = "intrinsic",
    max_rounds: Annotated[int, Field(ge=1, le=10)] = 3,
    n: Annotated[int, Field(ge=1, le=64)] = 4,
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.7,
    max_questions: Annotated[int, Field(ge=1, le=25)] = 10,
) -> StrategyFn:
    """Self-generated YES/NO checklist: refine until every item passes, or pick the best of n."""
    kind: FeedbackKind = feedback

    async def make_checklist(ctx: StrategyContext, instruction: str) -> list[str]:
        # As checklist_generation_messages builds it, with the template read through ctx.
        text = ctx.prompt("CHECKLIST_GENERATE", CHECKLIST_GENERATE).format(
            instruction=instruction, max_questions=max_questions
        )
        out = await ctx.generate(
            [ChatMessage(role="user", content=text)],
            role="checklist",
            round=0,
            model=ctx.critic if kind == "critic" else None,
        )
        questions, dropped = checklist_questions(out.text, max_questions=max_questions)
        if dropped:
            tally(ctx, "checklist_questions_dropped", dropped)
        if not questions:
            tally(ctx, "checklist_parse_failures")
        ctx.notes["checklist"] = questions
        return questions

    async def answer(
        ctx: StrategyContext, instruction: str, questions: list[str], response: str, k: int
    ) -> list[Verdict]:
        template = ctx.prompt("CHECKLIST_ANSWER", CHECKLIST_ANSWER)

        def ask_one(q: str) -> Callable[[], Awaitable[Feedback]]:
            # As checklist_answer_messages builds it, with the template read through ctx.
            content = template.format(instruction=instruction, response=response, question=q)
            messages = [ChatMessage(role="user", content=content)]
            request = FeedbackRequest(
                response=response, round=k, critique_messages=messages, parse=answer_verdict
            )
            return lambda: ctx.get_feedback(kind, request)

        answers = await gather_calls(ctx, [ask_one(q) for q in questions], f"checklist round {k}")
        verdicts: list[Verdict] = [fb.verdict for fb in answers]
        tally(ctx, "unparsed_checklist_answers", verdicts.count("unknown"))
        return verdicts

    async def refine(ctx: StrategyContext, instruction: str) -> str:
        convo = Conversation.start(ctx, prompt=instruction)
        draft = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(draft, round=0)
        questions = await make_checklist(ctx, instruction)
        if not questions:
            ctx.notes["stop_reason"] = "no readable checklist: draft kept"
            return draft
        rates: list[float | None] = []

        async def evaluate(response: str, k: int) -> Feedback:
            verdicts = await answer(ctx, instruction, questions, response, k)
            rates.append(pass_rate(verdicts))
            ctx.notes["pass_rate_by_round"] = rates
            if all(v == "correct" for v in verdicts):
                verdict: Verdict = "correct"
            else:
                verdict = "incorrect" if "incorrect" in verdicts else "unknown"
            return Feedback(
                kind=kind,
                source="checklist",
                text=checklist_feedback(questions, verdicts),
                verdict=verdict,
                round=k,
            )

        async def revise(response: str, fb: Feedback, k: int) -> str:
            refine_prompt = ctx.prompt("REFINE_PROMPT", REFINE_PROMPT)
            convo.user(refine_prompt.format(checklist=fb.text, format=answer_format(ctx)))
            return await ask(ctx, convo, role="refine", round=k)

        return await evaluate_and_revise(
            ctx, draft, max_rounds=max_rounds, evaluate=evaluate, revise=revise
        )

    async def best_of_n(ctx: StrategyContext, instruction: str) -> str:
        convo = Conversation.start(ctx, prompt=instruction)
        candidates = await sample_n(
            ctx, convo.messages, n, role="draft", round=0, temperature=temperature
        )
        ctx.checkpoint(candidates[0], round=0, note="first candidate")
        questions = await make_checklist(ctx, instruction) if n > 1 else []
        if not questions:
            ctx.notes["stop_reason"] = "nothing to select: first candidate kept"
            return candidates[0]
        rates = [pass_rate(await answer(ctx, instruction, questions, c, 1)) for c in candidates]
        ctx.notes["pass_rates"] = rates
        index = best_scored(ctx, candidates, [-math.inf if r is None else r for r in rates])
        ctx.notes["selected"] = index
        ctx.checkpoint(candidates[index], round=1, note=f"best checklist pass rate: {index}")
        return candidates[index]

    async def run(ctx: StrategyContext) -> str:
        if kind == "critic" and ctx.critic is None:
            raise ConfigError("stick with feedback=critic needs a critic model (--critic-model)")
        instruction = ctx.task.format_prompt(ctx.sample)
        if mode == "best_of_n":
            return await best_of_n(ctx, instruction)
        return await refine(ctx, instruction)

    return run
