"""A reflectlab strategy as an Inspect AI solver, run by ``inspect_ai.eval`` on mockllm."""

from __future__ import annotations

from pathlib import Path

import pytest

from reflectlab.errors import ConfigError

pytest.importorskip(
    "inspect_ai", reason="the Inspect adapter needs: pip install 'reflectlab[inspect]'"
)

from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.scorer import includes

from reflectlab.integrations.inspect import reflectlab_solver


@pytest.fixture(autouse=True)
def _offline_token_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    """mockllm fills in usage with Inspect's tiktoken estimate, whose o200k_base table tiktoken
    downloads on first use; offline (the suite's rule) count words instead."""
    import inspect_ai.model._model as inspect_model

    monkeypatch.setattr(inspect_model, "count_text_tokens", lambda text: len(text.split()) or 1)


def _eval(tmp_path: Path, **solver_args: object) -> list:  # type: ignore[type-arg]
    task = Task(
        dataset=[
            Sample(id="a", input="What is 2 + 2?", target="Default output"),
            Sample(id="b", input="Name a prime.", target="Default output"),
        ],
        solver=reflectlab_solver(**solver_args),  # type: ignore[arg-type]
        scorer=includes(),
    )
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    assert log.samples is not None
    return log.samples


def test_strategy_runs_inside_inspect_eval_and_its_calls_are_inspect_model_calls(
    tmp_path: Path,
) -> None:
    samples = _eval(tmp_path, strategy="self_refine", params={"max_rounds": 1})
    assert len(samples) == 2
    for s in samples:
        meta = s.metadata["reflectlab"]
        assert meta["strategy"] == "self_refine"
        assert meta["error"] is None
        # a draft, a critique and (unless the critique stops it) a refinement: several calls
        assert meta["calls"] >= 2
        assert meta["checkpoints"], "the strategy's checkpoints are in the state's metadata"
        assert meta["checkpoints"][0]["round"] == 0
        # every call of the strategy went through Inspect's model, so Inspect logged it
        model_events = [e for e in s.events if e.event == "model"]
        assert len(model_events) == meta["calls"]
        assert s.output.completion.startswith("Default output from mockllm/model")
        assert s.scores is not None
        assert next(iter(s.scores.values())).value == "C"


def test_budget_bounds_the_calls(tmp_path: Path) -> None:
    samples = _eval(tmp_path, strategy="self_consistency", params={"n": 5}, max_calls=2)
    for s in samples:
        meta = s.metadata["reflectlab"]
        assert meta["calls"] == 2
        assert meta["error"] is None
        assert len([e for e in s.events if e.event == "model"]) == 2


def test_unknown_strategy_or_parameter_fails_before_the_eval() -> None:
    with pytest.raises(ConfigError, match="unknown strategy"):
        reflectlab_solver("no_such_strategy")
    with pytest.raises(ConfigError, match="no parameter"):
        reflectlab_solver("self_refine", params={"rounds": 2})
