"""``debate`` (Du et al. 2023): agents, rounds, peer answers in prompts, majority, budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from support.numbers import make_ctx

# Three distinct first answers (letters carry no digits, so the extracted numbers are 4, 5, 4).
FIRST = ["Guess A. Answer: 4", "Guess B. Answer: 5", "Guess C. Answer: 4"]


def script(updated: str = "Peers convinced me. Answer: 5") -> Callable[[MockRequest], str]:
    """Round 0: the n-th call gives FIRST[n]; any later prompt (peers shown) gets ``updated``."""

    def reply(req: MockRequest) -> str:
        if "other agents" in req.prompt or "double check" in req.prompt:
            return updated
        return FIRST[(req.call_number - 1) % len(FIRST)]

    return reply


async def test_rounds_roles_sample_indices_and_majority_per_round() -> None:
    ctx = make_ctx(script())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("debate", agents=3, rounds=2), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0)] * 3 + [("debate", 1)] * 3 + [
        ("debate", 2)
    ] * 3
    # Identical round-0 requests are distinct calls, sampled at the paper's temperature.
    assert sorted(c.sample_index for c in calls[:3]) == [0, 1, 2]
    assert all(c.config.temperature == 1.0 for c in calls)
    assert [c.round for c in result.checkpoints] == [0, 1, 2]
    assert result.checkpoints[0].response == "Guess A. Answer: 4"  # majority 4 (2 votes of 3)
    assert result.final_response == "Peers convinced me. Answer: 5"
    assert result.notes["votes_by_round"] == [{"4": 2, "5": 1}, {"5": 3}, {"5": 3}]
    assert result.feedback_kinds == ["intrinsic"]
    assert not result.oracle_assisted
    assert result.calls == 9


async def test_each_agent_reads_the_others_answers_on_its_own_growing_conversation() -> None:
    ctx = make_ctx(script())
    with capture_calls() as calls:
        await run_strategy(get_strategy("debate", agents=3, rounds=1), ctx)
    firsts = {c.choices[0] for c in calls[:3]}
    assert firsts == set(FIRST)
    for update in calls[3:]:
        own = update.messages[-2]
        assert own.role == "assistant" and own.content in firsts
        peers = update.messages[-1].content
        assert own.content not in peers
        assert all(other in peers for other in firsts - {own.content})
        assert "What is 2+3?" in peers  # the original problem is restated
        # Prefix reuse: the update extends the agent's own round-0 conversation.
        assert update.messages[0].content == calls[0].messages[0].content


async def test_single_agent_double_checks_itself() -> None:
    ctx = make_ctx(script(updated="Checked. Answer: 5"))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("debate", agents=1, rounds=1), ctx)
    assert "double check" in calls[1].messages[-1].content
    assert result.final_response == "Checked. Answer: 5"


async def test_budget_stops_before_a_partial_round() -> None:
    ctx = make_ctx(script(), budget=Budget(max_calls=5))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("debate", agents=3, rounds=2), ctx)
    # Round 1 needs 3 calls and only 2 are left: no agent of round 1 speaks.
    assert len(calls) == 3
    assert result.stop_reason.startswith("budget: max_calls=5")
    assert result.final_response == "Guess A. Answer: 4"
    assert [c.round for c in result.checkpoints] == [0]


async def test_budget_max_rounds_caps_the_debate() -> None:
    ctx = make_ctx(script(), budget=Budget(max_rounds=1))
    result = await run_strategy(get_strategy("debate", agents=3, rounds=2), ctx)
    assert result.calls == 6
    assert result.stop_reason == "budget: max_rounds=1"


async def test_no_extractable_answer_is_kept_not_dropped() -> None:
    ctx = make_ctx(lambda req: "I am not sure.")
    result = await run_strategy(get_strategy("debate", agents=2, rounds=1), ctx)
    assert result.final_response == "I am not sure."
    assert result.notes["votes_by_round"] == [{}, {}]
    assert result.error is None


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"agents.*greater than or equal to 1"):
        get_strategy("debate", agents=0)
    with pytest.raises(ConfigError, match="rounds"):
        get_strategy("debate", rounds=-1)
