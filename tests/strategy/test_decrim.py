"""``decrim`` (Ferraz et al. 2024): decompose, critique per constraint, refine, stop rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy._parsing import parse_list
from reflectlab.strategy.decrim import parse_constraint_verdict
from support.numbers import NumberTask, make_ctx

CONSTRAINTS = "1. Answer the question 2+3.\n2. End with 'Answer: <number>'."
DRAFT = "It is 5."
REFINED = "2+3 is 5. Answer: 5"


def script(
    constraints: str = CONSTRAINTS, verdict: Callable[[str, str], str] | None = None
) -> Callable[[MockRequest], str]:
    """Replies by prompt. The critique of the format constraint fails until the response
    ends with "Answer: N"; ``verdict(constraint, response)`` may override."""

    def default_verdict(constraint: str, response: str) -> str:
        if "End with" in constraint and "Answer:" not in response:
            return "The response does not end with 'Answer: 5'. [[NO]]"
        return "Satisfied. [[YES]]"

    judge = verdict or default_verdict

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith("Break the instruction"):
            return constraints
        if "Does the response satisfy this constraint?" in p:
            constraint = p.split("Constraint:\n", 1)[1].split("\n\n", 1)[0]
            response = p.split("Response:\n", 1)[1].split("\n\nConstraint:", 1)[0]
            return judge(constraint, response)
        if p.startswith("Your response does not yet satisfy"):
            return REFINED
        return DRAFT

    return reply


async def test_decompose_critique_each_refine_then_stop_when_all_met() -> None:
    ctx = make_ctx(script())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("decrim"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("decompose", 0),
        ("feedback", 1),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
        ("feedback", 2),
    ]
    assert result.notes["constraints"] == [
        "Answer the question 2+3.",
        "End with 'Answer: <number>'.",
    ]
    assert result.notes["unmet_by_round"] == [1, 0]
    assert [(c.round, c.response) for c in result.checkpoints] == [(0, DRAFT), (1, REFINED)]
    assert result.stop_reason == "feedback said correct in round 2"
    assert result.feedback_kinds == ["intrinsic"]
    assert len(result.feedback) == 4  # one recorded critique per constraint per round


async def test_refiner_sees_only_the_failed_constraints_and_their_critique() -> None:
    with capture_calls() as calls:
        await run_strategy(get_strategy("decrim"), make_ctx(script()))
    refine = next(c for c in calls if c.role == "refine")
    message = refine.messages[-1].content
    assert "End with 'Answer: <number>'." in message
    assert "does not end with 'Answer: 5'" in message
    assert "Answer the question 2+3." not in message
    # The refiner continues its own conversation: the instruction and its draft come first.
    assert [m.content for m in refine.messages[:2]] == [calls[0].messages[0].content, DRAFT]
    critiques = [c for c in calls if c.role == "feedback" and c.round == 1]
    assert {c.messages[0].content.count(DRAFT) for c in critiques} == {1}


async def test_unparseable_decomposition_falls_back_to_the_whole_instruction() -> None:
    ctx = make_ctx(script(constraints="I cannot list them, sorry."))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("decrim", max_rounds=1), ctx)
    assert result.notes["decompose_parse_failures"] == 1
    assert result.notes["constraints"] == ["What is 2+3?\nEnd with 'Answer: <number>'."]
    assert sum(c.role == "feedback" for c in calls) == 1


async def test_unreadable_verdict_counts_as_unmet_and_is_counted() -> None:
    ctx = make_ctx(script(verdict=lambda c, r: "Looks fine to me."))
    result = await run_strategy(get_strategy("decrim", max_rounds=2), ctx)
    assert result.notes["critique_parse_failures"] == 4
    assert [c.round for c in result.checkpoints] == [0, 1, 2]
    assert result.stop_reason == "max_rounds=2"
    assert result.final_response == REFINED


async def test_critic_model_critiques_each_constraint() -> None:
    ctx = make_ctx(script(), critic_outputs=["Fine. [[YES]]", "Fine. [[YES]]"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("decrim", feedback="critic"), ctx)
    assert [(c.role, c.model) for c in calls] == [
        ("draft", "mock/solver"),
        ("decompose", "mock/solver"),
        ("feedback", "mock/critic"),
        ("feedback", "mock/critic"),
    ]
    assert result.feedback_kinds == ["critic"]
    assert result.final_response == DRAFT


async def test_critic_feedback_without_a_critic_model_is_a_config_error() -> None:
    result = await run_strategy(get_strategy("decrim", feedback="critic"), make_ctx(script()))
    assert result.calls == 0
    assert result.error is not None and "needs a critic model" in result.error


async def test_tool_feedback_uses_the_task_check_and_no_decomposer() -> None:
    ctx = make_ctx(["I think it's five", REFINED], NumberTask(with_check=True))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("decrim", feedback="tool"), ctx)
    assert [c.role for c in calls] == ["draft", "refine"]
    assert "No number found" in calls[1].messages[-1].content
    assert result.feedback_kinds == ["tool"]
    assert result.final_response == REFINED
    assert result.stop_reason == "feedback said correct in round 2"


async def test_oracle_feedback_marks_the_run() -> None:
    ctx = make_ctx(["Answer: 4", "Answer: 5"])
    result = await run_strategy(get_strategy("decrim", feedback="oracle"), ctx)
    assert result.oracle_assisted
    assert result.feedback_kinds == ["oracle"]
    assert result.final_response == "Answer: 5"


async def test_budget_stops_before_a_partial_critique() -> None:
    ctx = make_ctx(script(), budget=Budget(max_calls=3))
    result = await run_strategy(get_strategy("decrim"), ctx)
    assert result.calls == 2  # draft + decompose; the 2 critiques do not fit in 1 call
    assert result.stop_reason.startswith("budget: max_calls=3")
    assert result.final_response == DRAFT


async def test_many_constraints_are_truncated_and_counted() -> None:
    many = "\n".join(f"{i}. Constraint number {i}." for i in range(1, 6))
    ctx = make_ctx(script(constraints=many, verdict=lambda c, r: "[[YES]]"))
    result = await run_strategy(get_strategy("decrim", max_constraints=3), ctx)
    assert len(result.notes["constraints"]) == 3
    assert result.notes["constraints_truncated"] == 2
    assert result.calls == 2 + 3


def test_list_and_verdict_parsers() -> None:
    assert parse_list("Here you go:\n1) First.\n2. Second.\n* Third.\n- first.") == [
        "First.",
        "Second.",
        "Third.",
    ]
    assert parse_list('```json\n["Be brief.", "No commas."]\n```') == ["Be brief.", "No commas."]
    assert parse_list('1. Use the words ["a", "b"].') == ['Use the words ["a", "b"].']
    assert parse_list("No list at all.") == []
    assert parse_constraint_verdict("ok [[ yes ]]") == "correct"
    assert parse_constraint_verdict("[[YES]] ... on reflection [[NO]]") == "incorrect"
    assert parse_constraint_verdict("yes") == "unknown"


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        get_strategy("decrim", max_constraints=0)
    with pytest.raises(ConfigError, match="cannot use feedback"):
        get_strategy("decrim", feedback="gold")
