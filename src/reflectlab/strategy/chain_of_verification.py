"""``chain_of_verification``: baseline, planned verification questions, answered, then revised.

Dhuliawala et al. 2023, "Chain-of-Verification Reduces Hallucination in Large Language Models"
(arXiv:2309.11495; Findings of ACL 2024). Procedure (their Section 3): (1) the model drafts a
baseline response (role "draft", round 0); (2) given the query and the baseline it *plans*
verification questions, one per fact to check (role "plan"); (3) it *executes* them,
answering each question (role "verify"); (4) in a fresh prompt that shows the query, the
baseline and the question/answer pairs as coming "from another source", it writes the final
verified response (role "refine", checkpointed as round 1). Every call is greedy
(``temperature``, default 0: "we use greedy decoding for all models", Section 4.2).
Execution variants, as in the paper (``mode``):

- ``joint``: planning and answering in one call that still sees the baseline (the variant the
  paper finds repeats the baseline's hallucinations);
- ``two_step``: the questions are answered together in a second call that does **not** see the
  baseline;
- ``factored`` (default, the paper's best general variant): each question is answered in its
  own fresh context, seeing neither the baseline nor the other questions;
- ``factor_revise``: factored, then each answer is cross-checked against the baseline (role
  "cross_check", Table 9's verdicts CONSISTENT / INCONSISTENT / PARTIALLY CONSISTENT), and the
  final step also sees each cross-check's output (Section 3.4).

All verification is the model's own: feedback kind "intrinsic". A plan with no readable list of
questions is counted (``ctx.notes["plan_parse_failures"]``) and the baseline stands as the
answer — nothing is verified, so nothing is revised; a cross-check reply without a verdict is
counted (``ctx.notes["cross_check_parse_failures"]``, verdicts in
``ctx.notes["cross_check_verdicts"]``) and its text is shown to the reviser as it is, never
read as either verdict; a question left unanswered is shown as "(no answer)" and counted
(``ctx.notes["unanswered_questions"]``). ``max_questions`` caps a runaway plan (the excess is
counted).

Prompts: the paper's Section 8 ("Prompt Templates", Tables 5-9) gives its templates for the
biography task as few-shot *frames* — "Context: Q: <question> A: <passage> Response:" for
planning (Table 6), "Q: Verification Question A:" for execution (Table 7), "Context: <Original
Passage>. From another source, <Q + A> Response:" for the final response (Table 8) and the
cross-check (Table 9) — each preceded by demonstrations (three per table) that are not
published. Here each template is that frame, filled zero-shot, with one instruction paragraph
of ours in place of the demonstrations (marked beside each constant); :data:`FACTORED_PROMPT`
is Table 7's frame alone. The paper gives no template for the joint and two-step prompts:
:data:`JOINT_PROMPT` is Table 6's frame with our instruction to answer in Table 7's Q/A
layout, :data:`TWO_STEP_PROMPT` is ours.

Deviations: the paper prompts a base model (Llama 65B) few-shot, with task-specific
demonstrations; here the prompts are zero-shot and the baseline is the task's own prompt. The
paper's tasks are factual (lists, closed-book QA, biographies); on reasoning tasks the "facts"
are the intermediate results of the baseline. Its plan lists "<fact in passage>, <question>"
pairs; ours asks for the questions only (a fact beside a factored question would leak the
baseline into its context). Table 8's context is the passage alone; ours adds the question in
Table 6's "Q: ... A: ..." frame, since a task answer needs it. The cross-check's context is the
whole baseline (Table 9: the one original fact the question checks; our plan does not
separate facts).
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
from reflectlab.strategy._params import Temperature
from reflectlab.strategy._parsing import parse_list
from reflectlab.strategy._primitives import Conversation, answer_format, ask, record_feedback, tally
from reflectlab.strategy._registry import StrategyFn, strategy

Mode = Literal["joint", "two_step", "factored", "factor_revise"]
Verdict = Literal["consistent", "inconsistent", "partially consistent"]

# Frame: Dhuliawala et al. 2023, Section 8.2, Table 6 (plan verifications), verbatim from
# "Context:" on; the first paragraph is ours, in place of its three unpublished demonstrations.
PLAN_PROMPT = (
    "Write verification questions that check the facts, claims and intermediate results in "
    "the answer below, one question per fact. Each question must make sense on its own, "
    "without the answer. Reply with a numbered list of the questions only.\n\n"
    "Context: Q: {question}\nA: {response}\nResponse:"
)
# Section 3.3 "Joint" (no template published): Table 6's frame, and the Q/A layout of Table 7
# for the answers; the instruction is ours.
JOINT_PROMPT = (
    "Write verification questions that check the facts, claims and intermediate results in "
    "the answer below, one question per fact, and answer each of them. Use the form:\n"
    "Q: ...\nA: ...\nQ: ...\nA: ...\n\n"
    "Context: Q: {question}\nA: {response}\nResponse:"
)
# Section 3.3 "2-Step" (no template published): the questions alone, without the baseline.
# Ours.
TWO_STEP_PROMPT = (
    "Answer each of the following questions accurately and concisely. Use the form:\n"
    "Answer 1: ...\nAnswer 2: ...\n\n{questions}"
)
# Verbatim: Section 8.3, Table 7 (execute verifications), its final slot, without its three
# unpublished demonstrations. One fresh context per question (Section 3.3 "Factored").
FACTORED_PROMPT = "Q: {question}\nA:"
# Frame: Section 8.5, Table 9 (Factor+Revise: identify which facts are consistent), verbatim
# from "Context:" on (laid out on lines as Tables 6-8); the first paragraph is ours, in place
# of its unpublished demonstrations, and names its three verdicts.
CROSS_CHECK_PROMPT = (
    "Say whether the context is consistent with the other source. Begin your response with "
    "exactly one of CONSISTENT., INCONSISTENT. or PARTIALLY CONSISTENT. and then, unless it "
    "is inconsistent, give the consistent fact or part.\n\n"
    "Context: {response}\nFrom another source,\nQ: {question}\nA: {answer}\nResponse:"
)
# Frame: Section 8.4, Table 8 (generate final verified response), verbatim from "From another
# source," on, with the question added in Table 6's "Context: Q: ... A: ..." form; the first
# paragraph is ours, in place of its three unpublished demonstrations.
FINAL_PROMPT = (
    "Revise the answer in the context below: keep what is consistent with the other source "
    "and correct what is not, then write the revised answer to the question. {format}\n\n"
    "Context: Q: {question}\nA: {response}\nFrom another source,\n{verifications}\nResponse:"
)

# Table 9's verdicts, in capitals (so "is consistent with" in prose is never read as one).
_CROSS_RE = re.compile(r"\b(PARTIALLY CONSISTENT|INCONSISTENT|CONSISTENT)\b")
_VERDICTS: dict[str, Verdict] = {
    "CONSISTENT": "consistent",
    "INCONSISTENT": "inconsistent",
    "PARTIALLY CONSISTENT": "partially consistent",
}
_ANSWER_RE = re.compile(r"^\s*\**answer\s*(\d{1,3})\s*\**\s*[:.)-]\s*(.*)$", re.I)
_QUESTION_RE = re.compile(r"^\s*\**question\b", re.I)


def parse_cross_check(text: str) -> Verdict | None:
    """The cross-check's verdict: its first ``CONSISTENT`` / ``INCONSISTENT`` / ``PARTIALLY
    CONSISTENT`` (in capitals, as Table 9's responses begin); ``None`` when there is none."""
    found = _CROSS_RE.search(text)
    if found is None:
        return None
    return _VERDICTS[found.group(1)]


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
    mode: Mode = "factored",
    max_questions: Annotated[int, Field(ge=1, le=20)] = 5,
    temperature: Temperature = 0.0,
) -> StrategyFn:
    """Baseline, verification questions answered (jointly or factored), final revised answer."""

    async def one_call(ctx: StrategyContext, text: str, role: str) -> str:
        message = ChatMessage(role="user", content=text)
        out = await ctx.generate([message], role=role, round=1, temperature=temperature)
        return out.text.strip()

    async def run(ctx: StrategyContext) -> str:
        convo = Conversation.start(ctx)
        baseline = await ask(ctx, convo, role="draft", round=0, temperature=temperature)
        ctx.checkpoint(baseline, round=0)
        question = convo.question

        if mode == "joint":
            joint = ctx.prompt("JOINT_PROMPT", JOINT_PROMPT)
            text = joint.format(question=question, response=baseline)
            verifications = await one_call(ctx, text, "plan")
        else:
            plan = ctx.prompt("PLAN_PROMPT", PLAN_PROMPT)
            text = plan.format(question=question, response=baseline)
            questions = parse_list(await one_call(ctx, text, "plan"))
            if not questions:
                tally(ctx, "plan_parse_failures")
                ctx.notes["stop_reason"] = "no readable verification questions: baseline kept"
                return baseline
            if len(questions) > max_questions:
                tally(ctx, "questions_dropped", len(questions) - max_questions)
                questions = questions[:max_questions]
            ctx.notes["verification_questions"] = questions
            answers = await _execute(ctx, questions)
            checks: list[str] | None = None
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
        # Table 8: a fresh prompt; the verifications are presented as from "another source".
        final_prompt = ctx.prompt("FINAL_PROMPT", FINAL_PROMPT)
        text = final_prompt.format(
            question=question,
            response=baseline,
            verifications=verifications,
            format=answer_format(ctx),
        )
        final = await one_call(ctx, text, "refine")
        ctx.checkpoint(final, round=1)
        return final

    async def _execute(ctx: StrategyContext, questions: list[str]) -> list[str | None]:
        if mode == "two_step":
            two_step = ctx.prompt("TWO_STEP_PROMPT", TWO_STEP_PROMPT)
            reply = await one_call(ctx, two_step.format(questions=numbered(questions)), "verify")
            answers = parse_numbered_answers(reply, len(questions))
            tally(ctx, "unanswered_questions", sum(a is None for a in answers))
            return answers

        factored = ctx.prompt("FACTORED_PROMPT", FACTORED_PROMPT)

        def ask_alone(q: str) -> Callable[[], Awaitable[str]]:
            async def call() -> str:
                return await one_call(ctx, factored.format(question=q), "verify")

            return call

        replies = await gather_calls(ctx, [ask_alone(q) for q in questions], "verification")
        tally(ctx, "unanswered_questions", sum(not r for r in replies))
        return [r or None for r in replies]

    async def _cross_check(
        ctx: StrategyContext, baseline: str, questions: list[str], answers: list[str | None]
    ) -> list[str]:
        cross_check = ctx.prompt("CROSS_CHECK_PROMPT", CROSS_CHECK_PROMPT)

        def check(q: str, a: str | None) -> Callable[[], Awaitable[str]]:
            async def call() -> str:
                text = cross_check.format(response=baseline, question=q, answer=a or "(no answer)")
                return await one_call(ctx, text, "cross_check")

            return call

        replies = await gather_calls(
            ctx, [check(q, a) for q, a in zip(questions, answers, strict=True)], "cross-check"
        )
        verdicts = [parse_cross_check(r) for r in replies]
        ctx.notes["cross_check_verdicts"] = verdicts
        tally(ctx, "cross_check_parse_failures", sum(v is None for v in verdicts))
        return replies

    return run


def _format_verifications(
    questions: list[str], answers: list[str | None], checks: list[str] | None
) -> str:
    """The question/answer pairs in Table 7's layout ("Q: ... A: ..."), each with its
    cross-check output under it for factor+revise (Section 3.4)."""
    blocks = []
    for i, (q, a) in enumerate(zip(questions, answers, strict=True)):
        block = f"Q: {q}\nA: {a or '(no answer)'}"
        if checks is not None:
            block += f"\nCross-check: {checks[i] or '(no reply)'}"
        blocks.append(block)
    return "\n".join(blocks)
