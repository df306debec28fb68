"""``self_verification``: forward reasoning, then backward verification by masked conditions.

Weng et al. 2023, "Large Language Models are Better Reasoners with Self-Verification"
(Findings of EMNLP 2023, arXiv:2212.09561). Procedure, following the authors' code
(github.com/WENGSYX/Self-Verification, ``main_verifier.py`` and ``utils.py``):

1. **Forward reasoning**: ``n`` chain-of-thought candidates at ``temperature`` (their N=5,
   K=0.3; role "draft", round 0). Their distinct extracted answers are the candidate
   conclusions, in order of appearance; replies with no extractable answer are not
   candidates. With a single distinct answer there is nothing to verify and it is returned.
2. **Declarative rewrite**: the question sentence and a candidate answer are turned into a
   statement with the authors' prompt "Please change the questions and answers into a
   complete declarative sentences '... The answer is ...'" (role "rewrite"); as in their code
   the statement is written once and re-used for the other answers by replacing the first
   answer in it (a new rewrite only when the first answer does not occur in it).
3. **Backward verification**: a number in the problem's conditions is masked as 'X'; the
   model reads the masked conditions plus the candidate's statement and is asked "What is the
   answer of 'X'?" (the authors' few-shot demonstrations, role "verify"), ``verify_samples``
   times at ``verify_temperature`` (their 10 at 0.2). Up to ``max_conditions`` (their 3)
   conditions are masked, one at a time. A candidate's score is the number of predictions
   that recover the masked value.
4. The candidate with the highest score is the answer (ties: the earliest), checkpointed as
   round 1; round 0 is the first candidate (the authors' baseline accuracy).

All verification is the model's own: feedback kind "intrinsic". A verification reply with no
number in it recovers nothing and is counted in ``ctx.notes["unparseable_verifications"]``;
a problem with no number in its conditions cannot be verified — counted
(``ctx.notes["unverifiable"]``) and the first candidate is kept. Numeric tasks only
(``answer_kind == "number"``): the paper's True/False variant for commonsense questions is not
implemented, and another task is a configuration error.

Deviations: the problem text is the sample's input; its last sentence is the question and the
sentences before it are the conditions (the code splits at the last full stop after turning
every comma into one). Each distinct number in the conditions is masked once (the code also
repeats repeated numbers). The few-shot demonstrations are five of the authors' eight GSM8K
ones, in a fixed order (the code shuffles them for every call). Forward reasoning uses the
task's own prompt instead of the authors' few-shot CoT prompt.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

from pydantic import Field

from reflectlab.errors import ConfigError
from reflectlab.feedback import Feedback
from reflectlab.model import ChatMessage
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._multi import reserve_calls
from reflectlab.strategy._primitives import Conversation, record_feedback, sample_n, tally
from reflectlab.strategy._registry import StrategyFn, strategy

# WENGSYX/Self-Verification utils.py, question_turn_decalrative: the rewrite prompt, verbatim.
REWRITE_PROMPT = (
    "Q: Please change the questions and answers into a complete declarative sentences "
    "'{question} The answer is {answer}'\nA: "
)
# WENGSYX/Self-Verification main_verifier.py (verifier_text for numeric datasets), verbatim.
VERIFY_QUESTION = " What is the answer of 'X'?"
# WENGSYX/Self-Verification utils.py, create_verifier_demo_text (GSM8K), five of the eight
# demonstrations, in their "Q: ...\nA: ... The answer is N." form.
VERIFY_DEMOS = (
    "Q: \"There are 'X' trees in the grove. Grove workers will plant trees in the grove today. "
    'After they are done, there will be 21 trees. The grove workers planted 6 trees today." '
    "What is the answer of 'X'?\nA: There are X trees originally. The grove workers planted 6 "
    "trees today. Then there were 21 trees after some more were planted. So, we can write the "
    "following equation:\n<code>X + 6 = 21\n X = 21 - 6\n X = 15\n</code>\n The answer is 15.\n\n"
    "Q: \"If there are 'X' cars in the parking lot and 2 more cars arrive, There are 5 cars in "
    "the parking lot.\" What is the answer of 'X'?\nA: There are originally X cars. 2 more cars "
    "arrive and there are 5 cars finally. So:\n<code> X + 2 = 5\n X = 5 - 2\n X = 3\n</code>\n "
    "The answer is 3.\n\n"
    "Q: \"Leah had 'X' chocolates and her sister had 42. If they ate 35, they have 39 pieces "
    "left in total.\" What is the answer of 'X'?\nA: Originally, Leah had X chocolates. Her "
    "sister had 42. So in total they had:\n<code> X + 42 = Y\n</code>\n. After eating 35, they "
    "had 39, so\n<code> Y = 35 + 39\n Y = 74\n X + 42 = 74\n X = 74 - 42\n X = 32\n</code>\n "
    "The answer is 32.\n\n"
    "Q: \"Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 'X' lollipops. "
    "Jason gave Denny 8 lollipops.\" What is the answer of 'X'?\nA: Jason started with 20 "
    "lollipops. Then he had X after giving some to Denny and gave Denny 8.\n<code> 20 - X = 8\n"
    " X = 12\n</code>\n The answer is 12.\n\n"
    "Q: \"Olivia has $'X'. She bought five bagels for $3 each. She has 8 dollars left.\" What "
    "is the answer of 'X'?\nA: Olivia had X dollars. 5 bagels for 3 dollars each will be 5 x 3 "
    "= 15 dollars. She has 8 dollars left finally.\n<code> X - 15 = 8\n X = 8 + 15\n X = 23\n"
    "</code>\n The answer is 23.\n\n"
)
ANSWER_TRIGGER = "The answer is"

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


def split_question(text: str) -> tuple[str, str]:
    """(conditions, question): the last sentence is the question, the rest the conditions."""
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    if len(parts) < 2:
        return "", text.strip()
    return " ".join(parts[:-1]), parts[-1]


def mask_conditions(conditions: str, max_conditions: int) -> list[tuple[str, float]]:
    """Up to ``max_conditions`` copies of ``conditions``, each with one distinct number's first
    occurrence replaced by 'X', and the masked value."""
    text = _THOUSANDS.sub("", conditions)
    masked: list[tuple[str, float]] = []
    seen: set[float] = set()
    for m in _NUMBER.finditer(text):
        value = float(m.group(0))
        if value in seen:
            continue
        seen.add(value)
        masked.append((text[: m.start()] + "'X'" + text[m.end() :], value))
        if len(masked) == max_conditions:
            break
    return masked


def verify_prompt(
    masked_conditions: str,
    declarative: str,
    demos: str = VERIFY_DEMOS,
    question: str = VERIFY_QUESTION,
) -> str:
    """The authors' backward question: demonstrations, then the masked conditions and the
    candidate's statement in quotes, then "What is the answer of 'X'?"."""
    return f'{demos}Q: "{masked_conditions.rstrip()} {declarative}"{question}\nA:'


def recovered_value(reply: str, trigger: str = ANSWER_TRIGGER) -> float | None:
    """The value of X in a verification reply: the first number after the last "The answer
    is" (``trigger``), else the last number in the reply (the authors' answer cleansing);
    ``None`` if none."""
    parts = reply.replace(",", "").split(trigger)
    found = _NUMBER.findall(parts[-1])
    if not found:
        return None
    return float(found[0] if len(parts) > 1 else found[-1])


@strategy(
    paper="Weng et al., Large Language Models are Better Reasoners with Self-Verification",
    year=2023,
    feedback=("intrinsic",),
)
def self_verification(
    n: Annotated[int, Field(ge=1, le=64)] = 5,
    temperature: Annotated[float, Field(gt=0.0, le=2.0)] = 0.3,
    verify_samples: Annotated[int, Field(ge=1, le=64)] = 10,
    verify_temperature: Annotated[float, Field(ge=0.0, le=2.0)] = 0.2,
    max_conditions: Annotated[int, Field(ge=1, le=10)] = 3,
) -> StrategyFn:
    """n candidates; mask a condition, ask the model to recover it; keep the best-verified."""

    async def run(ctx: StrategyContext) -> str:
        if ctx.task.answer_kind != "number":
            raise ConfigError(
                f"self_verification verifies numeric answers; task {ctx.task.name!r} has "
                f"answer kind {ctx.task.answer_kind!r}"
            )
        convo = Conversation.start(ctx)
        candidates = await sample_n(
            ctx, convo.messages, n, role="draft", round=0, temperature=temperature
        )
        ctx.checkpoint(candidates[0], round=0, note="first candidate")
        answers: list[str] = []
        replies: list[str] = []
        for c in candidates:
            value = ctx.task.extract(ctx.sample, c).value
            if value is not None and value not in answers:
                answers.append(value)
                replies.append(c)
        ctx.notes["answers"] = answers
        if len(answers) < 2:
            ctx.notes["stop_reason"] = f"{len(answers)} distinct answer(s): nothing to verify"
            return replies[0] if replies else candidates[0]
        conditions, question = split_question(ctx.sample.input)
        masked = mask_conditions(conditions, max_conditions)
        if not masked:
            tally(ctx, "unverifiable")
            ctx.notes["stop_reason"] = "no number in the conditions to mask: first candidate kept"
            return candidates[0]
        scores: list[int] = []
        declarative = ""
        for answer in answers:
            declarative = await statement(ctx, question, answer, answers[0], declarative)
            scores.append(await verify(ctx, masked, declarative))
            record_feedback(
                ctx,
                Feedback(
                    kind="intrinsic",
                    source="backward-verification",
                    text=f"{declarative}\nrecovered {scores[-1]} of "
                    f"{len(masked) * verify_samples} masked conditions",
                    round=1,
                    details={"answer": answer, "score": scores[-1]},
                ),
            )
        ctx.notes["scores"] = scores
        best = scores.index(max(scores))
        ctx.checkpoint(replies[best], round=1, note=f"best verified: {answers[best]}")
        return replies[best]

    async def statement(
        ctx: StrategyContext, question: str, answer: str, first: str, previous: str
    ) -> str:
        """The candidate as a declarative statement, re-using the previous one if it can."""
        if previous and first in previous:
            i = previous.rfind(first)
            return previous[:i] + answer + previous[i + len(first) :]
        text = ctx.prompt("REWRITE_PROMPT", REWRITE_PROMPT).format(question=question, answer=answer)
        out = await ctx.generate([ChatMessage(role="user", content=text)], role="rewrite", round=1)
        if not out.text.strip():
            # The authors' own fallback when the rewrite fails.
            tally(ctx, "empty_rewrites")
            return f"{question} {ctx.prompt('ANSWER_TRIGGER', ANSWER_TRIGGER)} {answer}."
        return out.text.strip().splitlines()[0].strip()

    async def verify(
        ctx: StrategyContext, masked: list[tuple[str, float]], declarative: str
    ) -> int:
        """How many backward predictions recover the masked values."""
        reserve_calls(ctx, len(masked) * verify_samples, "backward verification")
        demos = ctx.prompt("VERIFY_DEMOS", VERIFY_DEMOS)
        question = ctx.prompt("VERIFY_QUESTION", VERIFY_QUESTION)
        trigger = ctx.prompt("ANSWER_TRIGGER", ANSWER_TRIGGER)
        prompts = [
            [ChatMessage(role="user", content=verify_prompt(text, declarative, demos, question))]
            for text, _ in masked
        ]
        groups = await asyncio.gather(
            *(
                sample_n(
                    ctx, p, verify_samples, role="verify", round=1, temperature=verify_temperature
                )
                for p in prompts
            )
        )
        score = 0
        for (_, value), replies in zip(masked, groups, strict=True):
            for reply in replies:
                got = recovered_value(reply, trigger)
                if got is None:
                    tally(ctx, "unparseable_verifications")
                elif abs(got - value) < 1e-6:
                    score += 1
        return score

    return run
