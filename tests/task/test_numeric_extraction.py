"""Numeric answer extraction and normalisation, and its agreement with GSM8K's own labels."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from reflectlab.task import extract_number, load_gsm8k, normalize_number, parse_number
from support.data import SHARED_DATA

GSM8K = SHARED_DATA / "gsm8k"


@pytest.mark.parametrize(
    ("reply", "value"),
    [
        ("She makes 9 * 2 = $18 every day.\n#### 18", "18"),
        ("The answer is $1,000.00.", "1000"),
        ("Answer: 42", "42"),
        ("**Answer:** $70,000", "70000"),
        ("Final answer:\n\n 42 apples", "42"),
        ("A: 18", "18"),
        ("So x = -7", "-7"),
        ("The temperature drops to −5 degrees.", "-5"),
        ("We get \\boxed{12} in the end, not 13.", "12"),
        ("so the result is $\\boxed{\\frac{3}{4}}$", "0.75"),
        ("\\boxed{1{,}000}", "1000"),
        ("final answer: 3/4", "0.75"),
        ("That is one third: 1/3", "1/3"),
        ("It rose by 50%.", "50"),
        ("It costs 3.50 dollars", "3.5"),
        # Calculator annotations repeat intermediate results; they never count as the answer.
        ("16 - 3 = <<16-3=13>>13 eggs, 13 + 5 = <<13+5=18>>18", "18"),
        # A subtraction is not a negative number.
        ("5-3=2", "2"),
        # The explicit answer wins over a later number.
        ("The answer is 12. (Check: 3 * 4 = 12, and 12 + 0 = 12 for 5 friends)", "12"),
        ("#### 7\nThat took me 3 tries.", "7"),
    ],
)
def test_extract_number_prefers_explicit_answers(reply: str, value: str) -> None:
    assert extract_number(reply).value == value


def test_extract_number_without_a_number_keeps_the_reason() -> None:
    extracted = extract_number("I am not sure how to solve this.")
    assert extracted.value is None and not extracted.ok
    assert extracted.reason == "no number in the reply"


def test_extract_number_says_how_it_found_the_answer() -> None:
    assert extract_number("Answer: 5").reason == "answer marker"
    assert extract_number("I think 5, no, 6.").reason == "last number"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("18.00", "18"),
        ("$1,234.50", "1234.5"),
        (-0.25, "-0.25"),
        (7, "7"),
        (Fraction(2, 6), "1/3"),
        (2.5, "2.5"),
        ("0.1", "0.1"),
    ],
)
def test_normalize_number(raw: object, normal: str) -> None:
    assert normalize_number(raw) == normal  # type: ignore[arg-type]


def test_normalize_number_rejects_text_without_a_number() -> None:
    with pytest.raises(ValueError, match="no number"):
        normalize_number("many")
    assert parse_number("none here") is None


def test_agrees_with_gsm8k_model_solution_labels() -> None:
    """GSM8K's released 175B solutions carry is_correct labels; extracting their final answer
    and comparing with the gold number must reproduce those labels (>= 99 %)."""
    solutions = GSM8K / "example_model_solutions.jsonl"
    if not solutions.exists():
        pytest.skip(f"{solutions} not present")
    rows = [json.loads(line) for line in solutions.read_text().splitlines()]
    gold = load_gsm8k(GSM8K / "test.jsonl")
    assert len(rows) == len(gold) == 1319
    for key in ("175b_finetuning", "175b_verification"):
        agree = 0
        for row, sample in zip(rows, gold, strict=True):
            assert row["question"] == sample.input
            predicted = extract_number(row[key]["solution"]).value
            agree += (predicted == sample.target) == row[key]["is_correct"]
        assert agree / len(rows) >= 0.99, key
