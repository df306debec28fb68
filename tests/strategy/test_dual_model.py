"""``dual_model`` (Li et al. 2025, DARS): a Reasoner refines under a separate Critic model."""

from __future__ import annotations

from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from support.numbers import make_ctx

STEPS_WRONG = "Step 1: 2+3 means adding. Step 2: 2+3=4. Answer: 4"
STEPS_RIGHT = "Step 1: 2+3 means adding. Step 2: 2+3=5. Answer: 5"
CRITIQUE = "Step 2 is wrong: 2+3 is 5, not 4; redo the addition. [[INCORRECT]]"


async def test_reasoner_and_critic_roles_stop_when_the_critic_accepts() -> None:
    ctx = make_ctx(
        [STEPS_WRONG, STEPS_RIGHT], critic_outputs=[CRITIQUE, "All steps are right. [[CORRECT]]"]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("dual_model", max_rounds=3), ctx)
    assert [(c.role, c.round, c.model) for c in calls] == [
        ("draft", 0, "mock/solver"),
        ("feedback", 1, "mock/critic"),
        ("refine", 1, "mock/solver"),
        ("feedback", 2, "mock/critic"),
    ]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, STEPS_WRONG),
        (1, STEPS_RIGHT),
    ]
    assert result.stop_reason == "feedback said correct in round 2"
    assert result.feedback_kinds == ["critic"]
    assert not result.oracle_assisted


async def test_prompts_carry_the_roles_and_the_critique_reaches_the_reasoner() -> None:
    ctx = make_ctx([STEPS_WRONG, STEPS_RIGHT], critic_outputs=[CRITIQUE, "[[CORRECT]]"])
    with capture_calls() as calls:
        await run_strategy(get_strategy("dual_model"), ctx)
    reasoner, critic, refine = calls[0], calls[1], calls[2]
    assert "numbering your steps" in reasoner.messages[-1].content
    # The critic reads the task and the reasoning in a fresh conversation of its own.
    assert len(critic.messages) == 1
    critic_prompt = critic.messages[0].content
    assert "Critic" in critic_prompt and "first wrong step" in critic_prompt
    assert "What is 2+3?" in critic_prompt and STEPS_WRONG in critic_prompt
    # The reasoner refines on its own conversation, with the critique as the new message.
    assert refine.messages[1].content == STEPS_WRONG
    assert CRITIQUE in refine.messages[-1].content


async def test_unreadable_critic_verdict_never_stops_the_loop() -> None:
    ctx = make_ctx(
        [STEPS_WRONG, STEPS_RIGHT, STEPS_RIGHT], critic_outputs=["Hmm, hard to say.", "Maybe."]
    )
    result = await run_strategy(get_strategy("dual_model", max_rounds=2), ctx)
    assert [c.round for c in result.checkpoints] == [0, 1, 2]
    assert result.stop_reason == "max_rounds=2"
    assert [f.verdict for f in result.feedback] == ["unknown", "unknown"]


async def test_missing_critic_model_is_a_clear_config_error_before_any_call() -> None:
    ctx = make_ctx([STEPS_WRONG])
    result = await run_strategy(get_strategy("dual_model"), ctx)
    assert result.calls == 0
    assert result.final_response is None
    assert result.error is not None
    assert "ConfigError" in result.error and "needs a separate critic model" in result.error


async def test_budget_stop_keeps_the_last_refinement() -> None:
    ctx = make_ctx(
        [STEPS_WRONG, STEPS_RIGHT, STEPS_RIGHT],
        critic_outputs=[CRITIQUE, CRITIQUE],
        budget=Budget(max_calls=4),
    )
    result = await run_strategy(get_strategy("dual_model", max_rounds=3), ctx)
    assert result.stop_reason.startswith("budget: max_calls=4")
    assert result.final_response == STEPS_RIGHT
    assert result.calls == 4
