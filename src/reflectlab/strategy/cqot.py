"""``cqot``: Critical-Questions-of-Thought — plan, probe the plan with critical questions, answer.

Castagna et al. 2024, "Critical-Questions-of-Thought: Steering LLM Reasoning with
Argumentative Querying" (arXiv:2412.15177). Prompts, thresholds and temperatures follow the
authors' pipeline (github.com/FCast07/CQoT, ``CQoT.ipynb``):

1. **Plan** (role "plan", temperature 0.8, top-p 0.95): the model writes a step-by-step
   reasoning plan for the user prompt *without* the final answer.
2. **Critical questions** (role "feedback", temperature 0.2): the model assesses the plan
   against the paper's eight critical questions (after Toulmin's argument schema: premises,
   evidence, logical connections, validity, fallacies, conclusion, consistency, plausibility)
   and answers each "Yes" or "No".
3. **Resample until the threshold**: while fewer than ``threshold`` (7) questions are answered
   "Yes", a new plan is drawn and assessed; plans after the first ``strict_resamples`` (4)
   resamples face the lower bar ``relaxed_threshold`` (5 — the code's "more than 4"), and
   after ``max_resamples`` (10) resamples the last plan is used whatever its score.
4. **Answer** (role "draft", temperature 0.2): the model answers the user prompt by strictly
   following the plan, with the authors' four-stage protocol as system instruction.

There is one answer, so one checkpoint (round 0); every call is tagged round 0 and the plan
attempts and their scores are in ``ctx.notes["plan_scores"]``. Feedback kind "intrinsic".

Parsing: a question counts as passed only where the assessment answers it "Yes" — read per
numbered answer ("1. Yes"), or, if the reply has no numbered answers, from its first eight
standalone Yes/No words. An assessment with no Yes/No answer at all is counted
(``ctx.notes["unparseable_assessments"]``) and scores 0, i.e. the plan is not accepted (the
authors count every "Yes" in the reply, anywhere, case-sensitive).

Deviations: the authors append the reminders ("Remember not to provide the final answer, just
spell out the reasoning plan." and "Remember: you MUST reply to EACH question. ...") to the
prompt with no separator; here a blank line separates them. The user prompt is the task's own
prompt (its answer-format instruction included, so the final answer can be extracted).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, ask, record_feedback, tally
from reflectlab.strategy._registry import StrategyFn, strategy

# FCast07/CQoT CQoT.ipynb, get_plan: system instruction and reminder, verbatim.
PLAN_SYSTEM = (
    "You are a critical and analytical reasoner. Carefully read the user prompt. Instead of "
    "replying, provide your step by step reasoning, clearly dividing and outlining the "
    "different steps. Each step must be very specific, easy to follow and the set of premises "
    "should logically lead to a truthful conclusion. Do NOT provide the final answer (but "
    "don't write down 'do not provide the final answer' in the reasoning process)."
)
PLAN_REMINDER = "Remember not to provide the final answer, just spell out the reasoning plan."
# FCast07/CQoT CQoT.ipynb, assess_plan: the eight critical questions and reminder, verbatim.
CRITICAL_QUESTIONS = (
    "Does the reasoning process start with clearly defined premises?",
    "Are the premises supported by evidence or accepted facts?",
    "Does the reasoning process use logical connections between premises and conclusions?",
    "Are the logical connections used in the reasoning process valid?",
    "Does the reasoning process avoid fallacies or logical errors?",
    "Is the conclusion logically derived from the premises?",
    "Is the reasoning process consistent with established knowledge or principles?",
    "Does the reasoning process lead to a conclusion that is plausible and reasonable?",
)
ASSESS_SYSTEM = (
    "You are an analytical and critical reasoner. Assess the provided reasoning steps against "
    "the following questions using the user prompt as a context. Reply simply with 'Yes' or "
    "'No' for each question. Be very strict and strongly critical and answer 'No' when in "
    "doubts. Do NOT answer or reply to anything else than this.\n"
    + "\n".join(f"{i}.{q}" for i, q in enumerate(CRITICAL_QUESTIONS, 1))
)
ASSESS_REMINDER = (
    "Remember: you MUST reply to EACH question. The replies should be ONLY 'Yes' or 'No'"
)
# FCast07/CQoT CQoT.ipynb, actual_output: system instruction, verbatim.
ANSWER_SYSTEM = (
    "You are a skilled, critical and analytical reasoner. You always reason in steps according "
    "to the provided instruction. Give an answer to the user prompt by utterly and strictly "
    "following the protocol established by the reasoning steps. Here are the stages of what "
    "you have to do:\n"
    "1) Carefully read and understand the protocol detailed by the reasoning steps. Then, "
    "start your reasoning.\n"
    "2) Each intermediate conclusion of your reasoning MUST be yielded by the truthfulness of "
    "its respective premises.\n"
    "3) Each established conclusion MUST NOT contradict other information. After each step, "
    "look back at previous steps and check that you are not contradicting what you previously "
    "deduced.\n"
    "4) Your final reply MUST be logically entailed by the reasoning steps and each "
    "established conclusion. Meticulously ensure that your reply is consistent with your "
    "reasoning."
)
PLAN_TEMPERATURE, PLAN_TOP_P, LOW_TEMPERATURE = 0.8, 0.95, 0.2

_NUMBERED = re.compile(
    r"^\s*[*#(]*\s*([1-8])\s*[.):]*\**\s*(?:.*?[:?-]\s*)?\**(yes|no)\b", re.I | re.M
)
_WORD = re.compile(r"\b(yes|no)\b", re.I)


def count_yes(assessment: str) -> int | None:
    """How many of the eight questions the assessment answers "Yes"; ``None`` if it answers
    none at all. Numbered answers are read first (the last answer to a number counts)."""
    numbered: dict[int, bool] = {}
    for m in _NUMBERED.finditer(assessment):
        numbered[int(m.group(1))] = m.group(2).lower() == "yes"
    if numbered:
        return sum(numbered.values())
    words = [w.lower() == "yes" for w in _WORD.findall(assessment)][: len(CRITICAL_QUESTIONS)]
    return sum(words) if words else None


@strategy(
    paper="Castagna et al., Critical-Questions-of-Thought: Steering LLM Reasoning with "
    "Argumentative Querying",
    year=2024,
    feedback=("intrinsic",),
    calls=lambda p: 2 * (1 + p["max_resamples"]) + 1,  # plan + questions per try, answer
)
def cqot(
    threshold: Annotated[int, Field(ge=1, le=8)] = 7,
    relaxed_threshold: Annotated[int, Field(ge=0, le=8)] = 5,
    strict_resamples: Annotated[int, Field(ge=0, le=20)] = 4,
    max_resamples: Annotated[int, Field(ge=0, le=20)] = 10,
) -> StrategyFn:
    """Plan without answering, probe it with 8 critical questions, resample, then answer."""
    if relaxed_threshold > threshold:
        raise ConfigError(
            f"relaxed_threshold ({relaxed_threshold}) cannot exceed threshold ({threshold})"
        )

    async def attempt(ctx: StrategyContext, prompt: str) -> tuple[str, int]:
        tpl = ctx.prompt
        plan_system, plan_reminder = (
            tpl("PLAN_SYSTEM", PLAN_SYSTEM),
            tpl("PLAN_REMINDER", PLAN_REMINDER),
        )
        planner = Conversation.start(ctx, system=plan_system, prompt=f"{prompt}\n\n{plan_reminder}")
        plan = await ask(
            ctx, planner, role="plan", round=0, temperature=PLAN_TEMPERATURE, top_p=PLAN_TOP_P
        )
        judge = (
            Conversation()
            .system(tpl("ASSESS_SYSTEM", ASSESS_SYSTEM))
            .assistant(plan)
            .user(f"{prompt}\n\n{tpl('ASSESS_REMINDER', ASSESS_REMINDER)}")
        )
        assessment = await ask(
            ctx, judge, role="feedback", round=0, temperature=LOW_TEMPERATURE, top_p=PLAN_TOP_P
        )
        yes = count_yes(assessment)
        if yes is None:
            tally(ctx, "unparseable_assessments")
        record_feedback(
            ctx,
            Feedback(
                kind="intrinsic",
                source="critical-questions",
                text=assessment,
                round=0,
                details={"yes": yes},
            ),
        )
        return plan, yes or 0

    async def run(ctx: StrategyContext) -> str:
        prompt = ctx.task.format_prompt(ctx.sample)
        plan, yes = await attempt(ctx, prompt)
        scores = [yes]
        resamples = 0
        while resamples < max_resamples:
            # Plans 0..strict_resamples face the full bar, later ones the relaxed one.
            bar = threshold if resamples <= strict_resamples else relaxed_threshold
            if yes >= bar:
                break
            plan, yes = await attempt(ctx, prompt)
            scores.append(yes)
            resamples += 1
        ctx.notes["plan_scores"] = scores
        answer_system = ctx.prompt("ANSWER_SYSTEM", ANSWER_SYSTEM)
        answerer = Conversation().system(answer_system).assistant(plan).user(prompt)
        answer = await ask(
            ctx, answerer, role="draft", round=0, temperature=LOW_TEMPERATURE, top_p=PLAN_TOP_P
        )
        ctx.checkpoint(answer, round=0, note=f"plan {len(scores)} with {yes}/8 Yes")
        return answer

    return run
