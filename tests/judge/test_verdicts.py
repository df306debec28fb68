"""Verdict parsing: every accepted form, and every way a reply stays unparseable."""

from __future__ import annotations

import pytest

from reflectlab.judge import (
    parse_checklist,
    parse_correctness,
    parse_pairwise_verdict,
    parse_rating,
    parse_yes_no,
)

# ------------------------------------------------------------------------------ pairwise


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("Assistant A is more accurate.\n\n[[A]]", "A"),
        ("Final verdict: [[B]]", "B"),
        ("Both are equally good. [[C]]", "tie"),
        ("[[ b ]]", "B"),
        ("[[tie]]", "tie"),
        ('{"verdict": "A"}', "A"),
        ('Reasoning...\n```json\n{"winner": "B", "why": "shorter"}\n```', "B"),
        ('{"Verdict": "Assistant B"}', "B"),
        ('{"verdict": "C"}', "tie"),
        # The same verdict twice is still one verdict.
        ("I pick [[A]]. To be clear: [[A]]", "A"),
        # An echo of the format instruction is not a verdict.
        ('Output "[[A]]" if assistant A is better, "[[B]]" if B is. My verdict: [[B]]', "B"),
    ],
)
def test_pairwise_forms(reply: str, verdict: str) -> None:
    parsed = parse_pairwise_verdict(reply)
    assert parsed.verdict == verdict
    assert parsed.parse_error is None


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("Assistant A is better.", "no verdict found"),
        ("", "no verdict found"),
        ("[[A]] hmm, actually [[B]]", "conflicting verdicts: A, B"),
        ('[[A]]\n{"verdict": "B"}', "conflicting verdicts: A, B"),
        ("[[D]]", "no verdict found"),
        ('{"verdict": "both"}', "no verdict found"),
        ("{not json [[", "no verdict found"),
    ],
)
def test_pairwise_unparseable_is_none_with_reason(reply: str, error: str) -> None:
    parsed = parse_pairwise_verdict(reply)
    assert parsed.verdict is None
    assert parsed.parse_error is not None and error in parsed.parse_error


def test_tie_is_unparseable_when_ties_are_not_allowed() -> None:
    assert parse_pairwise_verdict("[[C]]").verdict == "tie"
    parsed = parse_pairwise_verdict("[[C]]", allow_tie=False)
    assert parsed.verdict is None and parsed.parse_error == "a tie was not allowed"
    assert parse_pairwise_verdict("[[A]]", allow_tie=False).verdict == "A"


# ------------------------------------------------------------------------------ ratings


@pytest.mark.parametrize(
    ("reply", "rating"),
    [
        ("Good answer. Rating: [[7]]", 7.0),
        ("Rating: [[7.5]]", 7.5),
        ("[[10]]", 10.0),
        ("[[ 1 ]]", 1.0),
        ('{"score": 7}', 7.0),
        ('{"rating": "6.5"}', 6.5),
        ('```json\n{"score": 3, "reason": "off topic"}\n```', 3.0),
        # The prompt's own example, echoed, is not a rating.
        ('I must answer like this, for example: "Rating: [[5]]". Rating: [[8]]', 8.0),
        ("Rating: [[8]] ... so again [[8.0]]", 8.0),
    ],
)
def test_rating_forms(reply: str, rating: float) -> None:
    parsed = parse_rating(reply)
    assert parsed.rating == rating and parsed.parse_error is None


@pytest.mark.parametrize(
    ("reply", "scale", "error"),
    [
        ("Rating: [[11]]", (1, 10), "rating 11 is outside the scale 1-10"),
        ("[[0]]", (1, 10), "outside the scale"),
        ("[[6]]", (1, 5), "rating 6 is outside the scale 1-5"),
        ('{"score": -1}', (1, 10), "outside the scale"),
        ("Rating: 7", (1, 10), "no rating found"),
        ("[[seven]]", (1, 10), "no rating found"),
        ('{"score": true}', (1, 10), "no rating found"),
        ("[[7]] or maybe [[8]]", (1, 10), "conflicting verdicts: 7, 8"),
    ],
)
def test_rating_unparseable(reply: str, scale: tuple[int, int], error: str) -> None:
    parsed = parse_rating(reply, scale=scale)
    assert parsed.rating is None
    assert parsed.parse_error is not None and error in parsed.parse_error


# ------------------------------------------------------------------------------ yes/no, correct


@pytest.mark.parametrize(
    ("reply", "answer"),
    [
        ("The response has three lines. [[YES]]", True),
        ("[[no]]", False),
        ('{"answer": "yes"}', True),
        ('{"answer": false}', False),
        ("Yes, it does.", True),
        ("NO. It ignores the limit.", False),
    ],
)
def test_yes_no_forms(reply: str, answer: bool) -> None:
    assert parse_yes_no(reply).answer is answer


@pytest.mark.parametrize("reply", ["Maybe.", "[[YES]] and [[NO]]", "It is yes-ish", ""])
def test_yes_no_unparseable(reply: str) -> None:
    parsed = parse_yes_no(reply)
    assert parsed.answer is None and parsed.parse_error


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("Step 2 adds wrongly. [[INCORRECT]]", "incorrect"),
        ("All steps check out. [[CORRECT]]", "correct"),
        ('{"correct": false}', "incorrect"),
        ('{"verdict": "correct"}', "correct"),
        ("It looks correct to me.", None),
        ("[[CORRECT]] no wait [[INCORRECT]]", None),
    ],
)
def test_correctness(reply: str, verdict: str | None) -> None:
    assert parse_correctness(reply).verdict == verdict


# ------------------------------------------------------------------------------ checklists


def test_checklist_lines_markers_and_dedup() -> None:
    text = (
        "Here is the checklist:\n"
        "1. Is the response a haiku?\n"
        "- Does it mention autumn?\n"
        "* does it mention AUTUMN?\n"
        "Q3: Is it under 20 words?\n"
        "This line is not a question.\n"
    )
    checklist = parse_checklist(text)
    assert checklist.questions == [
        "Is the response a haiku?",
        "Does it mention autumn?",
        "Is it under 20 words?",
    ]
    assert checklist.parse_error is None and checklist.text == text


def test_checklist_json_list_cap_and_empty() -> None:
    fenced = '```json\n["Is it short?", "Is it polite?", "Is it in French?"]\n```'
    capped = parse_checklist(fenced, max_questions=2)
    assert capped.questions == ["Is it short?", "Is it polite?"] and capped.n_dropped == 1
    empty = parse_checklist("I cannot write a checklist for this.")
    assert empty.questions == [] and empty.parse_error is not None
