"""``iort`` (Liu et al. 2025): reflect; on differing answers the instructor selects, on agreeing
answers it stops or refreshes (Section 4.3)."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy import iort as iort_module
from reflectlab.strategy.iort import parse_decision, parse_selection
from support.numbers import make_ctx

TASK = "What is 2+3?\nEnd with 'Answer: <number>'."
STOP = "Both are sound. Decision: Stop iteration."
REFRESH = "Both miss the second addend. Decision: Refreshing the response."


def script(
    answers: list[str], decisions: list[str], meta: str = "Add the two numbers."
) -> Callable[[MockRequest], str]:
    """Answers (draft, reflective and refreshed responses) and instructor replies in order;
    the reflector's feedback is a fixed text."""
    pending, verdicts = list(answers), list(decisions)

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if "Write a meta-thought" in p:
            return meta
        if p.startswith("What's the problem with the above answer?"):
            return "The sum is wrong."
        if p.startswith("You are the instructor"):
            return verdicts.pop(0)
        return pending.pop(0)

    return reply


async def test_agreeing_answers_and_a_stop_instruction_end_the_loop() -> None:
    ctx = make_ctx(script(["Answer: 5", "Here's the better answer: Answer: 5"], [STOP]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("iort"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("plan", 0),
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("judge", 1),
    ]
    # The meta-thinker and the draft see the question only; the meta-thought reaches the
    # instructor, not the solver.
    assert TASK in calls[0].messages[0].content
    assert [m.content for m in calls[1].messages] == [TASK]
    # The reflector: feedback on the basic response, then a reflective response, one thread.
    assert [m.content for m in calls[3].messages[:3]] == [
        TASK,
        "Answer: 5",
        iort_module.FEEDBACK_PROMPT,
    ]
    assert calls[3].messages[3].content == "The sum is wrong."
    judge = calls[4].messages[0].content
    assert judge.startswith("You are the instructor") and "reach the same answer" in judge
    assert "Meta-thought:\nAdd the two numbers." in judge
    assert "COT 1:\nAnswer: 5\nExtracted answer: 5" in judge
    assert result.notes["instructions"] == ["stop"]
    assert result.stop_reason == "instruction stop in round 1"
    # Agreement: the output of the iteration is the basic response.
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 5"),
        (1, "Answer: 5"),
    ]
    assert result.feedback_kinds == ["intrinsic"]


async def test_differing_answers_are_selected_and_the_choice_is_reflected_on_next() -> None:
    answers = ["Answer: 6", "Here's the better answer: Answer: 5", "Answer: 5"]
    decisions = ["COT 2 adds correctly. Better COT after comparison: COT 2", STOP]
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("iort"), make_ctx(script(answers, decisions)))
    assert [(c.role, c.round) for c in calls] == [
        ("plan", 0),
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("judge", 1),
        ("feedback", 2),
        ("refine", 2),
        ("judge", 2),
    ]
    select = calls[4].messages[0].content
    assert "reach different answers" in select
    assert "COT 1:\nAnswer: 6\nExtracted answer: 6" in select
    assert "COT 2:\nHere's the better answer: Answer: 5\nExtracted answer: 5" in select
    # Selection does not stop: the selected response is the next iteration's basic response.
    assert calls[5].messages[1].content == "Here's the better answer: Answer: 5"
    assert result.notes["instructions"] == ["select", "stop"]
    assert [c.response for c in result.checkpoints] == [
        "Answer: 6",
        "Here's the better answer: Answer: 5",
        "Here's the better answer: Answer: 5",
    ]


async def test_refresh_replaces_the_next_reflection_with_a_new_answer() -> None:
    answers = ["Answer: 4", "Here's the better answer: Answer: 4", "Answer: 5"]
    decisions = [REFRESH, "The new one is right. Better COT after comparison: COT 2"]
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("iort", max_rounds=2), make_ctx(script(answers, decisions))
        )
    assert [(c.role, c.round) for c in calls] == [
        ("plan", 0),
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("judge", 1),
        ("refresh", 2),
        ("judge", 2),
    ]
    refresh = calls[5].messages
    assert [m.content for m in refresh] == [TASK]  # a new answer to the question alone
    # Iteration 2 compares the unchanged basic response with the refreshed one.
    select = calls[6].messages[0].content
    assert "COT 1:\nAnswer: 4\n" in select and "COT 2:\nAnswer: 5\n" in select
    assert result.notes["instructions"] == ["refresh", "select"]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 4"),
        (2, "Answer: 5"),
    ]
    assert result.stop_reason == "max_rounds=2"


async def test_refresh_in_the_last_iteration_makes_no_new_answer() -> None:
    answers = ["Answer: 4", "Answer: 4"]
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("iort", max_rounds=1), make_ctx(script(answers, [REFRESH]))
        )
    assert [c.role for c in calls] == ["plan", "draft", "feedback", "refine", "judge"]
    assert result.final_response == "Answer: 4"


async def test_unreadable_instructions_are_counted_and_never_guessed() -> None:
    answers = ["Answer: 4", "Answer: 6", "Answer: 4", "Answer: 4"]
    ctx = make_ctx(script(answers, ["Hard to say.", "Both look fine."]))
    result = await run_strategy(get_strategy("iort", max_rounds=2), ctx)
    # The selection is unreadable: the basic response stays; the stop is unreadable: no stop.
    assert result.notes["unparsed_instructions"] == 2
    assert result.notes["instructions"] == ["select", "refresh"]
    assert [c.response for c in result.checkpoints] == ["Answer: 4", "Answer: 4", "Answer: 4"]
    assert result.stop_reason == "max_rounds=2"


async def test_every_call_is_sampled_at_the_papers_temperature() -> None:
    with capture_calls() as calls:
        await run_strategy(
            get_strategy("iort"), make_ctx(script(["Answer: 5", "Answer: 5"], [STOP]))
        )
    assert {c.config.temperature for c in calls} == {0.3}


async def test_budget_stop_keeps_the_last_output() -> None:
    ctx = make_ctx(script(["Answer: 4", "Answer: 6"], []), budget=Budget(max_calls=4))
    result = await run_strategy(get_strategy("iort"), ctx)
    assert result.stop_reason.startswith("budget: max_calls=4")
    assert result.final_response == "Answer: 4"


def test_parsers_read_the_last_decision_line() -> None:
    assert parse_selection("Better COT after comparison: COT 1") == 1
    assert parse_selection("COT 1? no. Better Code after comparison: **Code 2**") == 2
    assert parse_selection("COT 2 is better") is None
    assert parse_decision("Decision: Stop iteration.") == "stop"
    assert parse_decision("Decision: Refreshing the response.") == "refresh"
    assert parse_decision("I would stop here.") is None


def test_strategies_show_prints_the_default_templates() -> None:
    runner = CliRunner()
    shown = json.loads(runner.invoke(app, ["strategies", "show", "iort", "--json"]).stdout)
    names = [
        "FEEDBACK_PROMPT",
        "META_PROMPT",
        "REFLECT_PROMPT",
        "SELECT_PROMPT",
        "STOP_PROMPT",
    ]
    assert shown["prompt_templates"] == {name: getattr(iort_module, name) for name in names}
    assert shown["overridable_prompts"] == names
    assert shown["parameters"] == {"max_rounds": 4, "temperature": 0.3}
    plain = runner.invoke(app, ["strategies", "show", "iort"], terminal_width=200).stdout
    assert all(f"{name}  (overridable)" in plain for name in names)
