"""``stick`` (Cook et al. 2024): self-generated checklist as refinement feedback / selector."""

from __future__ import annotations

from collections.abc import Callable

from reflectlab.feedback.checklist import CHECKLIST_GENERATE, parse_checklist_answer
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from support.numbers import make_ctx

CHECKLIST = "- Does the response add 2 and 3?\n- Does it end with 'Answer: <number>'?"
GENERATE_START = CHECKLIST_GENERATE.split("{")[0][:40]


def script(
    drafts: list[str], checklist: str = CHECKLIST, answers: Callable[[str, str], str] | None = None
) -> Callable[[MockRequest], str]:
    pending = list(drafts)

    def default(question: str, response: str) -> str:
        if "end with" in question:
            return "[[YES]]" if "Answer:" in response else "It does not. [[NO]]"
        return "[[YES]]"

    judge = answers or default

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith(GENERATE_START):
            return checklist
        if p.startswith("Please act as an impartial judge"):
            response = p.split("[The Start of Assistant's Answer]\n", 1)[1].split("\n[The End", 1)[
                0
            ]
            return judge(p.rsplit("[Question]\n", 1)[1], response)
        return pending.pop(0)

    return reply


async def test_refine_with_the_checklist_until_every_item_passes() -> None:
    ctx = make_ctx(script(["It is 5.", "2+3 = 5. Answer: 5"]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("stick"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("checklist", 0),
        ("feedback", 1),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
        ("feedback", 2),
    ]
    refine = calls[4].messages
    assert refine[1].content == "It is 5."  # the refiner continues its own conversation
    assert "- [NO] Does it end with 'Answer: <number>'?" in refine[-1].content
    assert "- [YES] Does the response add 2 and 3?" in refine[-1].content
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "It is 5."),
        (1, "2+3 = 5. Answer: 5"),
    ]
    assert result.notes["pass_rate_by_round"] == [0.5, 1.0]
    assert result.stop_reason == "feedback said correct in round 2"
    assert result.feedback_kinds == ["intrinsic"]


async def test_unparsed_answers_are_counted_not_passed_and_shown_as_unchecked() -> None:
    ctx = make_ctx(script(["It is 5.", "Answer: 5"], answers=lambda q, r: "Hmm."))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("stick", max_rounds=1), ctx)
    assert result.notes["unparsed_checklist_answers"] == 2
    assert result.notes["pass_rate_by_round"] == [None]
    assert "[could not be checked]" in calls[-1].messages[-1].content
    assert [c.round for c in result.checkpoints] == [0, 1]


async def test_unreadable_checklist_keeps_the_draft() -> None:
    ctx = make_ctx(script(["It is 5."], checklist="Be correct."))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("stick"), ctx)
    assert [c.role for c in calls] == ["draft", "checklist"]
    assert result.notes["checklist_parse_failures"] == 1
    assert "draft kept" in result.stop_reason


async def test_best_of_n_picks_the_highest_pass_rate() -> None:
    ctx = make_ctx(script(["It is 5.", "Answer: 5", "It is 6."]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("stick", mode="best_of_n", n=3), ctx)
    assert [c.role for c in calls].count("feedback") == 6
    assert {c.config.temperature for c in calls if c.role == "draft"} == {0.7}
    assert result.notes["pass_rates"] == [0.5, 1.0, 0.5]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "It is 5."),
        (1, "Answer: 5"),
    ]


async def test_critic_writes_and_answers_the_checklist() -> None:
    ctx = make_ctx(["It is 5. Answer: 5"], critic_outputs=[CHECKLIST, "[[YES]]", "[[YES]]"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("stick", feedback="critic"), ctx)
    assert [(c.role, c.model) for c in calls] == [
        ("draft", "mock/solver"),
        ("checklist", "mock/critic"),
        ("feedback", "mock/critic"),
        ("feedback", "mock/critic"),
    ]
    assert result.feedback_kinds == ["critic"]


async def test_a_checklist_round_that_does_not_fit_the_budget_makes_no_call() -> None:
    ctx = make_ctx(script(["It is 5."]), budget=Budget(max_calls=3))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("stick"), ctx)
    assert [c.role for c in calls] == ["draft", "checklist"]
    assert result.stop_reason.startswith("budget: max_calls=3")


def test_parse_checklist_answer_never_guesses() -> None:
    assert parse_checklist_answer("Yes, it does.") is True
    assert parse_checklist_answer("It is short. [[NO]]") is False
    assert parse_checklist_answer("[[YES]] or rather [[NO]]") is None
    assert parse_checklist_answer("It might.") is None
