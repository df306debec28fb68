"""progco: a self-written verification program run in the real sandbox, then dual reflection."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.progco import harnessed
from support.numbers import make_ctx

CHECKER = """```python
def verify(answer, response):
    print("checking", answer, "+ ... against 2 + 3")
    return float(answer) == 2 + 3
```"""


async def test_a_passing_verification_stops_before_any_refinement() -> None:
    ctx = make_ctx(["Answer: 5", CHECKER])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0), ("verify", 0)]
    assert "Answer: 5" not in calls[1].messages[-1].content  # written from the task alone
    assert result.stop_reason == "feedback said correct in round 1"
    assert result.feedback[0].verdict == "correct"
    assert "checking 5" in result.feedback[0].text  # the program really ran on the answer
    assert result.feedback_kinds == ["tool"]
    assert not result.oracle_assisted


async def test_failed_verification_drives_dual_reflection_then_passes() -> None:
    ctx = make_ctx(
        [
            "Answer: 4",
            CHECKER,
            "Answer: 5",  # (a) temporary refinement
            "The new answer adds correctly.",  # (b) insights from the contrast
            "Answer: 5",  # (c) refined answer
            CHECKER,  # (d) the program, reflected on and kept
        ]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("verify", 0),
        ("refine", 1),
        ("reflect", 1),
        ("refine", 1),
        ("verify", 1),
    ]
    refine_prompt = calls[2].messages[-1].content
    assert "checking 4" in refine_prompt and "VERDICT: FAIL" in refine_prompt
    assert "The new answer adds correctly." in [m.content for m in calls[4].messages]
    program_prompt = calls[5].messages[-1].content
    assert "'4'" in program_prompt and "VERDICT: FAIL" in program_prompt
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 5"),
    ]
    assert result.notes["temporary_answers"] == ["Answer: 5"]
    assert [f.verdict for f in result.feedback] == ["incorrect", "correct"]
    assert result.stop_reason == "feedback said correct in round 2"


async def test_without_dual_reflection_one_refinement_per_round() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, "Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco", dual_reflection=False), ctx)
    assert [c.role for c in calls] == ["draft", "verify", "refine"]
    assert result.final_response == "Answer: 5"


@pytest.mark.parametrize(
    ("first_program", "evidence"),
    [
        (
            "```python\ndef verify(answer, response):\n    raise ValueError('bad check')\n```",
            "ValueError: bad check",
        ),
        ("```python\ndef verify(answer, response):\n    while True:\n        pass\n```", "stopped"),
        ("```python\ndef verify(answer, response):\n    print('hm')\n```", "not True or False"),
        ("I would check that 5 - 3 = 2.", "No Python program was found"),
    ],
)
async def test_a_broken_program_is_unknown_and_its_rewrite_is_used(
    first_program: str, evidence: str
) -> None:
    ctx = make_ctx(["Answer: 5", first_program, "Answer: 5", "Same.", "Answer: 5", CHECKER])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco", timeout_s=1), ctx)
    assert result.feedback[0].verdict == "unknown"
    assert evidence in calls[2].messages[-1].content
    assert evidence in calls[5].messages[-1].content  # the program is reflected on too
    assert result.feedback[1].verdict == "correct"  # round 2 ran the rewritten program
    assert result.notes["unknown_verdicts"] == 1
    assert result.error is None


async def test_an_unparseable_rewrite_keeps_the_previous_program() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, "Answer: 5", "Insight.", "Answer: 5", "no code here"])
    result = await run_strategy(get_strategy("progco"), ctx)
    assert result.notes["unparseable_program_rewrites"] == 1
    assert result.feedback[1].verdict == "correct"


async def test_answer_text_is_embedded_as_data_not_code() -> None:
    response = 'He said """x""" and \'y\'\n"); import os  # Answer: 5'
    checker = (
        "```python\ndef verify(answer, response):\n"
        "    return answer == '5' and response.startswith('He said \"\"\"x')\n```"
    )
    ctx = make_ctx([response, checker])
    result = await run_strategy(get_strategy("progco"), ctx)
    assert result.feedback[0].verdict == "correct"
    assert "import os  # Answer: 5" in harnessed("pass", "5", response)


async def test_budget_stop_keeps_the_last_answer() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, "Answer: 5"], budget=Budget(max_calls=3))
    result = await run_strategy(get_strategy("progco"), ctx)
    assert result.stop_reason == "budget: max_calls=3 reached"
    assert result.final_response == "Answer: 4"  # the temporary answer is not a checkpoint


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="timeout_s"):
        get_strategy("progco", timeout_s=0)
