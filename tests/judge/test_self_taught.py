"""The Self-Taught Evaluator pairwise prompt (facebookresearch/RAM) on scripted mock judges."""

from __future__ import annotations

import re

import pytest

from reflectlab.errors import ConfigError
from reflectlab.judge import PairwiseJudge
from reflectlab.judge._prompts import SELF_TAUGHT_EVAL_PLAN, SELF_TAUGHT_SYSTEM, SELF_TAUGHT_USER
from reflectlab.model import capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest

_ANSWER = re.compile(
    r"\[The Start of Assistant (A|B)'s Answer\]\n(.*?)\n\[The End of Assistant \1's Answer\]", re.S
)


def prefers(text: str) -> str:
    def reply(request: MockRequest) -> str:
        shown = dict(_ANSWER.findall(request.prompt))
        return "[[A]]" if shown["A"] == text else "[[B]]"

    return reply  # type: ignore[return-value]


def test_prompt_constants_are_the_sources_text() -> None:
    # Spot checks of the verbatim text: the literal backslashes, the typo, the trailing newline.
    assert SELF_TAUGHT_SYSTEM.endswith(
        'format: \\"[[A]]\\" if assistant A is better, \\"[[B]]\\" if assistant B is better.'
    )
    assert "[[C]]" not in SELF_TAUGHT_SYSTEM and "[[C]]" not in SELF_TAUGHT_EVAL_PLAN
    assert "evaluaiton rubric, e.g. 1-5 criteria" in SELF_TAUGHT_EVAL_PLAN
    assert SELF_TAUGHT_USER.endswith("[The End of Assistant B's Answer]\n")
    assert "is better. \n\n[User Question]\n{input}" in SELF_TAUGHT_EVAL_PLAN


async def test_self_taught_runs_both_orders_with_the_released_prompt() -> None:
    judge = PairwiseJudge(get_model("mock/st", outputs=prefers("7")), prompt="self-taught")
    with capture_calls() as events:
        result = await judge.judge("Name a prime.", "7", "8")
    assert (result.verdict, result.consistent, result.prompt) == ("A", True, "self-taught")
    assert (result.original.raw, result.swapped.raw) == ("A", "B")
    assert len(events) == 2
    first, second = events
    assert [m.role for m in first.messages] == ["system", "user"]
    assert first.messages[0].content == SELF_TAUGHT_SYSTEM
    assert first.messages[1].content == SELF_TAUGHT_USER.format(
        input="Name a prime.", response_a="7", response_b="8"
    )
    assert second.messages[1].content == SELF_TAUGHT_USER.format(
        input="Name a prime.", response_a="8", response_b="7"
    )
    assert {e.tags["judge_prompt"] for e in events} == {"self-taught"}
    assert {e.tags["judge_order"] for e in events} == {"original", "swapped"}
    assert {e.role for e in events} == {"judge"}


async def test_self_taught_plan_is_one_user_message() -> None:
    judge = PairwiseJudge(get_model("mock/st", outputs=prefers("8")), prompt="self-taught-plan")
    with capture_calls() as events:
        result = await judge.judge("Name an even number.", "7", "8")
    assert result.verdict == "B"
    [message] = events[0].messages
    assert message.role == "user"
    assert message.content == SELF_TAUGHT_EVAL_PLAN.format(
        input="Name an even number.", generation="7", generation2="8"
    )


async def test_disagreeing_orders_are_inconsistent() -> None:
    judge = PairwiseJudge(get_model("mock/st", outputs=["[[A]]"], cycle=True), prompt="self-taught")
    result = await judge.judge("q", "x", "y")
    assert (result.verdict, result.consistent) == ("inconsistent", False)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("Both are fine. [[C]]", "a tie was not allowed"),
        ("I like [[A]] ... no, [[B]]", "conflicting verdicts: A, B"),
        ("Assistant A is better.", "no verdict found"),
        # An echo of the prompt's own format (with its backslashes) is not a verdict.
        ('I will answer \\"[[A]]\\" if assistant A is better.', "no verdict found"),
    ],
)
async def test_unparseable_replies_are_counted_never_guessed(reply: str, error: str) -> None:
    judge = PairwiseJudge(get_model("mock/st", outputs=[reply], cycle=True), prompt="self-taught")
    result = await judge.judge("q", "x", "y")
    assert result.verdict is None and result.consistent is None
    assert result.original.verdict is None and result.swapped.verdict is None
    assert result.parse_error is not None and error in result.parse_error
    assert result.original.reasoning == reply


async def test_self_taught_rejects_ties_and_references() -> None:
    model = get_model("mock/st", outputs=["[[A]]"], cycle=True)
    with pytest.raises(ConfigError, match="offers no tie"):
        PairwiseJudge(model, prompt="self-taught", allow_tie=True)
    with pytest.raises(ConfigError, match="unknown pairwise prompt"):
        PairwiseJudge(model, prompt="nope")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no reference"):
        await PairwiseJudge(model, prompt="self-taught").judge("q", "a", "b", reference="r")
    # The MT-Bench default is unchanged: ties allowed, no judge_prompt tag.
    default = PairwiseJudge(model)
    assert default.allow_tie and default.prompt == "mt-bench"
