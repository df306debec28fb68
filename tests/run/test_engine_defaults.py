"""Defaults a run takes on the embedded engine: concurrency = slots, the task's max_tokens, the
duration estimate; and the generation speed ``show`` reports. Deterministic: nothing loads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reflectlab.model import CallEvent, Usage
from reflectlab.model.providers import llamacpp
from reflectlab.run import RunConfig, StrategySpec
from reflectlab.run._runner import _calls_per_sample, engine_defaults, estimate_seconds
from reflectlab.store import Store
from reflectlab.task import get_task


@pytest.fixture(autouse=True)
def _engine_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REFLECTLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_THREADS", "1")
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_SLOTS", "3")
    monkeypatch.setattr(llamacpp, "_cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))


def _config(**kw: object) -> RunConfig:
    return RunConfig(
        task="arith",
        strategies=[StrategySpec(name="direct"), StrategySpec(name="self_refine")],
        **kw,  # type: ignore[arg-type]
    )


def test_builtin_tasks_have_reply_sized_defaults() -> None:
    sizes = {name: get_task(name).default_max_tokens for name in ("arith", "code", "constraints")}
    assert sizes == {"arith": 400, "code": 600, "constraints": 800}


def test_embedded_run_takes_slots_and_task_max_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    config = engine_defaults(_config(model="llamacpp/default"), get_task("arith"), n_samples=8)
    assert (config.concurrency, config.max_tokens) == (3, 400)
    err = capsys.readouterr().err.strip()
    assert err.startswith("estimated ") and "\n" not in err
    assert "on llamacpp/default (1 thread, 3 slots, load 0.0)" in err
    assert "~232 calls of up to 400 tokens" in err  # 8 x (1 + 7 x (1 + 3 matched baselines))


def test_what_the_user_set_is_kept(capsys: pytest.CaptureFixture[str]) -> None:
    config = engine_defaults(
        _config(model="llamacpp/default", concurrency=8, max_tokens=50),
        get_task("arith"),
        n_samples=2,
    )
    assert (config.concurrency, config.max_tokens) == (8, 50)


def test_other_providers_are_untouched(capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(model="mock/echo")
    assert engine_defaults(config, get_task("arith"), n_samples=2) is config
    assert capsys.readouterr().err == ""


def test_calls_per_sample_counts_rounds_and_matched_baselines() -> None:
    assert _calls_per_sample(_config(model="mock/x", baselines="none")) == 1 + 7
    with_baselines = _calls_per_sample(_config(model="mock/x", max_rounds=1))
    assert with_baselines > 1 + 3  # self_refine's compute-matched baselines cost calls too


@pytest.mark.parametrize(
    ("spec", "calls"),
    [
        ("self_correct", 1 + 2 * 2),  # its own rounds=2, not the run's --max-rounds 3
        ("self_correct:rounds=3", 1 + 2 * 3),
        ("self_refine:max_rounds=1", 1 + 2 * 1),
        ("self_consistency:n=7", 7),
        ("best_of_n", 5 * 2),  # a judge score per candidate
        ("best_of_n:selector=tool", 5),
        ("debate", 3 * (2 + 1)),  # every agent answers, then again each round
    ],
)
def test_calls_per_sample_reads_the_strategy_s_own_parameters(spec: str, calls: int) -> None:
    # The counts a mock run of each makes (checked by hand: debate 9, best_of_n 10, ...).
    config = RunConfig(
        task="arith", model="mock/x", strategies=[StrategySpec.parse(spec)], baselines="none"
    )
    assert _calls_per_sample(config) == calls


def test_estimate_bounds() -> None:
    low, high = estimate_seconds(100, 400, 100.0)
    assert (low, high) == pytest.approx((176.0, 396.0))


def test_generation_speed_per_model_from_fresh_calls(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")

    def call(i: int, model: str, tokens: int, latency: float, **kw: object) -> CallEvent:
        return CallEvent(
            call_id=f"c{i}",
            model=model,
            request_hash=f"h{i}",
            messages=[],
            config={},  # type: ignore[arg-type]
            usage=Usage(prompt_tokens=10, completion_tokens=tokens),
            latency_s=latency,
            tags={"run_id": "r1"},
            **kw,  # type: ignore[arg-type]
        )

    store.record_call(call(1, "llamacpp/default", 100, 2.0))
    store.record_call(call(2, "llamacpp/default", 50, 3.0))
    store.record_call(call(3, "llamacpp/default", 999, 0.001, from_cache=True))
    store.record_call(call(4, "llamacpp/default", 0, 9.0, error="boom"))
    store.record_call(call(5, "mock/echo", 10, 1.0))
    assert store.generation_tok_s("r1") == {
        "llamacpp/default": pytest.approx(30.0),
        "mock/echo": pytest.approx(10.0),
    }
    assert store.generation_tok_s("other") == {}
    store.close()


@pytest.mark.parametrize("rounds", [1, 2])
async def test_no_strategy_makes_more_calls_than_its_count_says(
    tmp_path: Path, rounds: int
) -> None:
    """The estimate's per-strategy counts are upper bounds of what a run really sends (the
    mock never says "correct", so reflection runs every round)."""
    from reflectlab.run import start_run
    from reflectlab.run._runner import resolved_params
    from reflectlab.strategy import list_strategies, strategy_info

    skip = {"rot", "dual_model", "mad"}  # a training split / a critic model of their own
    specs = [StrategySpec(name=s.name) for s in list_strategies() if s.name not in skip]
    config = RunConfig(
        task="arith",
        model="mock/x",
        limit=2,
        max_rounds=rounds,
        baselines="none",
        strategies=specs,
    )
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config, store)
    over = []
    for r in store.results(run_id, with_checkpoints=False):
        spec = StrategySpec.parse(r.strategy)
        bound = strategy_info(spec.name).max_calls(resolved_params(spec, config))
        if r.calls + r.cache_hits > bound:
            over.append((r.strategy, r.calls + r.cache_hits, bound))
    assert not over
    store.close()
