"""best_of_n: n sampled candidates, then selection by a judge, the task check or the gold label."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import MemoryCache, capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest
from reflectlab.strategy import Budget, StrategyContext, get_strategy, run_strategy
from reflectlab.strategy.best_of_n import parse_score
from support.numbers import NumberTask, make_ctx


def judge_by_answer(scores: dict[str, str]) -> object:
    """A mock judge: the reply for the candidate named in the prompt."""

    def reply(req: MockRequest) -> str:
        candidate = req.prompt.split("Proposed answer:\n", 1)[1].split("\n\n", 1)[0]
        return scores[candidate]

    return reply


def ctx_with_judge(
    drafts: list[str], judge: object, budget: Budget | None = None
) -> StrategyContext:
    task = NumberTask()
    return StrategyContext(
        model=get_model("mock/solver", outputs=drafts, cache=MemoryCache()),
        judge=get_model("mock/judge", outputs=judge, cache=MemoryCache()),
        task=task,
        sample=task.samples()[0],
        budget=budget,
    )


async def test_judge_scores_each_candidate_and_the_best_is_kept() -> None:
    judge = judge_by_answer(
        {
            "Answer: 4": "Off by one.\nScore: 2",
            "Answer: 5": "Right.\nScore: 9",
            "Answer: 6": "Score: 3",
        }
    )
    ctx = ctx_with_judge(["Answer: 4", "Answer: 5", "Answer: 6"], judge)
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("best_of_n", n=3), ctx)
    drafts = [c for c in calls if c.role == "draft"]
    judged = [c for c in calls if c.role == "judge"]
    assert [(c.model, c.round) for c in drafts] == [("mock/solver", 0)] * 3
    assert sorted(c.sample_index for c in drafts) == [0, 1, 2]  # three distinct samples
    assert all(c.config.temperature == 0.7 for c in drafts)
    assert [(c.model, c.round) for c in judged] == [("mock/judge", 1)] * 3
    assert result.final_response == "Answer: 5"
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "Answer: 4"),
        (1, "Answer: 5"),
    ]
    assert result.notes["scores"] == [2.0, 9.0, 3.0]
    assert result.feedback_kinds == ["critic"]  # a separate judge model
    assert not result.oracle_assisted


async def test_unparseable_scores_rank_lowest_and_are_counted() -> None:
    judge = judge_by_answer(
        {"Answer: 5": "Looks great to me!", "Answer: 6": "Score: 11", "Answer: 7": "Score: 3/10"}
    )
    ctx = ctx_with_judge(["Answer: 5", "Answer: 6", "Answer: 7"], judge)
    result = await run_strategy(get_strategy("best_of_n", n=3), ctx)
    assert result.final_response == "Answer: 7"
    assert result.notes["unparseable_judge_scores"] == 2
    assert result.notes["scores"] == [None, None, 3.0]
    assert result.error is None


async def test_solver_judges_itself_without_a_judge_model_and_ties_go_to_the_majority() -> None:
    def solver(req: MockRequest) -> str:
        if req.prompt.startswith("You are checking"):
            return "Score: 8"
        return ["Answer: 4", "Answer: 5", "So it is 5."][(req.call_number - 1) % 3]

    ctx = make_ctx(solver)
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("best_of_n", n=3), ctx)
    assert {c.model for c in calls} == {"mock/solver"}
    assert result.feedback_kinds == ["intrinsic"]
    assert result.final_response == "Answer: 5"  # all tied at 8: majority answer 5, first seen
    assert result.notes["selected"] == 1


async def test_tool_selector_keeps_a_candidate_that_passes_the_check() -> None:
    ctx = make_ctx(["I am not sure", "Answer: 7", "no clue"], NumberTask(with_check=True))
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("best_of_n", n=3, selector="tool"), ctx)
    assert [c.role for c in calls] == ["draft"] * 3  # the check costs no model call
    assert result.final_response == "Answer: 7"
    assert result.feedback_kinds == ["tool"]
    assert not result.oracle_assisted


async def test_oracle_selector_marks_the_run() -> None:
    ctx = make_ctx(["Answer: 4", "Answer: 6", "Answer: 5"])
    result = await run_strategy(get_strategy("best_of_n", n=3, selector="oracle"), ctx)
    assert result.final_response == "Answer: 5"
    assert result.oracle_assisted
    assert result.feedback_kinds == ["oracle"]


async def test_budget_shrinks_n_so_candidates_and_judging_fit() -> None:
    judge = judge_by_answer({"Answer: 4": "Score: 1", "Answer: 5": "Score: 10"})
    ctx = ctx_with_judge(["Answer: 4", "Answer: 5", "Answer: 6"], judge, budget=Budget(max_calls=4))
    result = await run_strategy(get_strategy("best_of_n", n=5), ctx)
    assert result.notes["candidates"] == 2
    assert result.calls == 4
    assert result.final_response == "Answer: 5"


async def test_budget_of_one_call_gives_the_single_sample() -> None:
    ctx = make_ctx(["Answer: 4"], budget=Budget(max_calls=1))
    result = await run_strategy(get_strategy("best_of_n", n=5), ctx)
    assert result.calls == 1
    assert result.final_response == "Answer: 4"
    assert "one candidate" in result.stop_reason


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("Reasoning...\nScore: 7", 7.0),
        ("**Score:** 8/10", 8.0),
        ("Score: 2\nOn reflection:\nScore: 6", 6.0),
        ("Score: 11", None),
        ("Score: 0", None),
        ("I would give it a 7.", None),
        ("The score: seven", None),
    ],
)
def test_parse_score_is_strict(text: str, score: float | None) -> None:
    assert parse_score(text) == score


@pytest.mark.parametrize("params", [{"temperature": 0.0}, {"n": 0}, {"selector": "vibes"}])
def test_bad_parameters_are_config_errors(params: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        get_strategy("best_of_n", **params)
