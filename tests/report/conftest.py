"""Runs for the report tests, produced by the real runner with the mock provider.

The scripted solver is right on even questions at first; its self-critique always says
"wrong" (with markup a browser would run if the report ever injected it); after feedback it
fixes question 1 (wrong->right) and breaks question 2 (right->wrong).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from reflectlab.model.providers.mock import MockRequest
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import Store
from reflectlab.task import Sample
from support.numbers import NumberTask

XSS_INPUT = '<script>alert("input")</script>'
XSS_REPLY = '<img src=x onerror="window.__pwned=1"><script>alert("reply")</script>'
SAMPLES = [
    Sample(id=f"q{i}", input=f"What is {i}+{i}? {XSS_INPUT}", target=str(2 * i)) for i in range(6)
]


def solver(request: MockRequest) -> str:
    text = request.messages[0].content
    found = re.search(r"What is (\d+)", text)
    i = int(found.group(1)) if found else 0
    last = request.messages[-1].content
    if last.startswith("Review your answer"):
        return f"Looks wrong to me. {XSS_REPLY} [[INCORRECT]]"
    draft = f"Answer: {2 * i if i % 2 == 0 else 2 * i + 1}"
    if last.startswith("Feedback:"):
        return {1: "Answer: 2", 2: "Answer: 5"}.get(i, draft)
    return draft


@pytest.fixture
def mock_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner sees the number task and every mock model answers with ``solver``."""
    from reflectlab.model.providers import mock

    monkeypatch.setattr(
        "reflectlab.run._runner.get_task", lambda spec, **kw: NumberTask(list(SAMPLES))
    )
    original = mock.MockAPI.__init__

    def init(self: mock.MockAPI, model_name: str, **kw: Any) -> None:
        kw.setdefault("outputs", solver)
        original(self, model_name, **kw)

    monkeypatch.setattr(mock.MockAPI, "__init__", init)


RunMaker = Callable[..., Awaitable[tuple[Store, str]]]


@pytest.fixture
def make_run(tmp_path: Path, mock_solver: None) -> RunMaker:
    async def make(
        *strategies: str | StrategySpec, baselines: str = "none", **config: Any
    ) -> tuple[Store, str]:
        store = Store(tmp_path / "runs.db")
        cfg = RunConfig.model_validate(
            {
                "task": "numbers",
                "model": "mock/solver",
                "max_rounds": 1,
                "baselines": baselines,
                "strategies": [
                    StrategySpec.parse(s) if isinstance(s, str) else s for s in strategies
                ],
                **config,
            }
        )
        return store, await start_run(cfg, store)

    return make


@pytest.fixture
async def oracle_run(make_run: RunMaker) -> tuple[Store, str]:
    """direct, self_refine and oracle-fed self_refine, each reflection strategy with its
    three compute-matched baselines."""
    return await make_run(
        "direct", "self_refine", "self_refine:feedback=oracle", baselines="equal-calls"
    )
