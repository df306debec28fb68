"""Test support: a tiny numeric task and a context with a scripted mock model."""

from __future__ import annotations

import re
from typing import Any

from reflectlab.model import MemoryCache, Model, get_model
from reflectlab.strategy import Budget, StrategyContext
from reflectlab.task import CheckResult, Extracted, Sample, SampleView, Score, Task

_NUM = re.compile(r"-?\d+(?:\.\d+)?")


class NumberTask(Task):
    """Questions whose answer is the last number in the reply ("Answer: 42")."""

    name = "numbers"
    answer_kind = "number"

    def __init__(self, samples: list[Sample] | None = None, *, with_check: bool = False) -> None:
        self._samples = samples or [Sample(id="0", input="What is 2+3?", target="5")]
        self.with_check = with_check
        # A format check reads only the reply: label-free.
        self.label_free_check = "the reply ends with a number" if with_check else None  # type: ignore[misc]

    def samples(self) -> list[Sample]:
        return self._samples

    def format_prompt(self, sample: SampleView) -> str:
        return f"{sample.input}\nEnd with 'Answer: <number>'."

    def extract(self, sample: SampleView, response: str) -> Extracted:
        found = _NUM.findall(response)
        if not found:
            return Extracted(value=None, reason="no number in reply")
        return Extracted(value=str(float(found[-1])).removesuffix(".0"))

    async def score(self, sample: Sample, response: str) -> Score:
        ext = self.extract(sample, response)
        if ext.value is None:
            return Score(correct=False, reason=ext.reason)
        ok = ext.value == str(sample.target)
        return Score(correct=ok, value=float(ok), answer=ext.value)

    async def check(self, sample: SampleView, response: str) -> CheckResult | None:
        if not self.with_check:
            return None
        ext = self.extract(sample, response)
        if ext.value is None:
            return CheckResult(passed=False, feedback="No number found; end with 'Answer: N'.")
        return CheckResult(passed=True, feedback="Format check passed.")


def make_ctx(
    outputs: list[str] | object,
    task: Task | None = None,
    *,
    critic_outputs: list[str] | None = None,
    budget: Budget | None = None,
) -> StrategyContext:
    """A context whose solver (and optional critic) is a scripted mock with a memory cache."""
    task = task or NumberTask()
    model: Model = get_model("mock/solver", outputs=outputs, cache=MemoryCache())
    critic = (
        get_model("mock/critic", outputs=critic_outputs, cache=MemoryCache())
        if critic_outputs is not None
        else None
    )
    return StrategyContext(
        model=model, critic=critic, task=task, sample=task.samples()[0], budget=budget
    )


def patch_mock_outputs(monkeypatch: Any, fn: object) -> None:
    """Every mock model built from now on (in this test) answers with ``fn`` unless given its
    own outputs: for runs whose models the runner builds."""
    from reflectlab.model.providers import mock

    original = mock.MockAPI.__init__

    def init(self: mock.MockAPI, model_name: str, **kw: object) -> None:
        kw.setdefault("outputs", fn)
        original(self, model_name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mock.MockAPI, "__init__", init)
