"""``self_verification`` (Weng et al. 2023): candidates, masked-condition backward checks."""

from __future__ import annotations

import re
from collections.abc import Callable

from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.self_verification import (
    mask_conditions,
    recovered_value,
    split_question,
)
from reflectlab.task import Sample
from support.numbers import NumberTask, make_ctx

QUESTION = "Tom has 3 apples. He buys 2 more. How many apples does he have?"


def task() -> NumberTask:
    return NumberTask([Sample(id="0", input=QUESTION, target="5")])


def script(drafts: list[str], unreadable: bool = False) -> Callable[[MockRequest], str]:
    pending = list(drafts)

    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith("Q: Please change"):
            answer = re.search(r"The answer is (\S+)'", p)
            assert answer is not None
            return f"Tom has {answer.group(1)} apples.\nextra line"
        if "What is the answer of 'X'?\nA:" in p[-40:]:
            if unreadable:
                return "I cannot tell."
            asked = p.rsplit('Q: "', 1)[1]
            # A consistent reader: X + 2 = total, or 3 + X = total.
            total = float(asked.split("Tom has ")[-1].split(" apples.")[0])
            x = total - 2 if "has 'X' apples" in asked else total - 3
            return f"X = {x:g}. The answer is {x:g}."
        return pending.pop(0)

    return reply


async def test_the_candidate_whose_masked_conditions_are_recovered_wins() -> None:
    drafts = ["Answer: 6", "Answer: 5", "Answer: 6", "no idea", "Answer: 5"]
    ctx = make_ctx(script(drafts), task())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_verification", verify_samples=2), ctx)
    roles = [c.role for c in calls]
    assert roles[:5] == ["draft"] * 5
    # One rewrite for the first answer, re-used for the second by replacing the answer.
    assert roles.count("rewrite") == 1
    assert roles.count("verify") == 2 * 2 * 2  # answers x masked conditions x samples
    assert result.notes["answers"] == ["6", "5"]
    # 6: X recovered as 4 and 3 (masked 3 and 2): wrong; 5: recovered 3 and 2: right.
    assert result.notes["scores"] == [0, 4]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 6"),
        (1, "Answer: 5"),
    ]
    verify = next(c for c in calls if c.role == "verify").messages[0].content
    assert verify.startswith("Q: \"There are 'X' trees")
    assert "Tom has 'X' apples. He buys 2 more. Tom has 6 apples.\"" in verify
    assert result.feedback_kinds == ["intrinsic"]
    assert {c.config.temperature for c in calls if c.role == "verify"} == {0.2}
    assert {c.config.temperature for c in calls if c.role == "draft"} == {0.3}


async def test_one_distinct_answer_needs_no_verification() -> None:
    ctx = make_ctx(script(["Answer: 5", "Answer: 5.0", "x", "Answer: 5", "Answer: 5"]), task())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_verification"), ctx)
    assert {c.role for c in calls} == {"draft"}
    assert "nothing to verify" in result.stop_reason


async def test_unparseable_verifications_are_counted_and_score_nothing() -> None:
    drafts = ["Answer: 6", "Answer: 5", "x", "x", "x"]
    ctx = make_ctx(script(drafts, unreadable=True), task())
    result = await run_strategy(get_strategy("self_verification", verify_samples=2), ctx)
    assert result.notes["unparseable_verifications"] == 8
    assert result.notes["scores"] == [0, 0]
    assert result.final_response == "Answer: 6"  # a tie goes to the earliest


async def test_a_verification_group_that_does_not_fit_the_budget_makes_no_call() -> None:
    drafts = ["Answer: 6", "Answer: 5", "x", "x", "x"]
    ctx = make_ctx(script(drafts), task(), budget=Budget(max_calls=8))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("self_verification"), ctx)
    assert [c.role for c in calls] == ["draft"] * 5 + ["rewrite"]
    assert result.stop_reason.startswith("budget: max_calls=8")
    assert result.final_response == "Answer: 6"


async def test_non_numeric_task_is_a_clear_error() -> None:
    class TextTask(NumberTask):
        answer_kind = "text"

    result = await run_strategy(get_strategy("self_verification"), make_ctx(["x"], TextTask()))
    assert result.stop_reason == "strategy_error"
    assert result.error is not None and "numeric" in result.error


def test_masking_and_parsing() -> None:
    assert split_question(QUESTION) == (
        "Tom has 3 apples. He buys 2 more.",
        "How many apples does he have?",
    )
    assert mask_conditions("A has 1,000 and 3. B has 3 and 7.5.", 3) == [
        ("A has 'X' and 3. B has 3 and 7.5.", 1000.0),
        ("A has 1000 and 'X'. B has 3 and 7.5.", 3.0),
        ("A has 1000 and 3. B has 3 and 'X'.", 7.5),
    ]
    assert recovered_value("X = 4 so. The answer is 3.") == 3.0
    assert recovered_value("X is 12") == 12.0
    assert recovered_value("no") is None
