"""``multiplex_cot`` (Ji et al. 2025): the authors' two think steps, as two calls or one prompt."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy import multiplex_cot as mx
from support.numbers import make_ctx

TASK = "What is 2+3?\nEnd with 'Answer: <number>'."
FIRST = "Step 1: 2+3 is 6. Answer: 6"
SECOND = "Step 1 is wrong: 2+3 is 5. Answer: 5"


async def test_two_calls_the_second_sees_the_first_analysis_not_the_question() -> None:
    ctx = make_ctx([FIRST, SECOND])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("multiplex_cot"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0), ("refine", 1)]
    first = calls[0].messages
    assert len(first) == 1 and first[0].content.startswith("# Role\nYou are an expert AI")
    assert (
        f"Please help analyze the following question:\n{TASK}\n\n# First Think" in first[0].content
    )
    second = calls[1].messages
    # api.py: a fresh prompt holding the first analysis; the question is not in it.
    assert len(second) == 1 and second[0].role == "user"
    text = second[0].content
    assert text.startswith(f"# Review and Verification\n\nBased on the previous analysis:\n{FIRST}")
    assert "What is 2+3?" not in text
    assert text.endswith("Please provide your detailed review:\n\nEnd with 'Answer: <number>'.")
    assert [(c.round, c.response) for c in result.checkpoints] == [(0, FIRST), (1, SECOND)]
    assert result.stop_reason == "completed"
    assert result.feedback_kinds == ["intrinsic"]


async def test_one_call_sends_the_notebook_prompt_as_system_and_the_question_as_user() -> None:
    ctx = make_ctx(["First think ... reviewer CoT ... Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("multiplex_cot", mode="one_call"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0)]
    system, user = calls[0].messages
    assert system.role == "system" and system.content == mx.SYSTEM_PROMPT
    assert "## First Think step" in system.content and "## Second Think step" in system.content
    assert user.role == "user" and user.content == TASK
    assert [c.round for c in result.checkpoints] == [0]
    assert result.feedback_kinds == []


async def test_budget_of_one_call_keeps_the_first_chain() -> None:
    ctx = make_ctx(["Answer: 6", "Answer: 5"], budget=Budget(max_calls=1))
    result = await run_strategy(get_strategy("multiplex_cot"), ctx)
    assert result.final_response == "Answer: 6"
    assert result.stop_reason.startswith("budget: max_calls=1")


def test_strategies_show_prints_the_default_templates() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["strategies", "show", "multiplex_cot", "--json"])
    shown = json.loads(out.stdout)
    names = ["ANSWER_REMINDER", "FIRST_PROMPT", "SECOND_PROMPT", "SYSTEM_PROMPT"]
    assert shown["prompt_templates"] == {name: getattr(mx, name) for name in names}
    assert shown["overridable_prompts"] == names
    plain = runner.invoke(app, ["strategies", "show", "multiplex_cot"], terminal_width=200).stdout
    assert all(f"{name}  (overridable)" in plain for name in names)
    # The authors' wording, as api.py has it.
    assert mx.FIRST_PROMPT.endswith(
        "6. Use best practices.\n\nPlease provide your step-by-step analysis:"
    )
    assert mx.SECOND_PROMPT.endswith(
        "3. Explore alternative answers and potential errors\n\n"
        "Please provide your detailed review:"
    )
