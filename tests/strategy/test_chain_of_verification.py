"""``chain_of_verification`` (Dhuliawala et al. 2023): plan, execute (joint / two-step /
factored / factor+revise), final verified response."""

from __future__ import annotations

from collections.abc import Callable

from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.chain_of_verification import parse_cross_check, parse_numbered_answers
from support.numbers import make_ctx

BASELINE = "2+3 = 6. Answer: 6"
PLAN = "1. What is 2+3?\n2. Is 6 the sum of 2 and 3?"
FINAL = "2+3 = 5. Answer: 5"


def script(plan: str = PLAN, cross: str = "[[INCONSISTENT]]") -> Callable[[MockRequest], str]:
    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith("Here is a task and a draft response") and "answer each" in p:
            return "Question 1: What is 2+3?\nAnswer 1: 5"
        if p.startswith("Here is a task and a draft response"):
            return plan
        if p.startswith("Answer each of the following"):
            return "Answer 1: 5\nAnswer 2: No, it is 5."
        if p.startswith("Answer the following question"):
            return "5" if "What is 2+3?" in p else "No, the sum is 5."
        if p.startswith("Here is a draft response, a question"):
            return cross
        if p.startswith("Here are verification questions"):
            return FINAL
        return BASELINE

    return reply


async def test_factored_answers_each_question_alone_then_revises() -> None:
    ctx = make_ctx(script())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("plan", 1),
        ("verify", 1),
        ("verify", 1),
        ("refine", 1),
    ]
    verify = [c for c in calls if c.role == "verify"]
    # Factored: one fresh single-message context per question, no baseline, no other question.
    assert all(len(c.messages) == 1 for c in verify)
    assert not any(BASELINE in c.messages[0].content for c in verify)
    assert sum("Is 6 the sum" in c.messages[0].content for c in verify) == 1
    final = calls[-1].messages
    assert final[1].content == BASELINE  # the final step continues the baseline's conversation
    assert "Answer 1: 5" in final[-1].content and "Answer 2: No, the sum is 5." in final[-1].content
    assert "End with 'Answer: <number>'." in final[-1].content
    assert [(c.round, c.response) for c in result.checkpoints] == [(0, BASELINE), (1, FINAL)]
    assert result.notes["verification_questions"] == ["What is 2+3?", "Is 6 the sum of 2 and 3?"]
    assert result.feedback_kinds == ["intrinsic"]


async def test_two_step_answers_the_questions_together_without_the_baseline() -> None:
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("chain_of_verification", mode="two_step"), make_ctx(script())
        )
    assert [c.role for c in calls] == ["draft", "plan", "verify", "refine"]
    verify = calls[2].messages
    assert len(verify) == 1 and BASELINE not in verify[0].content
    assert "Answer 2: No, it is 5." in calls[-1].messages[-1].content
    assert "unanswered_questions" not in result.notes or result.notes["unanswered_questions"] == 0


async def test_joint_plans_and_answers_in_one_call_that_sees_the_baseline() -> None:
    with capture_calls() as calls:
        await run_strategy(get_strategy("chain_of_verification", mode="joint"), make_ctx(script()))
    assert [c.role for c in calls] == ["draft", "plan", "refine"]
    assert BASELINE in calls[1].messages[0].content
    assert "Answer 1: 5" in calls[-1].messages[-1].content


async def test_factor_revise_cross_checks_and_counts_unreadable_verdicts() -> None:
    ctx = make_ctx(script(cross="Hard to say."))
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("chain_of_verification", mode="factor_revise"), ctx
        )
    assert [c.role for c in calls].count("cross_check") == 2
    assert result.notes["cross_check_parse_failures"] == 2
    assert "Agreement with your response: unclear" in calls[-1].messages[-1].content


async def test_unreadable_plan_is_counted_and_the_baseline_stands() -> None:
    ctx = make_ctx(script(plan="I would check the sum."))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification"), ctx)
    assert [c.role for c in calls] == ["draft", "plan"]
    assert result.notes["plan_parse_failures"] == 1
    assert result.final_response == BASELINE
    assert "baseline kept" in result.stop_reason


async def test_max_questions_caps_the_plan_and_counts_the_rest() -> None:
    plan = "\n".join(f"{i}. Question number {i}?" for i in range(1, 8))
    ctx = make_ctx(script(plan=plan))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification", max_questions=3), ctx)
    assert [c.role for c in calls].count("verify") == 3
    assert result.notes["questions_dropped"] == 4


async def test_factored_group_that_does_not_fit_the_budget_makes_no_call() -> None:
    ctx = make_ctx(script(), budget=Budget(max_calls=3))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification"), ctx)
    assert [c.role for c in calls] == ["draft", "plan"]
    assert result.stop_reason.startswith("budget: max_calls=3")
    assert result.final_response == BASELINE


def test_parsers_never_guess() -> None:
    assert parse_cross_check("ok [[CONSISTENT]]") is True
    assert parse_cross_check("[[consistent]] no wait [[INCONSISTENT]]") is False
    assert parse_cross_check("consistent") is None
    assert parse_numbered_answers("Answer 1: 5\nmore\nQuestion 2: x\nAnswer 3: y", 3) == [
        "5 more",
        None,
        "y",
    ]
