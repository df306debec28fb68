"""``self_correct`` (Huang et al. 2023): review -> improve every round, no stop rule; the
oracle-stop variant goes through the oracle feedback kind."""

from __future__ import annotations

from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.self_correct import REVIEW_PROMPT
from support.numbers import make_ctx


async def test_two_rounds_of_review_then_improve_whatever_the_review_says() -> None:
    ctx = make_ctx(
        [
            "Answer: 5",
            "Your answer is correct, no problems. [[CORRECT]]",
            "Answer: 6",
            "I see a problem: the sum.",
            "Answer: 7",
        ]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_correct"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
        ("refine", 2),
    ]
    # No stop rule: a review that says "correct" does not stop the loop (right -> wrong).
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 5"),
        (1, "Answer: 6"),
        (2, "Answer: 7"),
    ]
    assert result.stop_reason == "max_rounds=2"
    assert result.feedback_kinds == ["intrinsic"]
    assert not result.oracle_assisted


async def test_prompts_are_the_papers_and_the_review_reaches_the_improve_turn() -> None:
    ctx = make_ctx(["Answer: 4", "Step 1 adds wrong.", "Answer: 5", "Fine.", "Answer: 5"])
    with capture_calls() as calls:
        await run_strategy(get_strategy("self_correct"), ctx)
    review, improve = calls[1], calls[2]
    assert review.messages[-1].content == REVIEW_PROMPT
    assert improve.messages[-1].content == (
        "Based on the problems you found, improve your answer. Please reiterate your answer. "
        "End with 'Answer: <number>'."
    )
    # One growing conversation: draft, review and its reply all precede the improve prompt.
    assert [m.content for m in improve.messages[1:4]] == [
        "Answer: 4",
        REVIEW_PROMPT,
        "Step 1 adds wrong.",
    ]
    assert improve.messages[: len(review.messages)] == review.messages


async def test_oracle_stop_marks_the_run_and_stops_at_a_correct_answer() -> None:
    ctx = make_ctx(["Answer: 4", "The sum is off.", "Answer: 5", "unused", "unused"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_correct", stop="oracle"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0), ("feedback", 1), ("refine", 1)]
    assert result.oracle_assisted
    assert result.feedback_kinds == ["intrinsic", "oracle"]
    assert result.stop_reason == "stop rule before round 2"
    assert result.final_response == "Answer: 5"
    # The gold label decides only the stop: its text never reaches a prompt.
    assert not any("incorrect" in m.content for c in calls for m in c.messages)


async def test_oracle_stop_on_a_correct_draft_makes_no_further_call() -> None:
    ctx = make_ctx(["Answer: 5"])
    result = await run_strategy(get_strategy("self_correct", stop="oracle"), ctx)
    assert result.calls == 1
    assert [c.round for c in result.checkpoints] == [0]
    assert result.oracle_assisted


async def test_budget_stop_keeps_the_last_improved_answer() -> None:
    ctx = make_ctx(["Answer: 4", "x", "Answer: 6", "y", "Answer: 7"], budget=Budget(max_calls=4))
    result = await run_strategy(get_strategy("self_correct"), ctx)
    assert result.stop_reason.startswith("budget: max_calls=4")
    assert result.final_response == "Answer: 6"
    assert [c.round for c in result.checkpoints] == [0, 1]


async def test_rounds_are_capped_by_the_budget_rounds() -> None:
    ctx = make_ctx(["Answer: 4", "x", "Answer: 6"], budget=Budget(max_rounds=1))
    result = await run_strategy(get_strategy("self_correct", rounds=2), ctx)
    assert [c.round for c in result.checkpoints] == [0, 1]
    assert result.stop_reason == "max_rounds=1"
