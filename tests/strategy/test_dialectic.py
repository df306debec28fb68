"""``dialectic`` (Abdali et al. 2025): thesis -> antithesis -> synthesis, temperature schedules."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy import dialectic as dialectic_module
from reflectlab.strategy.dialectic import temperatures
from support.numbers import make_ctx


async def test_synthesis_becomes_the_next_thesis() -> None:
    ctx = make_ctx(["T0 Answer: 6", "A1 it is 5", "S1 Answer: 5", "A2 maybe 4", "S2 Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("dialectic", max_rounds=2), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
        ("refine", 2),
    ]
    assert "T0 Answer: 6" in calls[1].messages[0].content
    synthesis1 = calls[2].messages[0].content
    assert "T0 Answer: 6" in synthesis1 and "A1 it is 5" in synthesis1
    assert synthesis1.endswith("End with 'Answer: <number>'.")
    # Round 2 argues against round 1's synthesis, not the first thesis.
    assert "S1 Answer: 5" in calls[3].messages[0].content
    assert "T0" not in calls[3].messages[0].content
    assert [c.response for c in result.checkpoints] == [
        "T0 Answer: 6",
        "S1 Answer: 5",
        "S2 Answer: 5",
    ]
    assert result.stop_reason == "max_rounds=2"
    assert result.feedback_kinds == ["intrinsic"]


async def test_fixed_and_annealed_temperatures_reach_the_calls() -> None:
    outputs = ["t", "a", "s", "a", "s", "a", "s"]
    with capture_calls() as calls:
        await run_strategy(get_strategy("dialectic", temperature=0.5), make_ctx(outputs))
    assert {c.config.temperature for c in calls} == {0.5}
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("dialectic", schedule="annealed", t_start=1.0, t_end=0.2),
            make_ctx(outputs),
        )
    assert [c.config.temperature for c in calls] == [1.0, 1.0, 1.0, 0.6, 0.6, 0.2, 0.2]
    assert result.notes["temperatures"] == [1.0, 1.0, 0.6, 0.2]


def test_schedule_edges_and_validation() -> None:
    assert temperatures("annealed", 1, 0.7, 1.0, 0.2) == [1.0, 1.0]
    assert temperatures("fixed", 2, 0.7, 1.0, 0.2) == [0.7, 0.7, 0.7]
    with pytest.raises(ConfigError):
        get_strategy("dialectic", schedule="annealed", t_start=0.2, t_end=1.0)


async def test_budget_stop_keeps_the_last_synthesis() -> None:
    ctx = make_ctx(["t Answer: 1", "a", "s Answer: 2", "a", "s"], budget=Budget(max_calls=4))
    result = await run_strategy(get_strategy("dialectic"), ctx)
    assert result.stop_reason.startswith("budget: max_calls=4")
    assert result.final_response == "s Answer: 2"


def test_strategies_show_prints_the_default_templates() -> None:
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["strategies", "show", "dialectic", "--json"]).stdout)
    names = ["ANTITHESIS_PROMPT", "SYNTHESIS_PROMPT"]
    assert shown["prompt_templates"] == {name: getattr(dialectic_module, name) for name in names}
    assert shown["overridable_prompts"] == names
    plain = runner.invoke(app, ["strategies", "show", "dialectic"], terminal_width=200).stdout
    assert all(f"{name}  (overridable)" in plain for name in names)
