"""The calculator: arithmetic claims in a reply, recomputed exactly, without eval."""

from __future__ import annotations

from fractions import Fraction

import pytest

from reflectlab.feedback import (
    CalculatorFeedback,
    FeedbackRequest,
    check_arithmetic,
    evaluate_arithmetic,
)
from support.numbers import make_ctx


async def calc(text: str) -> tuple[str, str]:
    fb = await CalculatorFeedback()(make_ctx([]), FeedbackRequest(response=text, round=2))
    assert fb.kind == "tool" and fb.round == 2
    return fb.text, fb.verdict


async def test_reports_a_wrong_product() -> None:
    text, verdict = await calc("Each box has 17, so 3*17 = 41. Answer: 41")
    assert verdict == "incorrect"
    assert "3*17 = 51, not 41" in text


async def test_correct_arithmetic_passes() -> None:
    text, verdict = await calc("2 + 3 = 5 and (2 + 3) × 4 = 20, so 20 ÷ 8 = 2.5.")
    assert verdict == "correct"
    assert "all 3 calculations" in text


async def test_no_claims_is_unknown() -> None:
    assert (await calc("The answer is five."))[1] == "unknown"


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("3 * 4 = 12 + 1 = 14", ["12 + 1 = 13, not 14"]),  # chained steps are each checked
        ("10/3 = 3.33", []),  # rounded to the claim's own decimals
        ("10/3 = 3.4", ["10/3 = 3.333333333, not 3.4"]),
        ("7/2 = 3", ["7/2 = 3.5, not 3"]),
        ("$1,200 - $300 = $900", []),
        ("2^10 = 1024", []),
        ("-3 + 5 = 2", []),
        ("5 / 0 = 0", ["5 / 0 is undefined (division by zero), not 0"]),
        ("(2 + 3) * 4 = 25", ["(2 + 3) * 4 = 20, not 25"]),
    ],
)
def test_claims(text: str, wrong: list[str]) -> None:
    checked, mismatches = check_arithmetic(text)
    assert checked
    assert mismatches == wrong


def test_evaluator_is_exact_and_refuses_anything_but_arithmetic() -> None:
    assert evaluate_arithmetic("0.1 + 0.2") == Fraction(3, 10)
    for bad in ["__import__('os').system('true')", "x + 1", "abs(-1)", "2 ** 0.5", "9 ^ 9 ^ 9"]:
        with pytest.raises(ValueError):
            evaluate_arithmetic(bad)
