"""Failures are visible, never scores: errored samples, aborts, a failing store, parameters.

Each test is what an unlucky user meets: a flaky server, a wrong key, every call failing, a
full disk, a read-only database, a typo in a strategy parameter.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from reflectlab.errors import (
    AuthenticationError,
    ConfigError,
    ProviderUnavailableError,
    RunAbortedError,
    StoreError,
)
from reflectlab.model.providers.mock import MockRequest
from reflectlab.run import RunConfig, StrategySpec, resume_run, start_run, summarize_stored_run
from reflectlab.store import Store
from reflectlab.store._db import Database
from reflectlab.task import Sample, Score
from support.numbers import NumberTask

SAMPLES = [Sample(id=str(i), input=f"What is {i}+{i}?", target=str(2 * i)) for i in range(6)]


class Script:
    """A solver that answers right, except that questions in ``failing`` raise ``error``."""

    def __init__(self) -> None:
        self.failing: set[int] = set()
        self.error: Exception = ProviderUnavailableError("server error 503: overloaded")
        self.sent: list[str] = []

    def __call__(self, request: MockRequest) -> str:
        i = int(re.search(r"What is (\d+)", request.messages[0].content).group(1))  # type: ignore[union-attr]
        if i in self.failing:
            raise self.error
        self.sent.append(request.messages[-1].content)
        if request.messages[-1].content.startswith("Review your answer"):
            return "Looks right. [[CORRECT]]"
        return f"Answer: {2 * i}"


@pytest.fixture
def script(monkeypatch: pytest.MonkeyPatch) -> Script:
    from reflectlab.model.providers import mock

    solver = Script()
    original = mock.MockAPI.__init__

    def init(self: mock.MockAPI, model_name: str, **kw: object) -> None:
        kw.setdefault("outputs", solver)
        original(self, model_name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mock.MockAPI, "__init__", init)
    monkeypatch.setattr(
        "reflectlab.run._runner.get_task", lambda spec, **kw: NumberTask(list(SAMPLES))
    )
    return solver


def config(**kw: object) -> RunConfig:
    base: dict[str, object] = {
        "task": "numbers",
        "model": "mock/solver",
        "max_rounds": 1,
        "baselines": "none",
        "max_retries": 0,
        "concurrency": 2,
        "strategies": [StrategySpec(name="direct"), StrategySpec(name="self_refine")],
    }
    base.update(kw)
    return RunConfig.model_validate(base)


async def test_errored_samples_are_counted_apart_and_resume_retries_them(
    tmp_path: Path, script: Script
) -> None:
    script.failing = {1, 3}
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(), store)
    results = store.results(run_id)
    errored = [r for r in results if r.errored]
    assert sorted((r.strategy, r.sample_id) for r in errored) == [
        ("direct", "1"), ("direct", "3"), ("self_refine", "1"), ("self_refine", "3"),
    ]  # fmt: skip
    assert {r.error_kind for r in errored} == {"ProviderUnavailableError"}
    assert not any(r.final_correct for r in errored)  # never an answer
    _, summary = summarize_stored_run(store, run_id)
    direct = next(s for s in summary.strategies if s.name == "direct")
    assert direct.n == 6 and direct.correct == 4  # over all samples, errored ones not correct
    assert direct.errors_by_kind == {"ProviderUnavailableError": 2}
    (cmp,) = summary.comparisons
    assert cmp.n_paired == 4 and cmp.errored_excluded == 2
    assert "2 errored samples left out" in cmp.verdict

    sent_before = list(script.sent)
    kept = await resume_run(run_id, store, retry_errors=False)
    assert kept == run_id and sum(r.errored for r in store.results(run_id)) == 4
    assert script.sent == sent_before  # --keep-errors: nothing ran

    script.failing = set()
    await resume_run(run_id, store)
    results = store.results(run_id)
    assert not any(r.errored for r in results) and all(r.final_correct for r in results)
    # Only the errored samples ran again, and no request that had succeeded was sent again.
    again = script.sent[len(sent_before) :]
    assert again and all(("1+1" in m or "3+3" in m or "Review" in m) for m in again)
    con = sqlite3.connect(tmp_path / "r.db")
    fresh = con.execute(
        "SELECT request_hash FROM calls WHERE run_id = ? AND from_cache = 0 AND error IS NULL",
        (run_id,),
    ).fetchall()
    con.close()
    assert len(fresh) == len(set(fresh)), "a successful call was paid for twice"


async def test_refused_credentials_abort_the_run_at_once(tmp_path: Path, script: Script) -> None:
    script.failing = set(range(6))
    script.error = AuthenticationError("HTTP 401: invalid key; check OPENAI_API_KEY")
    store = Store(tmp_path / "r.db")
    with pytest.raises(RunAbortedError, match=r"refused the credentials.*OPENAI_API_KEY"):
        await start_run(config(concurrency=1), store)
    (run,) = store.list_runs()
    assert run.status == "failed" and "OPENAI_API_KEY" in (run.error or "")
    assert len(store.results(run.run_id)) == 1  # stopped at the first, not 12 failures later


async def test_a_run_whose_first_calls_all_fail_stops(tmp_path: Path, script: Script) -> None:
    script.failing = set(range(6))
    store = Store(tmp_path / "r.db")
    with pytest.raises(RunAbortedError, match="first 4 samples all failed"):
        await start_run(config(concurrency=1), store)
    (run,) = store.list_runs()
    assert run.status == "failed"
    assert len(store.results(run.run_id)) == 4


def _store_with(path: Path, pragma: str) -> Store:
    """A store whose every connection (the writer thread's included) runs ``pragma``."""

    class Limited(Store):
        def _connect(self) -> Database:
            db = super()._connect()
            db.execute(pragma)
            return db

    return Limited(path)


async def test_a_full_disk_fails_the_run_and_stores_no_sample_as_an_error(
    tmp_path: Path, script: Script
) -> None:
    path = tmp_path / "r.db"
    with Store(path) as fresh:
        pages = fresh.db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite's own 'disk full', on every connection the store opens (its writer's too)
    store = _store_with(path, f"PRAGMA max_page_count = {pages + 3}")
    with pytest.raises(StoreError, match=r"r\.db failed .*full"):
        await start_run(config(strategies=[StrategySpec(name="self_refine")]), store)
    store.close()
    con = sqlite3.connect(path)
    rows = con.execute("SELECT stop_reason, error FROM results").fetchall()
    con.close()
    assert all(stop != "strategy_error" for stop, _ in rows), rows


async def test_a_read_only_store_is_a_clear_error(tmp_path: Path, script: Script) -> None:
    store = Store(tmp_path / "r.db")
    store.close()
    store = _store_with(tmp_path / "r.db", "PRAGMA query_only = 1")
    with pytest.raises(StoreError, match=r"read-only|readonly"):
        await start_run(config(), store)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("self_refine:max_rounds=abc", "'max_rounds' = 'abc'.*expected int"),
        ("self_consistency:n=-3", "'n' = -3.*greater than or equal to 1"),
        ("best_of_n:n=2.5", "'n' = 2.5.*valid integer"),
        ("self_refine:max_rounds=1e9", "'max_rounds' = 1000000000.0"),
        ("self_refine:max_rounds=true", "'max_rounds' = True"),
        ("self_refine:feedback=gold", r"'feedback' = 'gold'.*'intrinsic' \| 'critic'"),
        ("self_refine:rounds=2", "no parameter.*'rounds'"),
    ],
)
async def test_bad_strategy_parameters_are_refused_before_a_run_exists(
    tmp_path: Path, script: Script, spec: str, expected: str
) -> None:
    store = Store(tmp_path / "r.db")
    with pytest.raises(ConfigError, match=expected):
        await start_run(config(strategies=[StrategySpec.parse(spec)]), store)
    assert store.list_runs() == [] and script.sent == []


async def test_a_strategys_own_max_rounds_is_honoured_not_clipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflectlab.model.providers import mock

    original = mock.MockAPI.__init__

    def never_satisfied(request: MockRequest) -> str:
        if request.messages[-1].content.startswith("Review your answer"):
            return "Wrong. [[INCORRECT]]"
        return "Answer: 0"

    def init(self: mock.MockAPI, model_name: str, **kw: object) -> None:
        kw.setdefault("outputs", never_satisfied)
        original(self, model_name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mock.MockAPI, "__init__", init)
    monkeypatch.setattr(
        "reflectlab.run._runner.get_task", lambda spec, **kw: NumberTask(list(SAMPLES[:1]))
    )
    store = Store(tmp_path / "r.db")
    cfg = config(max_rounds=1, strategies=[StrategySpec.parse("self_refine:max_rounds=4")])
    run_id = await start_run(cfg, store)
    (result,) = store.results(run_id)
    assert max(cp.round for cp in result.checkpoints) == 4
    assert result.stop_reason == "max_rounds=4"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"model": "foo/bar"}, "unknown provider 'foo'"),
        ({"model": "gpt-4o-mini"}, "must look like 'provider/model'"),
        ({"model": "llamacpp/qwen"}, "unknown local model 'qwen'"),
        ({"model": "openai/x", "base_url": "localhost:8000/v1"}, "not an absolute http"),
        ({"critic_model": "nope"}, "provider/model"),
    ],
)
async def test_bad_models_and_urls_are_refused_before_a_run_exists(
    tmp_path: Path, script: Script, options: dict[str, str], expected: str
) -> None:
    store = Store(tmp_path / "r.db")
    with pytest.raises(Exception, match=expected):
        await start_run(config(**options), store)
    assert store.list_runs() == []


async def test_the_report_names_errored_samples(tmp_path: Path, script: Script) -> None:
    from reflectlab.report import render_report

    script.failing = {2}
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(), store)
    html = render_report(store, run_id)
    assert "1 of 6 samples errored (ProviderUnavailableError ×1)" in html
    assert f"reflectlab resume {run_id}" in html


async def test_a_scorer_that_cannot_run_is_an_error_not_a_wrong_answer(
    tmp_path: Path, script: Script, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflectlab.errors import SandboxError

    class BrokenSandboxTask(NumberTask):
        async def score(self, sample: Sample, response: str) -> Score:
            raise SandboxError("sandbox launcher failed: cannot exec /tmp/venv/bin/python")

    monkeypatch.setattr(
        "reflectlab.run._runner.get_task", lambda spec, **kw: BrokenSandboxTask(list(SAMPLES))
    )
    store = Store(tmp_path / "r.db")
    run_id = await start_run(config(strategies=[StrategySpec(name="direct")]), store)
    results = store.results(run_id)
    assert all(r.error_kind == "SandboxError" and not r.final_correct for r in results)
    assert all("cannot exec" in (r.error or "") for r in results)
    _, summary = summarize_stored_run(store, run_id)
    assert summary.strategies[0].errors_by_kind == {"SandboxError": 6}
