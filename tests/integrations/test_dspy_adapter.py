"""A reflectlab strategy as a DSPy module, its calls answered by DSPy's DummyLM."""

from __future__ import annotations

import pytest

from reflectlab.errors import ConfigError

pytest.importorskip("dspy", reason="the DSPy adapter needs: pip install 'reflectlab[dspy]'")

import dspy
from dspy.utils import DummyLM

from reflectlab.integrations.dspy import StrategyModule


def test_strategy_runs_as_a_dspy_module_through_the_configured_lm() -> None:
    lm = DummyLM([{"answer": "4"}] * 10)
    module = StrategyModule("self_refine", params={"max_rounds": 1})
    assert isinstance(module, dspy.Module)
    with dspy.context(lm=lm):
        pred = module(question="What is 2 + 2?")
    assert pred.error is None
    assert "4" in pred.answer
    assert pred.calls >= 2
    assert pred.checkpoints[0]["round"] == 0
    # every call of the strategy went to DSPy's LM, which recorded it
    assert len(lm.history) == pred.calls
    assert lm.history[0]["messages"][-1]["content"].startswith("What is 2 + 2?")


async def test_acall_and_an_explicit_lm_and_the_budget() -> None:
    lm = DummyLM([{"answer": str(i)} for i in range(10)])
    module = StrategyModule("self_consistency", params={"n": 5}, max_calls=3, lm=lm)
    pred = await module.acall(question="Pick a number.")
    assert pred.calls == 3 == len(lm.history)
    assert pred.error is None


def test_without_an_lm_or_with_a_bad_strategy_it_fails_clearly() -> None:
    with pytest.raises(ConfigError, match="unknown strategy"):
        StrategyModule("no_such_strategy")
    with dspy.context(lm=None), pytest.raises(ConfigError, match="no DSPy LM"):
        StrategyModule("cot")(question="hi")


async def test_repeated_requests_get_distinct_rollout_ids_so_dspy_does_not_serve_one_reply() -> (
    None
):
    from dspy.lm15 import Message, Response, Usage

    seen: list[object] = []

    class RecordingLM:
        model = "recording"

        async def acall(self, request: object, **kwargs: object) -> Response:
            seen.append(kwargs.get("rollout_id"))
            return Response(
                id=None,
                model="recording",
                message=Message.assistant(f"Answer: {len(seen)}"),
                finish_reason="stop",
                usage=Usage(input_tokens=3, output_tokens=2),
            )

    module = StrategyModule("self_consistency", params={"n": 3}, lm=RecordingLM())
    pred = await module.acall(question="Pick a number.")
    assert pred.error is None
    assert seen == [None, 1, 2]
    assert pred.tokens == 15
