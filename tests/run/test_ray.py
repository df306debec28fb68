"""The Ray executor against the fake server on a local Ray (2 CPUs): the same results as the
local executor, the driver as the only writer, a dead worker's samples run again, and a resume
after the driver was killed repeats no finished call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'reflectlab[ray]')")

from reflectlab._util.fake_openai import fake_server_process  # noqa: E402
from reflectlab.run import RunConfig, StrategySpec, start_run, summarize_stored_run  # noqa: E402
from reflectlab.run._ray import RayExecutor  # noqa: E402
from reflectlab.store import ResultRecord, Store  # noqa: E402


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with fake_server_process(0.01, "--arith-accuracy", "0.6") as url:
        yield url


def config(url: str, **kw: Any) -> RunConfig:
    base: dict[str, Any] = {
        "task": "arith",
        "model": "openai/fake",
        "base_url": url,
        "limit": 10,
        "max_rounds": 1,
        "concurrency": 4,
        "baselines": "none",
        "strategies": [StrategySpec(name="direct"), StrategySpec(name="self_refine")],
    }
    base.update(kw)
    return RunConfig.model_validate(base)


def outcome(r: ResultRecord) -> tuple[Any, ...]:
    return (
        r.strategy,
        r.sample_id,
        r.final_response,
        r.final_correct,
        r.stop_reason,
        r.error_kind,
        # Calls and hits together: which of two strategies pays for the request they share
        # (self_refine's draft is direct's request) and which gets the hit depends on timing.
        r.calls + r.cache_hits,
        [(c.round, c.response, c.correct) for c in r.checkpoints],
    )


def fresh_requests(store: Store, run_id: str) -> list[tuple[str, str, str]]:
    rows = store.db.execute(
        "SELECT strategy, sample_id, request_hash FROM calls WHERE run_id = ? "
        "AND from_cache = 0 AND error IS NULL",
        (run_id,),
    )
    return sorted(rows)


async def test_a_ray_run_equals_a_local_run(local_ray: None, server: str, tmp_path: Path) -> None:
    cfg = config(server)
    with Store(tmp_path / "local.db") as local:
        local_id = await start_run(cfg, local)
        expected = sorted(outcome(r) for r in local.results(local_id))
        _, local_summary = summarize_stored_run(local, local_id)
        local_requests = {h for _, _, h in fresh_requests(local, local_id)}
    executor = RayExecutor(workers=2)
    with Store(tmp_path / "ray.db") as store:
        run_id = await start_run(cfg, store, executor=executor)
        run, summary = summarize_stored_run(store, run_id)
        assert run.status == "completed" and run.n_done == 20
        assert sorted(outcome(r) for r in store.results(run_id)) == expected
        assert [s.accuracy for s in summary.strategies] == [
            s.accuracy for s in local_summary.strategies
        ]
        # every call the workers made is in the driver's store, with its cache entry
        calls = store.calls(run_id=run_id)
        assert calls and all(c.tags["run_id"] == run_id for c in calls)
        assert {h for _, _, h in fresh_requests(store, run_id)} == local_requests
        ids = {cid for r in store.results(run_id) for cid in r.detail["call_ids"]}
        assert ids == {c.call_id for c in calls}
        cached = store.db.execute(
            "SELECT COUNT(*) FROM cache WHERE key IN (SELECT request_hash FROM calls "
            "WHERE run_id = ? AND from_cache = 0)",
            (run_id,),
        ).fetchone()[0]
        assert cached == len(local_requests)
    assert executor.actors == []  # closed with the run


async def test_a_dead_worker_s_samples_run_again(
    local_ray: None, server: str, tmp_path: Path
) -> None:
    cfg = config(server, limit=12)
    with Store(tmp_path / "local.db") as local:
        expected = sorted(outcome(r) for r in local.results(await start_run(cfg, local)))
    executor = RayExecutor(workers=2)
    killed: list[Any] = []

    def kill_one(record: ResultRecord) -> None:
        if not killed and executor.actors:
            killed.append(executor.actors[0])
            ray.kill(executor.actors[0], no_restart=True)

    with Store(tmp_path / "ray.db") as store:
        run_id = await start_run(cfg, store, executor=executor, on_result=kill_one)
        assert killed and executor.replaced >= 1
        results = store.results(run_id)
        assert len(results) == 24 and not any(r.errored for r in results)
        assert sorted(outcome(r) for r in results) == expected


def test_resume_after_the_ray_driver_was_killed_repeats_no_finished_call(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    env = {**os.environ, "REFLECTLAB_HOME": str(tmp_path)}
    with fake_server_process(0.2, "--arith-accuracy", "0.6") as slow:
        cmd = [
            sys.executable,
            "-m",
            "reflectlab",
            "run",
            "--task",
            "arith",
            "--strategy",
            "direct,self_refine",
            "--model",
            "openai/fake",
            "--base-url",
            slow,
            "--limit",
            "16",
            "--max-rounds",
            "1",
            "--concurrency",
            "4",
            "--baselines",
            "none",
            "--executor",
            "ray",
            "--quiet",
            "--db",
            str(db),
        ]
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and proc.poll() is None:
                if _count(db, "SELECT COUNT(*) FROM results") >= 4:
                    break
                time.sleep(0.1)
            if proc.poll() is not None:
                pytest.fail("the run ended before it could be killed half-way")
            os.kill(proc.pid, signal.SIGKILL)  # the driver; its local Ray goes with it
            proc.wait()
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            _kill_group(proc.pid)
        before = _count(db, "SELECT COUNT(*) FROM calls WHERE from_cache = 0 AND error IS NULL")
        assert 0 < _count(db, "SELECT COUNT(*) FROM results") < 32
        resumed = subprocess.run(
            [sys.executable, "-m", "reflectlab", "resume", _run_id(db), "--json", "--db", str(db)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["progress"]["done"] == 32
    with Store(db) as store:
        fresh = fresh_requests(store, _run_id(db))
    assert before > 0
    # no request of a sample was paid twice: what finished before the kill came from the cache
    assert len(fresh) == len(set(fresh))


def _count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        return int(con.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def _run_id(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return str(con.execute("SELECT run_id FROM runs").fetchone()[0])
    finally:
        con.close()


def _kill_group(pid: int) -> None:
    """The killed driver's own session: the Ray processes it started, if any outlived it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def test_resume_on_ray_finishes_the_rest_and_repeats_no_finished_call(
    local_ray: None, server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``reflectlab resume RUN --executor ray`` on a run that was cut off: the samples whose
    results were not written run on Ray, their finished calls come from the cache, and every
    request is paid for once."""
    from typer.testing import CliRunner

    from reflectlab.cli import app

    db = tmp_path / "r.db"
    with Store(db) as store:
        run_id = asyncio.run(start_run(config(server), store))
        paid = fresh_requests(store, run_id)
        # The state a kill leaves: odd positions unfinished; of those, self_refine had done
        # its draft but not its critique and refinement (neither call record nor cache entry).
        odd = [s.sample_id for s in store.run_samples(run_id) if s.position % 2 == 1]
        marks = ",".join("?" * len(odd))
        for table in ("checkpoints", "results"):
            store.db.execute(f"DELETE FROM {table} WHERE sample_id IN ({marks})", odd)
        lost = store.db.execute(
            f"SELECT call_id, request_hash FROM calls WHERE strategy = 'self_refine' "
            f"AND role != 'draft' AND sample_id IN ({marks})",
            odd,
        ).fetchall()
        assert lost
        for call_id, key in lost:
            store.db.execute("DELETE FROM calls WHERE call_id = ?", (call_id,))
            store.db.execute("DELETE FROM cache WHERE key = ?", (key,))
        store.set_run_status(run_id, "interrupted")
        kept = fresh_requests(store, run_id)
    on_ray: list[str] = []
    real = RayExecutor.run_strategy

    async def spy(self: RayExecutor, runner: Any, job: Any, fn: Any) -> Any:
        on_ray.append(job.sample.id)
        return await real(self, runner, job, fn)

    monkeypatch.setattr(RayExecutor, "run_strategy", spy)
    result = CliRunner().invoke(
        app, ["resume", run_id, "--executor", "ray", "--json", "--quiet", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["progress"]["done"] == 20
    assert sorted(on_ray) == sorted(odd * 2)  # both strategies of each unfinished sample
    with Store(db) as store:
        after = fresh_requests(store, run_id)
        assert store.get_run(run_id).status == "completed"  # type: ignore[union-attr]
        assert len(store.results(run_id)) == 20
    # Nothing paid twice; exactly the lost calls were made again, nothing that had finished.
    assert len(after) == len(set(after)) == len(paid)
    assert sorted(after) == paid
    assert len(after) - len(kept) == len(lost)
