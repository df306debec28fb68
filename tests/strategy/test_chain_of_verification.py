"""``chain_of_verification`` (Dhuliawala et al. 2023): plan, execute (joint / two-step /
factored / factor+revise), final verified response in a fresh prompt (Section 8 frames)."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.model import capture_calls
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, get_strategy, run_strategy
from reflectlab.strategy import chain_of_verification as cove
from reflectlab.strategy.chain_of_verification import parse_cross_check, parse_numbered_answers
from support.numbers import make_ctx

TASK = "What is 2+3?\nEnd with 'Answer: <number>'."
BASELINE = "2+3 = 6. Answer: 6"
PLAN = "1. What is 2+3?\n2. Is 6 the sum of 2 and 3?"
FINAL = "2+3 = 5. Answer: 5"


def script(plan: str = PLAN, cross: str = "INCONSISTENT.") -> Callable[[MockRequest], str]:
    def reply(req: MockRequest) -> str:
        p = req.prompt
        if p.startswith("Write verification questions") and "answer each of them" in p:
            return "Q: What is 2+3?\nA: 5"
        if p.startswith("Write verification questions"):
            return plan
        if p.startswith("Answer each of the following"):
            return "Answer 1: 5\nAnswer 2: No, it is 5."
        if p.startswith("Q: "):
            return "5" if "What is 2+3?" in p else "No, the sum is 5."
        if p.startswith("Say whether the context is consistent"):
            return cross
        if p.startswith("Revise the answer in the context"):
            return FINAL
        return BASELINE

    return reply


async def test_factored_answers_each_question_alone_then_revises_in_a_fresh_prompt() -> None:
    ctx = make_ctx(script())
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification"), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("plan", 1),
        ("verify", 1),
        ("verify", 1),
        ("refine", 1),
    ]
    plan = calls[1].messages
    assert len(plan) == 1 and plan[0].content.endswith(
        f"Context: Q: {TASK}\nA: {BASELINE}\nResponse:"
    )
    verify = [c for c in calls if c.role == "verify"]
    # Factored (Table 7's frame): one fresh single-message context per question, no baseline,
    # no other question.
    assert sorted(c.messages[0].content for c in verify) == [
        "Q: Is 6 the sum of 2 and 3?\nA:",
        "Q: What is 2+3?\nA:",
    ]
    final = calls[-1].messages
    # Table 8: a fresh prompt, the verifications presented as from another source.
    assert len(final) == 1
    assert final[0].content.endswith(
        f"Context: Q: {TASK}\nA: {BASELINE}\nFrom another source,\n"
        "Q: What is 2+3?\nA: 5\nQ: Is 6 the sum of 2 and 3?\nA: No, the sum is 5.\nResponse:"
    )
    assert "End with 'Answer: <number>'.\n\nContext:" in final[0].content
    assert [(c.round, c.response) for c in result.checkpoints] == [(0, BASELINE), (1, FINAL)]
    assert result.notes["verification_questions"] == ["What is 2+3?", "Is 6 the sum of 2 and 3?"]
    assert result.feedback_kinds == ["intrinsic"]


async def test_every_call_is_greedy_unless_told_otherwise() -> None:
    with capture_calls() as calls:
        await run_strategy(get_strategy("chain_of_verification"), make_ctx(script()))
    assert {c.config.temperature for c in calls} == {0.0}
    with capture_calls() as calls:
        fn = get_strategy("chain_of_verification", mode="factor_revise", temperature=0.4)
        await run_strategy(fn, make_ctx(script()))
    assert {c.config.temperature for c in calls} == {0.4}


async def test_two_step_answers_the_questions_together_without_the_baseline() -> None:
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("chain_of_verification", mode="two_step"), make_ctx(script())
        )
    assert [c.role for c in calls] == ["draft", "plan", "verify", "refine"]
    verify = calls[2].messages
    assert len(verify) == 1 and BASELINE not in verify[0].content
    assert "Q: Is 6 the sum of 2 and 3?\nA: No, it is 5." in calls[-1].messages[-1].content
    assert "unanswered_questions" not in result.notes or result.notes["unanswered_questions"] == 0


async def test_joint_plans_and_answers_in_one_call_that_sees_the_baseline() -> None:
    with capture_calls() as calls:
        await run_strategy(get_strategy("chain_of_verification", mode="joint"), make_ctx(script()))
    assert [c.role for c in calls] == ["draft", "plan", "refine"]
    assert BASELINE in calls[1].messages[0].content
    assert (
        "From another source,\nQ: What is 2+3?\nA: 5\nResponse:" in calls[-1].messages[-1].content
    )


async def test_factor_revise_cross_checks_each_answer_and_the_reviser_sees_the_outputs() -> None:
    ctx = make_ctx(script(cross="INCONSISTENT."))
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("chain_of_verification", mode="factor_revise"), ctx
        )
    checks = [c for c in calls if c.role == "cross_check"]
    assert len(checks) == 2
    # Table 9's frame: the baseline as context, one Q + A from "another source".
    assert all(len(c.messages) == 1 for c in checks)
    assert any(
        c.messages[0].content.endswith(
            f"Context: {BASELINE}\nFrom another source,\nQ: What is 2+3?\nA: 5\nResponse:"
        )
        for c in checks
    )
    assert "A: 5\nCross-check: INCONSISTENT.\n" in calls[-1].messages[0].content
    assert result.notes["cross_check_verdicts"] == ["inconsistent", "inconsistent"]
    assert result.notes["cross_check_parse_failures"] == 0


async def test_factor_revise_counts_unreadable_verdicts_and_never_guesses() -> None:
    ctx = make_ctx(script(cross="Hard to say; it is consistent with part of it."))
    with capture_calls() as calls:
        result = await run_strategy(
            get_strategy("chain_of_verification", mode="factor_revise"), ctx
        )
    assert result.notes["cross_check_parse_failures"] == 2
    assert result.notes["cross_check_verdicts"] == [None, None]
    assert "Cross-check: Hard to say; it is consistent" in calls[-1].messages[0].content


async def test_unreadable_plan_is_counted_and_the_baseline_stands() -> None:
    ctx = make_ctx(script(plan="I would check the sum."))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification"), ctx)
    assert [c.role for c in calls] == ["draft", "plan"]
    assert result.notes["plan_parse_failures"] == 1
    assert result.final_response == BASELINE
    assert "baseline kept" in result.stop_reason


async def test_max_questions_caps_the_plan_and_counts_the_rest() -> None:
    plan = "\n".join(f"{i}. Question number {i}?" for i in range(1, 8))
    ctx = make_ctx(script(plan=plan))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification", max_questions=3), ctx)
    assert [c.role for c in calls].count("verify") == 3
    assert result.notes["questions_dropped"] == 4


async def test_factored_group_that_does_not_fit_the_budget_makes_no_call() -> None:
    ctx = make_ctx(script(), budget=Budget(max_calls=3))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("chain_of_verification"), ctx)
    assert [c.role for c in calls] == ["draft", "plan"]
    assert result.stop_reason.startswith("budget: max_calls=3")
    assert result.final_response == BASELINE


def test_parsers_never_guess() -> None:
    assert parse_cross_check("CONSISTENT. 2+3 = 5") == "consistent"
    assert parse_cross_check("INCONSISTENT.") == "inconsistent"
    assert parse_cross_check("PARTIALLY CONSISTENT. The sum is 5.") == "partially consistent"
    assert parse_cross_check("It is consistent with the answer.") is None
    assert parse_numbered_answers("Answer 1: 5\nmore\nQuestion 2: x\nAnswer 3: y", 3) == [
        "5 more",
        None,
        "y",
    ]


def test_strategies_show_prints_the_default_templates() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["strategies", "show", "chain_of_verification", "--json"])
    shown = json.loads(out.stdout)
    names = [
        "CROSS_CHECK_PROMPT",
        "FACTORED_PROMPT",
        "FINAL_PROMPT",
        "JOINT_PROMPT",
        "PLAN_PROMPT",
        "TWO_STEP_PROMPT",
    ]
    assert shown["prompt_templates"] == {name: getattr(cove, name) for name in names}
    assert shown["overridable_prompts"] == names
    plain = runner.invoke(
        app, ["strategies", "show", "chain_of_verification"], terminal_width=200
    ).stdout
    assert all(f"{name}  (overridable)" in plain for name in names)
    # Section 8's frames, as the paper prints them.
    assert cove.FACTORED_PROMPT == "Q: {question}\nA:"
    assert cove.PLAN_PROMPT.endswith("Context: Q: {question}\nA: {response}\nResponse:")
    assert "\nFrom another source,\n{verifications}\nResponse:" in cove.FINAL_PROMPT
