"""reflexion: trial -> evaluator -> verbal reflection into a bounded memory -> next trial."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from support.numbers import NumberTask, make_ctx

REFLECTION = "I added 2 and 3 wrongly. Plan: add the units carefully, then check."


async def test_oracle_evaluator_reflection_reaches_the_next_trial() -> None:
    ctx = make_ctx(["Answer: 4", REFLECTION, "Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reflexion", feedback="oracle"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0), ("reflect", 1), ("refine", 1)]
    reflect_prompt = calls[1].messages[-1].content
    assert "Answer: 4" in reflect_prompt  # the failed trial
    assert "Your answer is incorrect" in reflect_prompt  # the evaluator's feedback text
    trial_prompt = calls[2].messages[-1].content
    assert trial_prompt.startswith(calls[0].messages[-1].content)  # task prompt as the prefix
    assert REFLECTION in trial_prompt
    assert result.final_response == "Answer: 5"
    assert [c.round for c in result.checkpoints] == [0, 1]
    assert result.stop_reason == "feedback said correct in round 2"
    assert result.oracle_assisted
    assert result.notes["memory"] == [REFLECTION]


async def test_memory_keeps_only_the_last_reflections() -> None:
    outputs = ["Answer: 1", "R-one", "Answer: 2", "R-two", "Answer: 3", "R-three", "Answer: 4"]
    ctx = make_ctx(outputs)
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("reflexion", feedback="oracle", max_rounds=3, memory_size=2), ctx
        )
    trials = [c.messages[-1].content for c in calls if c.role == "refine"]
    assert "R-one" in trials[0]
    assert "R-one" in trials[1] and "R-two" in trials[1]
    assert "R-one" not in trials[2] and "R-two" in trials[2] and "R-three" in trials[2]
    assert result.notes["memory"] == ["R-two", "R-three"]
    assert result.stop_reason == "max_rounds=3"
    assert [c.round for c in result.checkpoints] == [0, 1, 2, 3]


async def test_intrinsic_evaluator_is_the_models_own_yes_no_check() -> None:
    ctx = make_ctx(
        ["Answer: 4", "4 is too small.\nCorrect: no", REFLECTION, "Answer: 5", "Correct: yes"]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reflexion"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("reflect", 1),
        ("refine", 1),
        ("feedback", 2),
    ]
    assert "4 is too small." in calls[2].messages[-1].content
    assert result.feedback_kinds == ["intrinsic"]
    assert not result.oracle_assisted
    assert result.final_response == "Answer: 5"


async def test_tool_evaluator_feedback_reaches_the_reflection() -> None:
    ctx = make_ctx(["five", "I forgot the format.", "Answer: 5"], NumberTask(with_check=True))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reflexion", feedback="tool"), ctx)
    assert "No number found" in calls[1].messages[-1].content
    assert result.feedback_kinds == ["tool"]
    assert result.final_response == "Answer: 5"


async def test_unparseable_verdicts_are_counted_and_a_blank_reflection_is_retried() -> None:
    # A blank reply never reaches the strategy: the model layer rejects and retries it.
    first = "I should check the sum digit by digit."
    ctx = make_ctx(
        ["Answer: 4", "no idea", "   ", first, "Answer: 6", "dunno", REFLECTION, "Answer: 7"]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reflexion", max_rounds=2), ctx)
    assert result.notes["unknown_verdicts"] == 2
    assert result.notes["memory"] == [first, REFLECTION]
    reflect = [c for c in calls if c.role == "reflect"]
    assert [c.invalid_replies for c in reflect] == [1, 0]
    assert result.final_response == "Answer: 7"
    assert result.error is None


async def test_budget_stop_keeps_the_last_trial() -> None:
    ctx = make_ctx(["Answer: 4", REFLECTION, "Answer: 5"], budget=Budget(max_calls=2))
    result = await run_strategy(get_strategy("reflexion", feedback="oracle"), ctx)
    assert result.stop_reason == "budget: max_calls=2 reached"
    assert result.final_response == "Answer: 4"
    assert result.calls == 2


def test_memory_size_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="memory_size"):
        get_strategy("reflexion", memory_size=0)


async def test_an_unparseable_verdict_is_not_reported_to_the_model_as_a_failure() -> None:
    ctx = make_ctx(["Answer: 4", "Looks fine to me.", REFLECTION, "Answer: 5", "Correct: yes"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("reflexion", max_rounds=2), ctx)
    assert result.feedback[0].verdict == "unknown"
    reflect_prompt = next(c for c in calls if c.role == "reflect").messages[-1].content
    assert "judged wrong" not in reflect_prompt
    assert "could not be confirmed" in reflect_prompt
    trial = next(c for c in calls if c.role == "refine").messages[-1].content
    assert "and failed" not in trial and "without a confirmed success" in trial
    assert result.notes["unknown_verdicts"] == 1


async def test_a_verdict_of_incorrect_keeps_the_papers_wording() -> None:
    ctx = make_ctx(["Answer: 4", "Correct: no", REFLECTION, "Answer: 5", "Correct: yes"])
    with capture_calls() as calls:
        await run_strategy(get_strategy("reflexion"), ctx)
    reflect_prompt = next(c for c in calls if c.role == "reflect").messages[-1].content
    assert "your answer was judged wrong" in reflect_prompt
    trial = next(c for c in calls if c.role == "refine").messages[-1].content
    assert "You have attempted this task before and failed." in trial


async def test_retry_is_the_exact_control_its_draft_is_the_same_cached_request() -> None:
    script = ["Answer: 4", "Correct: no", REFLECTION, "Answer: 5", "Correct: yes"]
    drafts = []
    for name in ("reflexion", "retry"):
        with capture_calls() as calls:
            await run_strategy(get_strategy(name), make_ctx(script))
        drafts.append(calls[0])
        # the evaluator's request is the same too
        assert calls[1].role == "feedback"
    reflexion_draft, retry_draft = drafts
    assert reflexion_draft.request_hash == retry_draft.request_hash
    assert reflexion_draft.messages == retry_draft.messages
    assert reflexion_draft.config.temperature == retry_draft.config.temperature == 0.7
    assert reflexion_draft.sample_index == retry_draft.sample_index == 0
