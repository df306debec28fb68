"""``critic_cot`` (Zheng et al. 2024): step-wise critique; iterative refine and critic filter."""

from __future__ import annotations

from collections.abc import Callable

from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.critic_cot import (
    parse_correction,
    split_steps,
    step_criticism,
    step_labels,
)
from support.numbers import make_ctx

DRAFT = "Step 1: 2+3 means adding.\nStep 2: 2+3 = 6. Answer: 6"
CRITIQUE_BAD = "Step 1: fine. Step 1 is correct.\nStep 2: 2+3 is 5, not 6. Step 2 is incorrect."
CRITIQUE_GOOD = "Step 1 is correct. Step 2 is correct."
CORRECTION = "<correction>\nStep 2 (Corrected): 2+3 = 5. Answer: 5\n</correction>"


def script(critiques: list[str], draft: str = DRAFT) -> Callable[[MockRequest], str]:
    pending = list(critiques)

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith("How do you evaluate"):
            return pending.pop(0)
        if p.startswith("How do you refine"):
            return CORRECTION
        return draft

    return reply


async def test_iterative_refines_from_the_first_flagged_step_until_none_is_flagged() -> None:
    ctx = make_ctx(script([CRITIQUE_BAD, CRITIQUE_GOOD]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic_cot"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
    ]
    assert 'marking each step as "Step [i]:"' in calls[0].messages[0].content
    refine = calls[2].messages[0].content
    assert "<criticism>\nStep 2: 2+3 is 5, not 6. Step 2 is incorrect.\n</criticism>" in refine
    assert "from Step 2 on" in refine and "End with 'Answer: <number>'." in refine
    # The refined attempt keeps the steps before the flagged one and replaces the rest.
    assert result.checkpoints[1].response == (
        "Step 1: 2+3 means adding.\n\nStep 2: 2+3 = 5. Answer: 5"
    )
    assert result.checkpoints[1].round == 1
    assert result.stop_reason == "feedback said correct in round 2"
    assert result.feedback_kinds == ["intrinsic"]


async def test_unparseable_critique_is_counted_and_never_accepts() -> None:
    ctx = make_ctx(script(["Looks fine to me.", CRITIQUE_GOOD]))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic_cot"), ctx)
    assert result.notes["unparseable_critiques"] == 1
    assert [c.role for c in calls] == ["draft", "feedback", "refine", "feedback"]
    # Nothing flagged to start from: the whole attempt is rewritten given the critique.
    assert "from Step 1 on" in calls[2].messages[0].content
    assert result.final_response == "Step 1: 2+3 = 5. Answer: 5"


async def test_restart_begins_again_from_the_original_attempt() -> None:
    critiques = [
        CRITIQUE_BAD,
        "Step 1 is correct. Step 2 is incorrect.",
        CRITIQUE_BAD,
        CRITIQUE_GOOD,
    ]
    ctx = make_ctx(script(critiques))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic_cot", max_rounds=1, restarts=2), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("feedback", 1),
        ("refine", 1),
        ("feedback", 2),
        ("refine", 2),
    ]
    # The second pass critiques the original draft again, not the first pass's refinement.
    assert "2+3 = 6" in calls[3].messages[0].content
    assert result.notes["restarts_used"] == 2
    assert [c.round for c in result.checkpoints] == [0, 1, 2]


async def test_filter_drops_flagged_candidates_and_votes_over_the_rest() -> None:
    drafts = iter(
        [
            "Step 1: 2+3 = 6. Answer: 6",
            "Step 1: 2+3 = 6. Answer: 6",
            "Step 1: 2+3 = 5. Answer: 5",
        ]
    )

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith("How do you evaluate"):
            return "Step 1 is incorrect." if "= 6" in p else "Step 1 is correct."
        return next(drafts)

    ctx = make_ctx(reply)
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic_cot", mode="filter", n=3), ctx)
    assert [c.role for c in calls].count("draft") == 3
    assert [c.role for c in calls].count("feedback") == 3
    assert {c.config.temperature for c in calls if c.role == "draft"} == {0.5}
    assert result.checkpoints[0].response.endswith("Answer: 6")  # plain majority
    assert result.checkpoints[1].response.endswith("Answer: 5")  # after the critic
    assert result.notes["kept"] == 1


async def test_filter_falls_back_to_plain_majority_when_everything_is_flagged() -> None:
    def reply(req: MockRequest) -> str:
        return "Step 1 is incorrect." if req.prompt.startswith("How do") else "Step 1: Answer: 4"

    result = await run_strategy(get_strategy("critic_cot", mode="filter", n=2), make_ctx(reply))
    assert result.notes["filter_fallback"] is True
    assert result.final_response == "Step 1: Answer: 4"


async def test_budget_stop_keeps_the_last_refinement() -> None:
    ctx = make_ctx(script([CRITIQUE_BAD, CRITIQUE_BAD]), budget=Budget(max_calls=3))
    result = await run_strategy(get_strategy("critic_cot"), ctx)
    assert result.stop_reason.startswith("budget: max_calls=3")
    assert result.final_response is not None and result.final_response.endswith("Answer: 5")


async def test_critic_model_does_the_critique() -> None:
    ctx = make_ctx(script([]), critic_outputs=[CRITIQUE_GOOD])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic_cot", feedback="critic"), ctx)
    assert [(c.role, c.model) for c in calls] == [
        ("draft", "mock/solver"),
        ("feedback", "mock/critic"),
    ]
    assert result.feedback_kinds == ["critic"]


def test_parsers() -> None:
    assert split_steps("Intro\nStep 1: a\n**Step 2**: b\nStep 3 (Corrected): c") == ["a", "b", "c"]
    assert split_steps("no steps") == []
    assert step_labels("Step 1 is correct. Step 2 is incorrect. Step 3 is correct.", 3) == [1, -1]
    assert step_labels("Step 1 is incorrect... no, Step 1 is correct. ", 2) == [1, 0]
    assert step_labels("Step 10 is correct", 1) == [0]
    assert step_criticism(CRITIQUE_BAD, 2) == "Step 2: 2+3 is 5, not 6. Step 2 is incorrect."
    assert parse_correction("<correction>\nStep 2: x") == "Step 2: x"
    assert parse_correction("Step 2: y") == "Step 2: y"
