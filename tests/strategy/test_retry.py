"""retry: a fresh sample of the same prompt while the evaluator does not say "correct"."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.retry import parse_yes_no
from support.numbers import NumberTask, make_ctx


async def test_intrinsic_verification_then_resample_until_it_says_correct() -> None:
    ctx = make_ctx(["Answer: 4", "2+3 is not 4.\nCorrect: no", "Answer: 5", "Correct: yes"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("retry", max_rounds=3), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("draft", 1),
        ("feedback", 2),
    ]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 5"),
    ]
    assert result.final_response == "Answer: 5"
    assert result.stop_reason == "feedback said correct in round 2"
    assert result.feedback_kinds == ["intrinsic"]
    assert [f.verdict for f in result.feedback] == ["incorrect", "correct"]
    # The verifier sees the task and the answer to check.
    assert [m.content for m in calls[1].messages][1] == "Answer: 4"


async def test_a_resample_is_the_same_prompt_without_any_critique() -> None:
    ctx = make_ctx(["Answer: 4", "Mistake in step 2.\nCorrect: no", "Answer: 5", "Correct: yes"])
    with capture_calls() as calls:
        await run_strategy(get_strategy("retry"), ctx)
    first, second = (c for c in calls if c.role == "draft")
    assert second.messages == first.messages
    assert not any("Mistake in step 2" in m.content for m in second.messages)
    assert (first.sample_index, second.sample_index) == (0, 1)  # distinct cacheable samples
    assert first.config.temperature == second.config.temperature == 0.7


async def test_oracle_signal_marks_the_run_and_costs_no_call() -> None:
    ctx = make_ctx(["Answer: 4", "Answer: 6", "Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("retry", feedback="oracle"), ctx)
    assert [c.role for c in calls] == ["draft", "draft", "draft"]
    assert result.final_response == "Answer: 5"
    assert result.oracle_assisted
    assert result.feedback_kinds == ["oracle"]
    assert result.stop_reason == "feedback said correct in round 3"


async def test_tool_signal_is_the_task_check() -> None:
    ctx = make_ctx(["five, I think", "Answer: 5"], NumberTask(with_check=True))
    result = await run_strategy(get_strategy("retry", feedback="tool"), ctx)
    assert result.feedback[0].kind == "tool"
    assert "No number found" in result.feedback[0].text
    assert result.final_response == "Answer: 5"
    assert not result.oracle_assisted


async def test_unparseable_verification_is_unknown_counted_and_retried() -> None:
    ctx = make_ctx(["Answer: 4", "hmm", "Answer: 6", "Maybe?", "Answer: 7"])
    result = await run_strategy(get_strategy("retry", max_rounds=2), ctx)
    assert [c.round for c in result.checkpoints] == [0, 1, 2]
    assert result.stop_reason == "max_rounds=2"
    assert result.notes["unknown_verdicts"] == 2
    assert result.final_response == "Answer: 7"


async def test_budget_stop_keeps_the_last_attempt() -> None:
    ctx = make_ctx(
        ["Answer: 4", "Correct: no", "Answer: 6", "Correct: no", "Answer: 5"],
        budget=Budget(max_calls=3),
    )
    result = await run_strategy(get_strategy("retry"), ctx)
    assert result.stop_reason == "budget: max_calls=3 reached"
    assert result.calls == 3
    assert result.final_response == "Answer: 6"


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("All good.\nCorrect: yes", "correct"),
        ("**Correct:** No", "incorrect"),
        ("Correct: yes\nWait, no.\nCorrect: no", "incorrect"),
        ("I think it is correct", "unknown"),
        ("", "unknown"),
    ],
)
def test_parse_yes_no(text: str, verdict: str) -> None:
    assert parse_yes_no(text) == verdict


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="temperature"):
        get_strategy("retry", temperature=0.0)
    with pytest.raises(ConfigError, match="cannot use feedback"):
        get_strategy("retry", feedback="vibes")
