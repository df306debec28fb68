"""Control flow of the core strategies and the strategy contract, with the mock provider."""

from __future__ import annotations

from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, list_strategies, run_strategy
from support.numbers import NumberTask, make_ctx


async def test_direct_one_draft_call_and_checkpoint() -> None:
    ctx = make_ctx(["Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("direct"), ctx)
    assert [c.role for c in calls] == ["draft"]
    assert result.final_response == "Answer: 5"
    assert [c.round for c in result.checkpoints] == [0]
    assert result.stop_reason == "completed"


async def test_self_refine_stops_when_feedback_says_correct() -> None:
    ctx = make_ctx(
        [
            "Answer: 4",
            "Step 2 is wrong. [[INCORRECT]]",
            "Answer: 5",
            "All steps check out. [[CORRECT]]",
        ]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_refine", max_rounds=3), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
    ]
    assert [c.response for c in result.checkpoints] == ["Answer: 4", "Answer: 5"]
    assert result.final_response == "Answer: 5"
    assert "round 2" in result.stop_reason
    assert result.feedback_kinds == ["intrinsic"]
    assert not result.oracle_assisted


async def test_self_refine_refiner_sees_previous_answer_and_feedback() -> None:
    ctx = make_ctx(
        [
            "Answer: 4",
            "You added wrong: 2+3 is not 4. [[INCORRECT]]",
            "Answer: 5",
            "[[INCORRECT]] still unsure",
            "Answer: 5",
            "[[INCORRECT]]",
            "Answer: 5",
        ]
    )
    with capture_calls() as calls:
        await run_strategy(get_strategy("self_refine", max_rounds=3), ctx)
    refine = next(c for c in calls if c.role == "refine")
    texts = [m.content for m in refine.messages]
    assert "Answer: 4" in texts
    assert any("2+3 is not 4" in t for t in texts)
    # Successive rounds extend one conversation: each prompt is a prefix of the next.
    draft_msgs, refine_msgs = calls[0].messages, refine.messages
    assert refine_msgs[: len(draft_msgs)] == draft_msgs


async def test_self_refine_max_rounds_and_unparseable_verdict_never_stops() -> None:
    ctx = make_ctx(["Answer: 4", "hmm", "Answer: 6", "hmm", "Answer: 7"])
    result = await run_strategy(get_strategy("self_refine", max_rounds=2), ctx)
    assert [c.round for c in result.checkpoints] == [0, 1, 2]
    assert result.stop_reason == "max_rounds=2"
    assert all(f.verdict == "unknown" for f in result.feedback)


async def test_budget_stop_keeps_last_checkpoint() -> None:
    ctx = make_ctx(
        ["Answer: 4", "[[INCORRECT]]", "Answer: 5", "[[INCORRECT]]", "Answer: 6"],
        budget=Budget(max_calls=3),
    )
    result = await run_strategy(get_strategy("self_refine", max_rounds=3), ctx)
    assert result.stop_reason.startswith("budget: max_calls=3")
    assert result.final_response == "Answer: 5"
    assert result.calls == 3


async def test_oracle_feedback_marks_the_run() -> None:
    ctx = make_ctx(["Answer: 4", "Answer: 5"])
    result = await run_strategy(get_strategy("self_refine", feedback="oracle"), ctx)
    assert result.oracle_assisted
    assert result.feedback_kinds == ["oracle"]
    assert result.final_response == "Answer: 5"
    assert result.feedback[0].text.startswith("Your answer is incorrect")


async def test_critic_feedback_uses_the_critic_model() -> None:
    ctx = make_ctx(
        ["Answer: 4", "Answer: 5"], critic_outputs=["Wrong sum. [[INCORRECT]]", "Fine. [[CORRECT]]"]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_refine", feedback="critic"), ctx)
    assert [c.model for c in calls] == ["mock/solver", "mock/critic", "mock/solver", "mock/critic"]
    assert result.feedback_kinds == ["critic"]
    assert "Wrong sum." in calls[2].messages[-1].content


async def test_self_consistency_samples_distinct_indices_and_votes() -> None:
    ctx = make_ctx(["Answer: 4", "Answer: 5", "no idea", "Answer: 5", "Answer: 4.0"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_consistency", n=5), ctx)
    assert sorted(c.sample_index for c in calls) == [0, 1, 2, 3, 4]
    assert {c.role for c in calls} == {"vote"}
    # "4" and "4.0" normalise equal: 4 gets two votes, 5 gets two; the tie goes to first seen.
    assert result.notes["votes"] == {"4": 2, "5": 2}
    assert result.final_response == "Answer: 4"


async def test_model_error_is_a_counted_failure_not_an_exception() -> None:
    ctx = make_ctx([])  # the script is empty: the first call fails
    result = await run_strategy(get_strategy("direct"), ctx)
    assert result.final_response is None
    assert result.stop_reason == "strategy_error"
    assert result.error


async def test_tool_feedback_uses_task_check_text() -> None:
    task = NumberTask(with_check=True)
    ctx = make_ctx(["I think it's five", "Answer: 5"], task)
    result = await run_strategy(get_strategy("self_refine", feedback="tool"), ctx)
    assert result.feedback[0].kind == "tool"
    assert "No number found" in result.feedback[0].text
    assert result.final_response == "Answer: 5"


def test_registry_lists_paper_and_parameters() -> None:
    info = {s.name: s for s in list_strategies()}
    assert info["self_refine"].year == 2023
    assert "max_rounds" in info["self_refine"].params
    assert "oracle" in info["self_refine"].feedback
