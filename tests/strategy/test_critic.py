"""critic: verify with a tool (programs run in the real sandbox), critique, correct."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy.critic import CRITIQUE_PROMPT
from reflectlab.task import Sample
from support.numbers import NumberTask, make_ctx


def program(code: str) -> str:
    return f"Here is a check:\n```python\n{code}\n```"


async def test_program_output_is_the_evidence_and_unchanged_answer_stops() -> None:
    ctx = make_ctx(
        [
            "Answer: 4",
            program("print('2+3 =', 2 + 3)"),
            "The program says 5, so 4 is wrong.",
            "Answer: 5",
            program("print(2 + 3 == 5)\nprint('VERDICT: PASS')"),
            "The answer is right.",
            "Answer: 5",
        ]
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("verify", 1),
        ("feedback", 1),
        ("refine", 1),
        ("verify", 2),
        ("feedback", 2),
        ("refine", 2),
    ]
    critique_prompt = calls[2].messages[-1].content
    assert "Output of your verification program:" in critique_prompt
    assert "2+3 = 5" in critique_prompt  # really executed in the sandbox
    assert critique_prompt.endswith(CRITIQUE_PROMPT)
    # The corrector sees everything so far: draft, program, evidence and critique.
    assert "The program says 5, so 4 is wrong." in [m.content for m in calls[3].messages]
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 5"),
        (2, "Answer: 5"),
    ]
    assert result.stop_reason == "answer unchanged in round 2"
    assert [f.verdict for f in result.feedback] == ["unknown", "correct"]
    assert result.feedback[0].details["critique"] == "The program says 5, so 4 is wrong."
    assert result.feedback_kinds == ["tool"]
    assert not result.oracle_assisted


@pytest.mark.parametrize(
    ("code", "evidence"),
    [
        ("raise ValueError('cannot verify')", "ValueError: cannot verify"),
        ("while True:\n    pass", "stopped"),
    ],
)
async def test_a_program_that_raises_or_loops_is_evidence_and_the_strategy_carries_on(
    code: str, evidence: str
) -> None:
    ctx = make_ctx(["Answer: 4", program(code), "Hmm, unclear.", "Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic", max_rounds=1, timeout_s=1), ctx)
    assert evidence in calls[2].messages[-1].content
    assert result.error is None
    assert result.final_response == "Answer: 5"
    assert result.feedback[0].verdict == "unknown"


async def test_a_reply_without_a_program_is_counted_not_run() -> None:
    ctx = make_ctx(["Answer: 4", "I checked it mentally.", "Looks fine.", "Answer: 4"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic"), ctx)
    assert "No Python program was found" in calls[2].messages[-1].content
    assert result.notes["missing_programs"] == 1
    assert result.stop_reason == "answer unchanged in round 1"


async def test_without_tool_the_same_critique_is_intrinsic() -> None:
    ctx = make_ctx(["Answer: 4", "Step 1 is wrong: 2+3=5.", "Answer: 5", "Fine.", "Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic", use_tool=False), ctx)
    assert [c.role for c in calls] == ["draft", "feedback", "refine", "feedback", "refine"]
    assert calls[1].messages[-1].content == CRITIQUE_PROMPT  # no evidence, same question
    assert "Step 1 is wrong: 2+3=5." in [m.content for m in calls[2].messages]
    assert result.feedback_kinds == ["intrinsic"]
    assert result.final_response == "Answer: 5"


async def test_calculator_tool_reports_wrong_arithmetic() -> None:
    task = NumberTask([Sample(id="m", input="What is 3*17?", target="51")])
    ctx = make_ctx(["3*17 = 41. Answer: 41", "The product is wrong.", "Answer: 51"], task)
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("critic", tool="calculator", max_rounds=1), ctx)
    assert [c.role for c in calls] == ["draft", "feedback", "refine"]
    assert "3*17 = 51, not 41" in calls[1].messages[-1].content
    assert result.feedback_kinds == ["tool"]
    assert result.final_response == "Answer: 51"


async def test_check_tool_is_the_tasks_own_check() -> None:
    ctx = make_ctx(["five", "The format is wrong.", "Answer: 5"], NumberTask(with_check=True))
    with capture_calls() as calls:
        await run_strategy(get_strategy("critic", tool="check", max_rounds=1), ctx)
    assert "No number found" in calls[1].messages[-1].content


async def test_max_rounds_when_the_answer_keeps_changing_and_patience_zero() -> None:
    outputs = ["Answer: 1", "c", "Answer: 2", "c", "Answer: 2", "c", "Answer: 3"]
    ctx = make_ctx(outputs)
    result = await run_strategy(
        get_strategy("critic", use_tool=False, max_rounds=3, patience=0), ctx
    )
    assert [c.round for c in result.checkpoints] == [0, 1, 2, 3]
    assert result.stop_reason == "max_rounds=3"


async def test_budget_stop_keeps_the_last_answer() -> None:
    ctx = make_ctx(
        ["Answer: 4", program("print(5)"), "Wrong.", "Answer: 5"], budget=Budget(max_calls=3)
    )
    result = await run_strategy(get_strategy("critic"), ctx)
    assert result.stop_reason == "budget: max_calls=3 reached"
    assert result.final_response == "Answer: 4"


@pytest.mark.parametrize("params", [{"tool": "search"}, {"patience": -1}, {"timeout_s": 0}])
def test_bad_parameters_are_config_errors(params: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        get_strategy("critic", **params)


CALC_SCRIPT = [
    "Answer: 4",
    "Critique one: 2+3 is not 4.",
    "Answer: 6",
    "Critique two: 2+3 is not 6.",
    "Answer: 5",
]


async def test_default_context_is_the_latest_answer_only_as_in_the_authors_code() -> None:
    ctx = make_ctx(CALC_SCRIPT)
    with capture_calls() as calls:
        await run_strategy(get_strategy("critic", tool="calculator", max_rounds=2), ctx)
    round2 = [c for c in calls if c.round == 2]
    seen = [m.content for m in round2[0].messages]
    assert seen[:2] == [calls[0].messages[0].content, "Answer: 6"]  # question + latest answer
    assert not any("Critique one" in m or "Answer: 4" in m for m in seen)
    assert len(round2[1].messages) == len(round2[0].messages) + 2  # + critique + correct prompt


async def test_history_context_keeps_the_growing_conversation() -> None:
    ctx = make_ctx(CALC_SCRIPT)
    with capture_calls() as calls:
        await run_strategy(
            get_strategy("critic", tool="calculator", max_rounds=2, context="history"), ctx
        )
    seen = [m.content for m in next(c for c in calls if c.round == 2).messages]
    assert "Answer: 4" in seen and "Critique one: 2+3 is not 4." in seen


async def test_latest_context_skips_an_answer_without_a_final_answer() -> None:
    ctx = make_ctx(["Answer: 4", "Crit one.", "I am not sure.", "Crit two.", "Answer: 5"])
    with capture_calls() as calls:
        await run_strategy(get_strategy("critic", tool="calculator", max_rounds=2), ctx)
    seen = [m.content for m in next(c for c in calls if c.round == 2).messages]
    assert seen[1] == "Answer: 4"  # "I am not sure." has no answer: the draft is criticised


def test_context_must_be_latest_or_history() -> None:
    with pytest.raises(ConfigError, match="context"):
        get_strategy("critic", context="everything")
