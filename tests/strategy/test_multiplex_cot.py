"""``multiplex_cot`` (Ji et al. 2025): two chains of thought, the second critiques the first."""

from __future__ import annotations

from reflectlab.model import capture_calls
from reflectlab.strategy import Budget, get_strategy, run_strategy
from support.numbers import make_ctx


async def test_second_chain_reads_the_first_and_gives_the_final_answer() -> None:
    ctx = make_ctx(["2+3 is 6. Answer: 6", "Step 1 is wrong: 2+3 is 5. Answer: 5"])
    with capture_calls() as calls:
        result = await run_strategy(get_strategy("multiplex_cot"), ctx)
    assert [(c.role, c.round) for c in calls] == [("draft", 0), ("refine", 1)]
    second = calls[1].messages
    assert second[1].content == "2+3 is 6. Answer: 6"
    assert second[-1].content.startswith("Now start a second chain of thought")
    assert second[-1].content.endswith("End with 'Answer: <number>'.")
    assert "Think step by step" in second[0].content
    assert [(c.round, c.response) for c in result.checkpoints] == [
        (0, "2+3 is 6. Answer: 6"),
        (1, "Step 1 is wrong: 2+3 is 5. Answer: 5"),
    ]
    assert result.stop_reason == "completed"
    assert result.feedback_kinds == ["intrinsic"]


async def test_budget_of_one_call_keeps_the_first_chain() -> None:
    ctx = make_ctx(["Answer: 6", "Answer: 5"], budget=Budget(max_calls=1))
    result = await run_strategy(get_strategy("multiplex_cot"), ctx)
    assert result.final_response == "Answer: 6"
    assert result.stop_reason.startswith("budget: max_calls=1")
