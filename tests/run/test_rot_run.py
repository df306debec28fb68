"""``rot`` through the runner: the train/test split, the offline stage once per run (stored,
counted, resumed, under the run budget), honest provenance, and the guidelines in show and
the report."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reflectlab.cli._runview import print_summary
from reflectlab.errors import ConfigError
from reflectlab.model.providers.mock import MockRequest
from reflectlab.report import render_report, report_data
from reflectlab.run import RunConfig, StrategySpec, resume_run, start_run, summarize_stored_run
from reflectlab.store import OFFLINE_SAMPLE, Store
from reflectlab.strategy import TRAIN_ORACLE, OfflineStage
from reflectlab.strategy._registry import _REGISTRY
from reflectlab.task import Sample, get_task
from reflectlab.task._split import SplitOptions, split_task
from support.numbers import NumberTask, patch_mock_outputs

SAMPLES = [Sample(id=str(i), input=f"What is {i}+{i}?", target=str(2 * i)) for i in range(6)]
TRAIN_IDS = {"0", "1"}
GUIDE = "GUIDE: add the two numbers, then check the sum."
ROT = StrategySpec(name="rot", params={"width": 2, "iterations": 2, "depth": 2})


_SEARCHED: dict[int, int] = {}


def solver(request: MockRequest) -> str:
    """Search: a right then a wrong final step per question (counted per question, so the
    trees do not depend on how their calls interleave); reflect; merge; answer."""
    text = request.prompt
    if "decompose it into sub-questions" in text:
        i = int(text.split("Question 3: What is ")[1].split("+")[0])
        seen = _SEARCHED[i] = _SEARCHED.get(i, 0) + 1
        right = 2 * i if seen % 2 == 1 else 99
        return (
            "Question 3.1: Now we can answer the question: sum?\n"
            f"Answer 3.1: The answer is {right}."
        )
    if text.startswith("Below are some examples"):
        return "Summarization: s\nPolicy: Check the sum twice."
    if text.startswith("The following are some policies."):
        return GUIDE
    i = int(text.split("What is ")[-1].split("+")[0])
    return f"Answer: {2 * i}"


@pytest.fixture(autouse=True)
def split_number_task(monkeypatch: pytest.MonkeyPatch) -> None:
    _SEARCHED.clear()

    def make(spec: str, **kw: Any) -> Any:
        return split_task(NumberTask(list(SAMPLES)), SplitOptions(train=kw.get("train", 0)))

    monkeypatch.setattr("reflectlab.run._runner.get_task", make)


def config(**kw: object) -> RunConfig:
    base: dict[str, object] = {
        "task": "numbers",
        "task_options": {"train": 2},
        "model": "mock/solver",
        "baselines": "none",
        "concurrency": 1,
        "strategies": [ROT, StrategySpec(name="direct")],
    }
    base.update(kw)
    return RunConfig.model_validate(base)


async def learned(monkeypatch: pytest.MonkeyPatch, path: Path, **kw: object) -> tuple[Store, str]:
    """A finished run of :func:`config` (with ``kw``) on the scripted solver."""
    patch_mock_outputs(monkeypatch, solver)
    store = Store(path / "r.db")
    return store, await start_run(config(**kw), store)


def count_offline_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Wrap rot's offline stage to count how often it runs."""
    info = _REGISTRY["rot"]
    assert info.offline is not None
    stage = info.offline
    runs: list[int] = []

    async def counted(octx: Any, params: dict[str, Any]) -> Any:
        runs.append(1)
        return await stage.run(octx, params)

    wrapped = OfflineStage(run=counted, needed=stage.needed)
    monkeypatch.setitem(_REGISTRY, "rot", dataclasses.replace(info, offline=wrapped))
    return runs


async def test_guidelines_learned_on_train_reach_every_test_prompt_and_no_train_sample_is_scored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, run_id = await learned(monkeypatch, tmp_path, temperature=0.0)
    results = store.results(run_id)
    assert {r.sample_id for r in results} == {"2", "3", "4", "5"}
    assert {s.sample_id for s in store.run_samples(run_id)} == {"2", "3", "4", "5"}
    calls = store.calls(run_id=run_id)
    offline = [c for c in calls if c.tags.get("sample_id") == OFFLINE_SAMPLE]
    assert {c.role for c in offline} == {"search", "reflect", "merge"}
    # Only training questions are searched; test samples get one call each.
    searched = {
        c.messages[-1].content.split("Question 3: ")[1][:12] for c in offline if c.role == "search"
    }
    assert searched == {"What is 0+0?", "What is 1+1?"}
    # The search samples at rot's temperature whatever the run's (greedy) temperature is.
    assert {c.config.temperature for c in offline if c.role == "search"} == {0.8}
    tests = [
        c
        for c in calls
        if c.tags.get("strategy") == "rot:depth=2:iterations=2:width=2" and c.role == "draft"
    ]
    assert len(tests) == 4
    assert {c.config.temperature for c in tests} == {0.0}
    for c in tests:
        assert c.messages[-1].content.startswith(GUIDE + "\nWhat is ")
    rot = [r for r in results if r.strategy.startswith("rot")]
    # Honest labels: no test gold (not ORACLE-ASSISTED), learned from training gold.
    assert all(
        not r.oracle_assisted and r.feedback_kinds == ["intrinsic", TRAIN_ORACLE] for r in rot
    )
    _, summary = summarize_stored_run(store, run_id)
    row = next(s for s in summary.strategies if s.name.startswith("rot"))
    assert row.provenance == f"intrinsic+{TRAIN_ORACLE}" and not row.oracle_assisted
    assert row.calls == 4  # the offline stage is counted apart
    [stage] = store.offline_stages(run_id)
    assert stage.params == {"guidelines": GUIDE}
    assert stage.calls == len(offline) and stage.prompt_tokens > 0
    assert len(stage.oracle_reasons) == 2
    assert stage.record["split"]["train_ids"] == ["0", "1"]


async def test_show_and_report_give_the_guidelines_and_where_the_labels_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, run_id = await learned(monkeypatch, tmp_path)
    out = io.StringIO()
    print_summary(store, run_id, as_json=False, out=Console(file=out, width=100))
    text = out.getvalue()
    assert "offline stage on 2 training samples" in text and GUIDE in text
    assert "oracle on the training split only" in text
    data = report_data(render_report(store, run_id))
    [stage] = data["offline"]
    assert stage["guidelines"] == GUIDE and stage["train_samples"] == 2
    assert "Learned offline" in render_report(store, run_id)


def test_show_json_lists_the_offline_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store, run_id = asyncio.run(learned(monkeypatch, tmp_path))
    print_summary(store, run_id, as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert data["offline_stages"][0]["guidelines"] == GUIDE


async def test_resume_reuses_the_stored_offline_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = count_offline_runs(monkeypatch)
    gate = asyncio.Event()
    drafts: list[str] = []

    async def hanging(request: MockRequest) -> str:
        if request.prompt.startswith(GUIDE):
            drafts.append(request.prompt)
            if len(drafts) > 1 and not gate.is_set():
                await asyncio.Event().wait()  # hang in the second test sample
        return solver(request)

    patch_mock_outputs(monkeypatch, hanging)
    store = Store(tmp_path / "r.db")
    task = asyncio.create_task(start_run(config(strategies=[ROT]), store))
    while len(drafts) < 2:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (run,) = store.list_runs()
    assert run.status == "interrupted" and len(store.offline_stages(run.run_id)) == 1
    offline_before = [
        c for c in store.calls(run_id=run.run_id) if c.tags.get("sample_id") == OFFLINE_SAMPLE
    ]
    gate.set()
    await resume_run(run.run_id, store)
    assert runs == [1]  # learned once, before the interruption
    offline_after = [
        c for c in store.calls(run_id=run.run_id) if c.tags.get("sample_id") == OFFLINE_SAMPLE
    ]
    assert len(offline_after) == len(offline_before)
    done = store.get_run(run.run_id)
    assert done is not None and done.status == "completed" and done.n_done == 4


async def test_run_budget_spent_in_the_offline_stage_stops_before_any_test_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, run_id = await learned(monkeypatch, tmp_path, budget_tokens=10)
    run = store.get_run(run_id)
    assert run is not None and run.status == "budget_exhausted"
    assert "offline stage" in (run.error or "")
    assert store.results(run_id) == [] and len(store.offline_stages(run_id)) == 1


async def test_per_sample_budget_truncates_training_searches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, run_id = await learned(monkeypatch, tmp_path, sample_budget_calls=1, strategies=[ROT])
    [stage] = store.offline_stages(run_id)
    assert stage.record["notes"]["truncated_trees"] == 2
    assert stage.params == {"guidelines": ""}
    assert all(r.stop_reason == "completed" for r in store.results(run_id))


async def test_rot_without_a_training_split_is_refused_before_a_run_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    patch_mock_outputs(monkeypatch, solver)
    store = Store(tmp_path / "r.db")
    with pytest.raises(ConfigError, match=r"learns on a training split.*train=N"):
        await start_run(config(task_options={}), store)
    assert store.list_runs() == [] and store.calls() == []
    # Given guidelines, rot needs no split and runs no offline stage.
    spec = StrategySpec(name="rot", params={"guidelines": GUIDE})
    run_id = await start_run(config(task_options={}, strategies=[spec]), store)
    assert store.offline_stages(run_id) == [] and len(store.results(run_id)) == 6


def test_split_options_on_real_tasks(tmp_path: Path) -> None:
    task = get_task("arith", n=5, train=2)
    assert [s.id for s in task.samples()] == ["2", "3", "4"]
    assert [s.id for s in task.train_samples()] == ["0", "1"]
    assert task.describe()["split"]["train_ids"] == ["0", "1"]
    assert get_task("arith", n=5).train_samples() == []
    with pytest.raises(ConfigError, match="train=5 leaves no test sample"):
        get_task("arith", n=5, train=5)
    with pytest.raises(ConfigError, match="option 'train'"):
        get_task("arith", n=5, train=-1)
    gsm = "/work/shared/data/gsm8k/test.jsonl"
    rows = Path(gsm).read_text(encoding="utf-8").splitlines()[:3]
    train_file = tmp_path / "train.jsonl"
    train_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    task = get_task(f"gsm8k:{gsm}", n=4, train_file=str(train_file), train=2)
    assert len(task.samples()) == 4 and len(task.train_samples()) == 2
    assert task.describe()["split"]["train_source"] == str(train_file)
    assert task.default_max_tokens == 400  # the wrapped task's declarations are kept


async def test_merged_shards_keep_the_offline_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflectlab.run._shards import Shard, merge_stores, sharded_run_id

    patch_mock_outputs(monkeypatch, solver)
    cfg = config(strategies=[ROT])
    paths = []
    for i in range(2):
        path = tmp_path / f"shard{i}.db"
        with Store(path) as store:
            await start_run(cfg, store, shard=Shard(index=i, count=2))
        paths.append(path)
    with Store(tmp_path / "out.db") as out:
        merge_stores(paths, out)
        run_id = sharded_run_id(cfg)
        [stage] = out.offline_stages(run_id)
        assert stage.params == {"guidelines": GUIDE}
        assert {r.sample_id for r in out.results(run_id)} == {"2", "3", "4", "5"}


@pytest.mark.parametrize(
    "params",
    [
        {"width": 2, "iterations": 2, "depth": 2},
        {"width": 3, "iterations": 4, "depth": 3, "max_states": 3, "batch": 2},
    ],
)
async def test_the_offline_stage_makes_no_more_calls_than_the_estimate_counts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, params: dict[str, int]
) -> None:
    from reflectlab.run._runner import resolved_params
    from reflectlab.strategy import strategy_info

    spec = StrategySpec(name="rot", params=params)
    store, run_id = await learned(monkeypatch, tmp_path, strategies=[spec])
    [stage] = store.offline_stages(run_id)
    info = strategy_info("rot")
    assert info.offline is not None and info.offline.calls is not None
    bound = info.offline.calls(resolved_params(spec, config(strategies=[spec])), len(TRAIN_IDS))
    assert 0 < stage.calls + stage.cache_hits <= bound
    store.close()


def test_the_duration_estimate_counts_the_offline_stage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reflectlab.model.providers import llamacpp
    from reflectlab.run._runner import engine_defaults

    plan = llamacpp.EnginePlan(
        model="llamacpp/default", threads=1, slots=1, ctx_per_slot=4096, gen_tok_s=100.0
    )
    monkeypatch.setattr(llamacpp, "engine_plan", lambda name: plan)
    task = split_task(NumberTask(list(SAMPLES)), SplitOptions(train=2))
    engine_defaults(config(model="llamacpp/default", strategies=[ROT]), task, n_samples=4)
    # 2 training samples x 2 iterations x depth 2, 30 states / 5 per batch, 1 merge
    assert "(+ ~15 of offline stages on the training split)" in capsys.readouterr().err
