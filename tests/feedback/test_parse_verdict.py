"""parse_verdict: explicit markers only, the last one decides; no marker is never "correct"."""

from __future__ import annotations

import pytest

from reflectlab.feedback import parse_verdict


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Step 2 is wrong. [[INCORRECT]]", "incorrect"),
        ("All steps check out. [[CORRECT]]", "correct"),
        ("End with [[CORRECT]] or [[INCORRECT]]? I say: [[CORRECT]]", "correct"),
        ("[[CORRECT]] ... on second thought the sum is off. [[INCORRECT]]", "incorrect"),
        ("Verdict: correct", "correct"),
        ("**Verdict:** Incorrect", "incorrect"),
        ("Correctness: true", "correct"),
        ("Correct: no", "incorrect"),
        # no marker: never "correct", whatever the prose says
        ("There are no errors.", "unknown"),
        ("No errors in step 1, but step 2 adds wrongly.", "unknown"),
        ("I would stop here.", "unknown"),
        ("The answer looks correct.", "unknown"),
        ("This is wrong.", "unknown"),
        ("", "unknown"),
    ],
)
def test_parse_verdict(text: str, verdict: str) -> None:
    assert parse_verdict(text) == verdict
