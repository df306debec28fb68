"""``chain_of_verification``: baseline, planned verification questions, answered, then revised.

Dhuliawala et al. 2023, "Chain-of-Verification Reduces Hallucination in Large Language Models"
(arXiv:2309.11495; Findings of ACL 2024). Procedure (their Section 3): (1) the model drafts a
baseline response (role "draft", round 0); (2) given the query and the baseline it *plans*
verification questions, one per claim to check (role "plan"); (3) it *executes* them,
answering each question (role "verify"); (4) it writes the final verified response in the
light of the question/answer pairs (role "refine", checkpointed as round 1). Execution
variants, as in the paper (``mode``):

- ``joint``: planning and answering in one call that still sees the baseline (the variant the
  paper finds repeats the baseline's hallucinations);
- ``two_step``: the questions are answered together in a second call that does **not** see the
  baseline;
- ``factored`` (default, the paper's best general variant): each question is answered in its
  own fresh context, seeing neither the baseline nor the other questions;
- ``factor_revise``: factored, then each answer is cross-checked against the baseline (role
  "cross_check": CONSISTENT / INCONSISTENT) and the final step sees which facts disagree.

All verification is the model's own: feedback kind "intrinsic". A plan with no readable list of
questions is counted (``ctx.notes["plan_parse_failures"]``) and the baseline stands as the
answer — nothing is verified, so nothing is revised; an unreadable cross-check verdict is
counted (``ctx.notes["cross_check_parse_failures"]``) and shown to the reviser as "unclear",
never guessed either way; a question left unanswered is shown as "(no answer)" and counted
(``ctx.notes["unanswered_questions"]``). ``max_questions`` caps a runaway plan (the excess is
counted).

Deviations: the paper's prompts are few-shot and task-specific (list questions, closed-book
QA, biographies) and are not reproduced; the prompts here are zero-shot paraphrases of its
step descriptions, our wording. The paper's tasks are factual; on reasoning tasks the
"claims" are the intermediate results of the baseline. The final step continues the baseline's
conversation (the paper builds a fresh few-shot prompt with the same content), so the server
reuses the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from pydantic import Field

from reflectlab.feedback import Feedback
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import gather_calls
from reflectlab.strategy._parsing import parse_list
from reflectlab.strategy._primitives import Conversation, answer_format, ask, record_feedback, tally
from reflectlab.strategy._registry import StrategyFn, strategy

Mode = Literal["joint", "two_step", "factored", "factor_revise"]

# After Dhuliawala et al. 2023, Section 3.2 ("Plan Verifications"): questions that test the
# factual claims of the baseline.
PLAN_PROMPT = (
    "Here is a task and a draft response to it.\n\nTask:\n{question}\n\nDraft response:\n"
    "{response}\n\nWrite verification questions that would check the facts, claims and "
    "intermediate results the draft relies on, one question per claim. Each question must "
    "make sense on its own, without the draft. Reply with a numbered list of questions only."
)
# After Section 3.3, "Joint": planning and execution in one prompt that sees the baseline.
JOINT_PROMPT = (
    "Here is a task and a draft response to it.\n\nTask:\n{question}\n\nDraft response:\n"
    "{response}\n\nWrite verification questions that would check the facts, claims and "
    "intermediate results the draft relies on, and answer each of them. Use the form:\n"
    "Question 1: ...\nAnswer 1: ...\nQuestion 2: ...\nAnswer 2: ..."
)
# After Section 3.3, "2-Step": the questions alone, without the baseline.
TWO_STEP_PROMPT = (
    "Answer each of the following questions accurately and concisely. Use the form:\n"
    "Answer 1: ...\nAnswer 2: ...\n\n{questions}"
)
# After Section 3.3, "Factored": each question alone in a fresh context.
FACTORED_PROMPT = "Answer the following question accurately and concisely.\n\n{question}"
# After Section 3.3, "Factor+Revise": an explicit cross-check of each answer with the baseline.
CROSS_CHECK_PROMPT = (
    "Here is a draft response, a question about one of its facts and an independently found "
    "answer to that question.\n\nDraft response:\n{response}\n\nQuestion: {question}\n"
    "Answer: {answer}\n\nDoes the answer agree with what the draft says? Explain briefly, then "
    "end with exactly one of [[CONSISTENT]] or [[INCONSISTENT]]."
)
# After Section 3.4 ("Final Verified Response").
FINAL_PROMPT = (
    "Here are verification questions about the facts in your response above, with answers "
    "found independently of it:\n\n{verifications}\n\nWhere a verification answer disagrees "
    "with your response, correct your response; keep what is confirmed. Write your final, "
    "verified response to the original task. {format}"
)

_CROSS_RE = re.compile(r"\[\[\s*(CONSISTENT|INCONSISTENT)\s*\]\]", re.I)
_ANSWER_RE = re.compile(r"^\s*\**answer\s*(\d{1,3})\s*\**\s*[:.)-]\s*(.*)$", re.I)
_QUESTION_RE = re.compile(r"^\s*\**question\b", re.I)


def parse_cross_check(text: str) -> bool | None:
    """``True`` for the last ``[[CONSISTENT]]`` marker, ``False`` for ``[[INCONSISTENT]]``,
    ``None`` when there is none."""
    found: list[str] = _CROSS_RE.findall(text)
    if not found:
        return None
    return found[-1].upper() == "CONSISTENT"


def parse_numbered_answers(text: str, n: int) -> list[str | None]:
    """The answers of a joint reply (``Answer i: ...``, continuation lines kept), one per
    question 1..n; ``None`` where answer i is missing."""
    answers: dict[int, list[str]] = {}
    current: int | None = None
    for line in text.splitlines():
        m = _ANSWER_RE.match(line)
        if m:
            current = int(m.group(1))
            answers[current] = [m.group(2).strip()]
        elif _QUESTION_RE.match(line):
            current = None
        elif current is not None and line.strip():
            answers[current].append(line.strip())
    return [" ".join(answers[i]).strip() or None if i in answers else None for i in range(1, n + 1)]


def numbered(questions: list[str]) -> str:
    return "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))


@strategy(
    paper="Dhuliawala et al., Chain-of-Verification Reduces Hallucination in Large Language Models",
    year=2023,
    feedback=("intrinsic",),
)
def chain_of_verification(
    mode: Mode = "factored", max_questions: Annotated[int, Field(ge=1, le=20)] = 5
) -> StrategyFn:
    """Baseline, verification questions answered (jointly or factored), final revised answer."""

    async def run(ctx: StrategyContext) -> str:
        convo = Conversation.start(ctx)
        baseline = await ask(ctx, convo, role="draft", round=0)
        ctx.checkpoint(baseline, round=0)
        task_prompt = convo.question

        if mode == "joint":
            text = ctx.prompt("JOINT_PROMPT", JOINT_PROMPT).format(
                question=task_prompt, response=baseline
            )
            out = await ctx.generate([ChatMessage(role="user", content=text)], role="plan", round=1)
            verifications = out.text.strip()
        else:
            text = ctx.prompt("PLAN_PROMPT", PLAN_PROMPT).format(
                question=task_prompt, response=baseline
            )
            out = await ctx.generate([ChatMessage(role="user", content=text)], role="plan", round=1)
            questions = parse_list(out.text)
            if not questions:
                tally(ctx, "plan_parse_failures")
                ctx.notes["stop_reason"] = "no readable verification questions: baseline kept"
                return baseline
            if len(questions) > max_questions:
                tally(ctx, "questions_dropped", len(questions) - max_questions)
                questions = questions[:max_questions]
            ctx.notes["verification_questions"] = questions
            answers = await _execute(ctx, questions)
            checks: list[bool | None] | None = None
            if mode == "factor_revise":
                checks = await _cross_check(ctx, baseline, questions, answers)
            verifications = _format_verifications(questions, answers, checks)
        if not verifications:
            tally(ctx, "empty_verifications")
        record_feedback(
            ctx,
            Feedback(
                kind="intrinsic",
                source=f"chain-of-verification:{mode}",
                text=verifications,
                round=1,
            ),
        )
        final_prompt = ctx.prompt("FINAL_PROMPT", FINAL_PROMPT)
        convo.user(final_prompt.format(verifications=verifications, format=answer_format(ctx)))
        final = await ask(ctx, convo, role="refine", round=1)
        ctx.checkpoint(final, round=1)
        return final

    async def _execute(ctx: StrategyContext, questions: list[str]) -> list[str | None]:
        if mode == "two_step":
            two_step = ctx.prompt("TWO_STEP_PROMPT", TWO_STEP_PROMPT)
            text = two_step.format(questions=numbered(questions))
            out = await ctx.generate(
                [ChatMessage(role="user", content=text)], role="verify", round=1
            )
            answers = parse_numbered_answers(out.text, len(questions))
            tally(ctx, "unanswered_questions", sum(a is None for a in answers))
            return answers

        factored = ctx.prompt("FACTORED_PROMPT", FACTORED_PROMPT)

        def ask_alone(q: str) -> Callable[[], Awaitable[str]]:
            async def call() -> str:
                message = ChatMessage(role="user", content=factored.format(question=q))
                out = await ctx.generate([message], role="verify", round=1)
                return out.text.strip()

            return call

        replies = await gather_calls(ctx, [ask_alone(q) for q in questions], "verification")
        tally(ctx, "unanswered_questions", sum(not r for r in replies))
        return [r or None for r in replies]

    async def _cross_check(
        ctx: StrategyContext, baseline: str, questions: list[str], answers: list[str | None]
    ) -> list[bool | None]:
        cross_check = ctx.prompt("CROSS_CHECK_PROMPT", CROSS_CHECK_PROMPT)

        def check(q: str, a: str | None) -> Callable[[], Awaitable[bool | None]]:
            async def call() -> bool | None:
                text = cross_check.format(response=baseline, question=q, answer=a or "(no answer)")
                out = await ctx.generate(
                    [ChatMessage(role="user", content=text)], role="cross_check", round=1
                )
                verdict = parse_cross_check(out.text)
                if verdict is None:
                    tally(ctx, "cross_check_parse_failures")
                return verdict

            return call

        return await gather_calls(
            ctx, [check(q, a) for q, a in zip(questions, answers, strict=True)], "cross-check"
        )

    return run


def _format_verifications(
    questions: list[str], answers: list[str | None], checks: list[bool | None] | None
) -> str:
    blocks = []
    for i, (q, a) in enumerate(zip(questions, answers, strict=True)):
        block = f"Question {i + 1}: {q}\nAnswer {i + 1}: {a or '(no answer)'}"
        if checks is not None:
            verdict = {True: "consistent", False: "INCONSISTENT", None: "unclear"}[checks[i]]
            block += f"\nAgreement with your response: {verdict}"
        blocks.append(block)
    return "\n\n".join(blocks)
