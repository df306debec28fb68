"""``mad`` (Liang et al. 2023): debaters, moderator, adaptive break, final judge, parsing."""

from __future__ import annotations

import json
from collections.abc import Callable

from reflectlab.model import MemoryCache, capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, StrategyContext, get_strategy, run_strategy
from reflectlab.strategy._parsing import parse_json_object
from reflectlab.strategy.mad import parse_ruling
from support.numbers import make_ctx

AFF_OPEN = "Affirmative: 2+3 is 4. Answer: 4"
NEG_OPEN = "Negative: I disagree, 2+3 is 5. Answer: 5"
REASONS = "Provide your answer and reasons."


def debaters() -> Callable[[MockRequest], str]:
    """Affirmative opens with 4; the negative argues 5; later rounds answer by who speaks."""

    def reply(req: MockRequest) -> str:
        if "You disagree with my answer" in req.prompt:
            return NEG_OPEN
        if "Do you agree with my perspective" in req.prompt:
            if req.prompt.startswith("Negative"):
                return "Affirmative, round 2: you are right. Answer: 5"
            return "Negative, round 2: I keep my answer. Answer: 5"
        return AFF_OPEN

    return reply


def ruling(preference: str, answer: str = "", side: str = "Negative") -> str:
    return json.dumps(
        {
            "Whether there is a preference": preference,
            "Supported Side": side,
            "Reason": "2+3=5",
            "debate_answer": answer,
        }
    )


def with_judge(ctx: StrategyContext, outputs: list[str]) -> StrategyContext:
    ctx.judge = get_model("mock/judge", outputs=outputs, cache=MemoryCache())
    return ctx


async def test_moderator_decision_ends_the_debate_early() -> None:
    ctx = with_judge(make_ctx(debaters()), ["```json\n" + ruling("Yes", "5") + "\n```"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("mad", max_rounds=3), ctx)
    assert [(c.role, c.round, c.model) for c in calls] == [
        ("draft", 0, "mock/solver"),
        ("debate", 1, "mock/solver"),
        ("judge", 1, "mock/judge"),
    ]
    assert [(c.round, c.response) for c in result.checkpoints] == [(0, AFF_OPEN), (1, "5")]
    assert result.final_response == "5"
    assert result.stop_reason == "moderator decided in round 1"
    # A separate judge model's ruling is critic feedback; the opposing debater is intrinsic.
    assert result.feedback_kinds == ["critic", "intrinsic"]
    assert result.notes["judge_parse_failures"] == 0


async def test_debaters_read_each_other_and_the_judge_extracts_after_max_rounds() -> None:
    ctx = with_judge(
        make_ctx(debaters()),
        [
            ruling("No"),
            ruling("No", "5"),  # an answer without a preference does not end the debate
            "Candidates: 4 and 5.",
            json.dumps({"Reason": "both agree now", "debate_answer": "5"}),
        ],
    )
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("mad", max_rounds=2), ctx)
    assert [(c.role, c.round) for c in calls] == [
        ("draft", 0),
        ("debate", 1),
        ("judge", 1),
        ("debate", 2),
        ("debate", 2),
        ("judge", 2),
        ("judge", 3),
        ("judge", 3),
    ]
    neg_open, aff_2, neg_2 = calls[1], calls[3], calls[4]
    assert AFF_OPEN in neg_open.messages[-1].content
    assert neg_open.messages[-1].content.endswith("You disagree with my answer. " + REASONS)
    assert neg_open.messages[0].role == "system" and "debater" in neg_open.messages[0].content
    assert aff_2.messages[-1].content.startswith(NEG_OPEN)  # affirmative answers the negative
    assert aff_2.messages[: len(calls[0].messages)] == calls[0].messages  # its own history
    # Turn-taking: the negative answers the affirmative's *new* argument of this round.
    assert neg_2.messages[-1].content.startswith("Affirmative, round 2")
    moderator_2 = calls[5].messages[-1].content
    assert "second round" in moderator_2
    assert "Affirmative, round 2" in moderator_2 and "Negative, round 2" in moderator_2
    # The moderator keeps one growing conversation: system, round 1 (asked, ruled), round 2.
    assert len(calls[5].messages) == 4
    final_judge = calls[6].messages[-1].content
    assert "Affirmative, round 2" in final_judge and "answer candidates" in final_judge
    assert [c.round for c in result.checkpoints] == [0, 1, 2, 3]
    assert result.checkpoints[2].response == "Affirmative, round 2: you are right. Answer: 5"
    assert result.final_response == "5"
    assert result.stop_reason == "judge extracted the answer after max_rounds=2"


async def test_unparseable_ruling_never_stops_and_is_counted() -> None:
    ctx = with_judge(
        make_ctx(debaters()),
        ["The negative side is clearly right, the answer is 5.", ruling("Yes", "5")],
    )
    result = await run_strategy(get_strategy("mad", max_rounds=3), ctx)
    assert result.notes["judge_parse_failures"] == 1
    assert result.stop_reason == "moderator decided in round 2"
    assert result.final_response == "5"


async def test_unusable_final_judge_falls_back_to_a_debater_counted() -> None:
    ctx = with_judge(make_ctx(debaters()), [ruling("No"), "candidates", "I cannot decide."])
    result = await run_strategy(get_strategy("mad", max_rounds=1), ctx)
    assert result.notes["judge_parse_failures"] == 1
    assert result.notes["judge_answer_unusable"] == 1
    assert result.final_response == AFF_OPEN
    assert result.error is None


async def test_answer_the_task_cannot_read_is_replaced_by_the_supported_side() -> None:
    ctx = with_judge(make_ctx(debaters()), [ruling("Yes", "the negative one", "Negative")])
    result = await run_strategy(get_strategy("mad"), ctx)
    assert result.final_response == NEG_OPEN
    assert result.notes["judge_answer_unusable"] == 1


async def test_without_a_judge_model_the_solver_moderates_as_intrinsic_feedback() -> None:
    def solver(req: MockRequest) -> str:
        if "moderator" in req.prompt:
            return ruling("Yes", "5")
        return debaters()(req)

    with capture_calls() as calls:
        result = await run_strategy(get_strategy("mad"), make_ctx(solver))
    assert {c.model for c in calls} == {"mock/solver"}
    assert result.feedback_kinds == ["intrinsic"]


async def test_budget_stop_keeps_the_last_checkpoint() -> None:
    ctx = with_judge(make_ctx(debaters()), [ruling("No")] * 3)
    ctx.budget = Budget(max_calls=4)
    result = await run_strategy(get_strategy("mad", max_rounds=3), ctx)
    # Round 1 takes 3 calls; round 2 (two debaters) does not fit in the one call left, so
    # neither debater speaks.
    assert result.stop_reason.startswith("budget: max_calls=4")
    assert result.calls == 3
    assert result.final_response == AFF_OPEN


def test_ruling_parser_is_strict_but_tolerates_fences_and_key_spelling() -> None:
    assert parse_ruling(
        'Here:\n```json\n{"whether there is a preference": "Yes.", '
        '"supported side": "Affirmative", "Debate Answer": "4"}\n```'
    ).decided
    assert not parse_ruling(ruling("No", "5")).decided
    assert not parse_ruling(ruling("Yes", "")).decided
    assert not parse_ruling('{"debate_answer": "5"}').parsed  # no preference stated
    assert not parse_ruling(ruling("Maybe", "5")).parsed
    assert not parse_ruling("{'debate_answer': '5'}").parsed  # not JSON
    assert parse_json_object("no json here") is None


async def test_zero_round_budget_keeps_the_opening_answer() -> None:
    ctx = with_judge(make_ctx(debaters()), [])
    ctx.budget = Budget(max_rounds=0)
    result = await run_strategy(get_strategy("mad"), ctx)
    assert result.calls == 1
    assert result.final_response == AFF_OPEN
    assert result.stop_reason == "budget: max_rounds=0"
