"""``self_contrast`` (Zhang et al. 2024): perspectives, selection, contrast, checklist, revision."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.self_contrast import DEFAULT_PERSPECTIVES
from support.numbers import make_ctx

PERSPECTIVES = "1. Count on your fingers.\n2) Use a number line.\n- Think like a teacher."
CONTRAST = "Discrepancy: one solution says 4, the other 5; the first miscounted."
CHECKLIST = "1. Check whether 2+3 was counted correctly."


def script(
    answers: dict[str, str], perspectives: str = PERSPECTIVES
) -> Callable[[MockRequest], str]:
    """Replies by prompt: each perspective (system message keyword) has its answer."""

    def reply(req: MockRequest) -> str:
        if "design" in req.prompt:
            return perspectives
        if "Compare the" in req.prompt:
            return CONTRAST
        if "Summarise the discrepancies" in req.prompt:
            return CHECKLIST
        if "Re-examine your solution" in req.prompt:
            return "Rechecked: 2+3=5. Answer: 5"
        system = req.messages[0].content
        return next(a for key, a in answers.items() if key in system)

    return reply


DISAGREE = {"fingers": "Answer: 4", "number line": "Answer: 5", "teacher": "Answer: 4"}


async def test_full_procedure_calls_roles_and_checkpoints() -> None:
    ctx = make_ctx(script(DISAGREE))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_contrast"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("perspective", 0),
        ("draft", 0),
        ("draft", 0),
        ("draft", 0),
        ("contrast", 1),  # two distinct answers -> one pair
        ("checklist", 1),
        ("refine", 1),
        ("refine", 1),
    ]
    systems = [c.messages[0].content for c in calls[1:4]]
    assert systems == [
        "Solve the task using this approach: Count on your fingers.",
        "Solve the task using this approach: Use a number line.",
        "Solve the task using this approach: Think like a teacher.",
    ]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Rechecked: 2+3=5. Answer: 5"),
    ]
    assert result.notes["selected"] == [0, 1]  # "4" (2 votes) first, then "5"
    assert result.feedback_kinds == ["intrinsic"]
    assert result.feedback[0].text == CHECKLIST


async def test_contrast_and_checklist_text_reach_the_next_prompts() -> None:
    ctx = make_ctx(script(DISAGREE))
    with capture_calls() as calls:
        await run_strategy(get_strategy("self_contrast"), ctx)
    by_role = {c.role: c for c in calls}
    contrast = by_role["contrast"].messages[-1].content
    assert "Solution A:\nAnswer: 4" in contrast and "Solution B:\nAnswer: 5" in contrast
    assert CONTRAST in by_role["checklist"].messages[-1].content
    refines = [c for c in calls if c.role == "refine"]
    for refine in refines:
        assert CHECKLIST in refine.messages[-1].content
        # The revision continues the solver's own conversation (perspective, task, answer).
        assert refine.messages[0].role == "system" and refine.messages[2].role == "assistant"
    assert {r.messages[2].content for r in refines} == {"Answer: 4", "Answer: 5"}


async def test_agreeing_perspectives_stop_without_reflection() -> None:
    ctx = make_ctx(script({"": "Answer: 5"}))
    result = await run_strategy(get_strategy("self_contrast"), ctx)
    assert result.calls == 4  # 1 perspective call + 3 solutions
    assert result.stop_reason == "perspectives agree: nothing to contrast"
    assert [c.round for c in result.checkpoints] == [0]


async def test_unreadable_answer_is_a_discrepancy_of_its_own() -> None:
    answers = {"fingers": "Answer: 5", "number line": "five, I think", "teacher": "Answer: 5"}
    result = await run_strategy(get_strategy("self_contrast"), make_ctx(script(answers)))
    assert result.notes["selected"] == [0, 1]
    assert result.final_response == "Rechecked: 2+3=5. Answer: 5"


async def test_unparseable_perspective_list_falls_back_and_is_counted() -> None:
    ctx = make_ctx(script({"": "Answer: 5"}, perspectives="Sure! Let us think about it."))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_contrast"), ctx)
    assert result.notes["perspective_parse_failures"] == 1
    assert [c.messages[0].content for c in calls[1:4]] == [
        f"Solve the task using this approach: {p}" for p in DEFAULT_PERSPECTIVES
    ]


async def test_all_at_once_contrast_is_one_call() -> None:
    answers = {"fingers": "Answer: 4", "number line": "Answer: 5", "teacher": "Answer: 6"}
    with capture_calls() as calls:
        await run_strategy(get_strategy("self_contrast", contrast="all"), make_ctx(script(answers)))
    contrasts = [c for c in calls if c.role == "contrast"]
    assert len(contrasts) == 1
    assert all(f"Answer: {n}" in contrasts[0].messages[-1].content for n in (4, 5, 6))
    assert sum(c.role == "refine" for c in calls) == 3


async def test_pairwise_contrast_group_is_all_or_nothing_under_the_budget() -> None:
    answers = {"fingers": "Answer: 4", "number line": "Answer: 5", "teacher": "Answer: 6"}
    ctx = make_ctx(script(answers), budget=Budget(max_calls=6))
    result = await run_strategy(get_strategy("self_contrast"), ctx)
    # 4 calls made; the 3 pairwise contrasts need 3 and only 2 are left.
    assert result.calls == 4
    assert result.stop_reason.startswith("budget: max_calls=6")
    assert result.final_response == "Answer: 4"


def test_bad_parameters_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        get_strategy("self_contrast", perspectives=1)
    with pytest.raises(ConfigError):
        get_strategy("self_contrast", contrast="some")
