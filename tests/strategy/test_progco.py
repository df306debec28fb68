"""progco: a self-written verification program run in the real sandbox, then ProgRe."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.progco import answer_value, harnessed, key_points
from support.numbers import NumberTask, make_ctx

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


FEEDBACK = "Working back from 4 gives 2 + 2, not 2 + 3: the answer fails the check."
REWRITE = "[Reflection]\nThe program is right.\n\n[New Verification Code]\n" + CHECKER
CONTRAST = (
    "[Comparative Analysis Process]\n...\n[Key Points to Note When Solving the Problem]\n"
    "1. Add 2 and 3, not 2 and 2.\n2. Check the sum."
)


async def test_a_changed_answer_is_contrasted_and_regenerated_from_the_key_points() -> None:
    ctx = make_ctx(
        [
            "Answer: 4",
            CHECKER,
            FEEDBACK,  # the verification result in plain language
            "[Reflection]\nI added wrongly.\n\n[New Solution]\n2 + 3 = 5. Answer: 5",
            REWRITE,  # the program, reflected on and kept
            CONTRAST,  # the answer changed (4 -> 5): contrast ...
            "Answer: 5",  # ... and regenerate from the problem and the key points
        ]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("verify", 0),
        ("feedback", 1),
        ("refine", 1),
        ("verify", 1),
        ("reflect", 1),
        ("refine", 1),
    ]
    feedback_prompt = calls[2].messages[-1].content
    assert "checking 4" in feedback_prompt and "VERDICT: FAIL" in feedback_prompt
    refine = calls[3].messages
    assert refine[0].role == "system" and len(refine) == 2  # a fresh prompt, not the chat
    assert FEEDBACK in refine[1].content and "Answer: 4" in refine[1].content
    assert "feedback is not always correct" in refine[1].content
    program_prompt = calls[4].messages[-1].content
    assert "def verify" in program_prompt and "VERDICT: FAIL" in program_prompt
    contrast = calls[5].messages[-1].content
    assert "Answer: 4" in contrast and "2 + 3 = 5. Answer: 5" in contrast
    regenerate = calls[6].messages
    assert len(regenerate) == 1 and "Answer: 4" not in regenerate[0].content
    assert "1. Add 2 and 3, not 2 and 2.\n2. Check the sum." in regenerate[0].content
    assert calls[0].messages[-1].content in regenerate[0].content  # the problem itself
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 5"),
    ]
    assert result.notes["temporary_answers"] == ["2 + 3 = 5. Answer: 5"]
    assert result.notes["refinement"] == "dual"
    assert [f.verdict for f in result.feedback] == ["incorrect", "correct"]
    assert result.stop_reason == "feedback said correct in round 2"


async def test_an_unchanged_answer_skips_the_contrast() -> None:
    ctx = make_ctx(
        ["Answer: 4", CHECKER, FEEDBACK, "[New Solution]\nStill 4. Answer: 4", REWRITE],
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco", max_rounds=1), ctx)
    assert [c.role for c in calls] == ["draft", "verify", "feedback", "refine", "verify"]
    assert result.final_response == "Still 4. Answer: 4"
    assert "temporary_answers" not in result.notes


async def test_vanilla_refinement_one_revision_and_the_program_is_kept() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, "Use 2 + 3.", "Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco", dual_reflection=False), ctx)
    assert [c.role for c in calls] == ["draft", "verify", "feedback", "refine"]
    assert "Revision Suggestions" in calls[2].messages[-1].content
    assert "Use 2 + 3." in calls[3].messages[-1].content
    assert result.final_response == "Answer: 5"
    assert result.notes["refinement"] == "vanilla"


class _TextTask(NumberTask):
    answer_kind = "text"


async def test_default_is_vanilla_on_free_text_tasks_as_in_the_papers_ifeval_runs() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, "Use 2 + 3.", "Answer: 5"], _TextTask())
    result = await run_strategy(get_strategy("progco"), ctx)
    assert result.notes["refinement"] == "vanilla"


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
    missing = "```" not in first_program
    explain = [] if missing else ["The check broke."]  # nothing ran: no feedback call
    script = ["Answer: 5", first_program, *explain, "[New Solution]\nAnswer: 5", REWRITE]
    ctx = make_ctx(script)
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("progco", timeout_s=1), ctx)
    assert result.feedback[0].verdict == "unknown"
    refine_program = next(c for c in calls if c.role == "verify" and c.round == 1)
    assert evidence in refine_program.messages[-1].content  # the program is reflected on
    if not missing:
        assert evidence in calls[2].messages[-1].content
    assert result.feedback[1].verdict == "correct"  # round 2 ran the rewritten program
    assert result.notes["unknown_verdicts"] == 1
    assert result.error is None


async def test_an_unparseable_rewrite_keeps_the_previous_program() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, FEEDBACK, "Answer: 4", "no code here"])
    result = await run_strategy(get_strategy("progco", max_rounds=2), ctx)
    assert result.notes["unparseable_program_rewrites"] >= 1
    assert result.feedback[1].verdict == "incorrect"  # the same program ran again


def test_key_points_are_the_numbered_items_after_the_header() -> None:
    assert key_points(CONTRAST) == "1. Add 2 and 3, not 2 and 2.\n2. Check the sum."
    assert key_points("no structure") == "no structure"


def test_numeric_answers_reach_the_program_as_numbers() -> None:
    assert answer_value("5", True) == 5 and answer_value("2.5", True) == 2.5
    assert answer_value("1,200", True) == 1200
    assert answer_value("five", True) == "five" and answer_value("5", False) == "5"


async def test_answer_text_is_embedded_as_data_not_code() -> None:
    response = 'He said """x""" and \'y\'\n"); import os  # Answer: 5'
    checker = (
        "```python\ndef verify(answer, response):\n"
        '    return answer == 5 and response.startswith(\'He said """x\')\n```'
    )
    ctx = make_ctx([response, checker])
    result = await run_strategy(get_strategy("progco"), ctx)
    assert result.feedback[0].verdict == "correct"
    assert "import os  # Answer: 5" in harnessed("pass", "5", response)


async def test_budget_stop_keeps_the_last_answer() -> None:
    ctx = make_ctx(["Answer: 4", CHECKER, FEEDBACK, "Answer: 5"], budget=Budget(max_calls=4))
    result = await run_strategy(get_strategy("progco"), ctx)
    assert result.stop_reason == "budget: max_calls=4 reached"
    assert result.final_response == "Answer: 4"  # the unfinished round is not a checkpoint


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="timeout_s"):
        get_strategy("progco", timeout_s=0)
