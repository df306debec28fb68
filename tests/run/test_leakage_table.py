"""Every strategy x feedback variant x built-in task is labelled by what it really read.

The spy counts every call of a task's gold paths (``score``, ``oracle_check``) made *while a
strategy runs* (the runner's own scoring afterwards is not counted). For each combination:

- a run that touched gold information is ORACLE-ASSISTED in its results and summary, and a run
  that did not is not: the label follows the reads, not the strategy's name;
- a variant that names ``oracle`` in its parameters is oracle-assisted; none other is;
- a variant that asks for the task's label-free check on a task that has none (arith, knights,
  and IFEval and ``constraints``, whose checkers are the scorer) is refused before a run or a
  call exists;
- a strategy with an offline stage (``rot``) runs on the task with a training split of one
  sample: its gold uses there are recorded with the stage, and its test results are not
  ORACLE-ASSISTED (no test sample's gold was read while the strategy ran).

Variants are generated from each strategy's typed signature (every value of every ``Literal``
parameter), so a strategy added later is covered without editing this test.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import ConfigError
from reflectlab.model import current_tags
from reflectlab.run import RunConfig, StrategySpec, start_run, summarize_stored_run
from reflectlab.store import Store
from reflectlab.strategy import StrategyContext, list_strategies
from reflectlab.task import Task

_IN_STRATEGY: contextvars.ContextVar[str | None] = contextvars.ContextVar("in", default=None)

# The only built-in task whose check reads nothing but the reply and the prompt: the examples
# its prompt shows. arith and knights have no check; constraints' and IFEval's is the scorer.
LABEL_FREE_CHECKS = {"code"}
IFEVAL_ROW = {
    "key": 1,
    "prompt": "Write a haiku about rain. Do not use any commas.",
    "instruction_id_list": ["punctuation:no_comma"],
    "kwargs": [{}],
}


def _variants(info: Any) -> Iterator[dict[str, Any]]:
    """The defaults, then each value of each Literal-typed parameter on its own."""
    yield {}
    if info.schema is None:
        return
    for name, field in info.schema.model_fields.items():
        annotation = field.annotation
        if typing.get_origin(annotation) is typing.Literal:
            for value in typing.get_args(annotation):
                if value != info.params.get(name):
                    yield {name: value}
    if "use_tool" in info.params:
        yield {"use_tool": False}


def _tasks(tmp: Path) -> dict[str, str]:
    path = tmp / "input_data.jsonl"
    # Two rows: a strategy with an offline stage trains on the first (limit=1 runs the first
    # test sample).
    path.write_text(json.dumps(IFEVAL_ROW) + "\n" + json.dumps({**IFEVAL_ROW, "key": 2}) + "\n")
    return {"arith": "arith", "knights": "knights", "constraints": "constraints",
            "code": "code", "ifeval": f"ifeval:{path}"}  # fmt: skip


class GoldSpy:
    """Counts gold reads per strategy label while a strategy runs."""

    def __init__(self) -> None:
        self.reads: dict[str, int] = {}

    def wrap(self, task: Task) -> Task:
        for name in ("score", "oracle_check"):
            real = getattr(task, name)

            async def spy(*args: Any, _real: Any = real, **kw: Any) -> Any:
                label = _IN_STRATEGY.get()
                if label is not None:
                    self.reads[label] = self.reads.get(label, 0) + 1
                return await _real(*args, **kw)

            setattr(task, name, spy)
        return task


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> GoldSpy:
    gold = GoldSpy()
    import reflectlab.run._executors as executors
    import reflectlab.run._runner as runner

    real_get_task, real_run_strategy = runner.get_task, executors.run_strategy

    def get_spied_task(spec: str, **kw: Any) -> Task:
        return gold.wrap(real_get_task(spec, **kw))

    async def run_spied(fn: Any, ctx: StrategyContext) -> Any:
        # What the strategy holds has no path to the label but the oracle channel.
        assert not hasattr(ctx.sample, "target")
        assert not any(hasattr(ctx.task, a) for a in ("score", "samples", "oracle_check"))
        token = _IN_STRATEGY.set(str(current_tags()["strategy"]))
        try:
            return await real_run_strategy(fn, ctx)
        finally:
            _IN_STRATEGY.reset(token)

    monkeypatch.setattr(runner, "get_task", get_spied_task)
    monkeypatch.setattr(executors, "run_strategy", run_spied)
    return gold


def _run(store: Store, task: str, spec: StrategySpec, *, train: bool = False) -> str:
    options: dict[str, Any] = {"n": 2 if train else 1} if ":" not in task else {}
    config = RunConfig(
        task=task,
        task_options={**options, "train": 1} if train else options,
        strategies=[spec],
        model="mock/solver",
        critic_model="mock/critic",
        judge_model="mock/judge",
        max_rounds=1,
        baselines="none",
        limit=1,
    )
    return asyncio.run(start_run(config, store))


@pytest.mark.parametrize("info", list_strategies(), ids=lambda i: i.name)
def test_every_combination_is_labelled_by_what_it_read(
    info: Any, spy: GoldSpy, tmp_path: Path
) -> None:
    store = Store(tmp_path / "runs.db")
    tasks = _tasks(tmp_path)
    checked = 0
    for params in _variants(info):
        spec = StrategySpec(name=info.name, params=params)
        label = spec.display()
        resolved = info.validate(params)
        wants_oracle = "oracle" in resolved.values()
        for task_name, task_spec in tasks.items():
            runs_before = len(store.list_runs())
            if info.uses_task_check(resolved) and task_name not in LABEL_FREE_CHECKS:
                with pytest.raises(ConfigError, match=r"no label-free check.*feedback=oracle"):
                    _run(store, task_spec, spec)
                assert len(store.list_runs()) == runs_before, "refused only after a run existed"
                continue
            spy.reads.pop(label, None)
            train = info.needs_training(resolved)
            run_id = _run(store, task_spec, spec, train=train)
            reads = spy.reads.get(label, 0)
            [result] = store.results(run_id)
            where = f"{label} on {task_name}"
            assert result.oracle_assisted == (reads > 0), f"{where}: {reads} gold reads"
            assert result.oracle_assisted == wants_oracle, f"{where}: label vs parameters"
            if result.oracle_assisted:
                assert result.detail["oracle_reasons"], where
            _, summary = summarize_stored_run(store, run_id)
            [row] = summary.strategies
            assert (row.provenance == "ORACLE-ASSISTED") == wants_oracle, where
            if train:  # one recorded gold use on the training sample, none on a test sample
                [stage] = store.offline_stages(run_id)
                assert len(stage.oracle_reasons) == 1, where
            checked += 1
    assert checked > 0
