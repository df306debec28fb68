"""One live runner per run: a second runner is refused, a dead owner's lease is taken over.

The second runner is a real second process (``reflectlab resume`` while ``reflectlab run``
is still going), against the fake OpenAI server in its own process: what a user does who
forgets a run is still going in another terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reflectlab._util.fake_openai import fake_server_process
from reflectlab.errors import RunLockedError
from reflectlab.run import RunConfig, StrategySpec, start_run
from reflectlab.store import Store
from reflectlab.store._leases import process_start


def _run_row(db: Path) -> tuple[str, int]:
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT run_id FROM runs").fetchone()
        done = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:
        return "", 0
    finally:
        con.close()
    return (row[0] if row else ""), int(done)


def _fresh_hashes(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT request_hash FROM calls WHERE from_cache = 0 AND error IS NULL"
    ).fetchall()
    con.close()
    return [r[0] for r in rows]


def test_a_second_process_is_refused_and_a_killed_owner_is_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    env = {**os.environ, "REFLECTLAB_HOME": str(tmp_path)}
    with fake_server_process(latency_s=0.1) as base_url:
        run = subprocess.Popen(
            [sys.executable, "-m", "reflectlab", "run", "--task", "arith", "--strategy",
             "direct,self_refine", "--model", "openai/fake", "--base-url", base_url,
             "--limit", "12", "--concurrency", "1", "--baselines", "none", "--quiet",
             "--db", str(db)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        run_id, done = _run_row(db)
        while done < 2 and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            run_id, done = _run_row(db)
        if run.poll() is not None:
            pytest.fail("the run finished before a second process could try it")

        def resume() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "reflectlab", "resume", run_id, "--json", "--db", str(db)],
                env=env, capture_output=True, text=True, check=False, timeout=300,
            )  # fmt: skip

        second = resume()
        assert second.returncode == 1, second.stderr
        assert f"being run by process {run.pid}" in second.stderr
        assert run.poll() is None  # the owner goes on untouched

        run.send_signal(signal.SIGKILL)
        run.wait()
        taken = resume()
        assert taken.returncode == 0, taken.stderr
        summary = json.loads(taken.stdout)
        assert summary["status"] == "completed"
        assert {s["name"]: s["n"] for s in summary["strategies"]} == {
            "direct": 12,
            "self_refine": 12,
        }
    fresh = _fresh_hashes(db)
    assert len(fresh) == len(set(fresh)), "a call was paid for twice"


def test_lease_in_one_process_and_stale_leases(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    store.db.execute(
        "INSERT INTO runs (run_id, created_at, updated_at, status, task, model, strategies, "
        "n_samples, n_expected, config_json, versions_json) "
        "VALUES ('r1', 0, 0, 'running', 't', 'm', '[]', 0, 0, '{}', '{}')"
    )
    token = store.acquire_lease("r1")
    with pytest.raises(RunLockedError, match="being run by this process"):
        store.acquire_lease("r1")
    assert store.heartbeat("r1", token)

    # A process that has exited: its lease is stale.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    store.db.execute("UPDATE run_leases SET pid = ? WHERE run_id = 'r1'", (child.pid,))
    taken = store.acquire_lease("r1")
    assert not store.heartbeat("r1", token)  # the old token lost it
    # A live pid that is a different process than recorded (pid reuse): stale too.
    store.db.execute(
        "UPDATE run_leases SET pid = ?, proc_start = 'not-this-one' WHERE run_id = 'r1'",
        (os.getppid(),),
    )
    assert process_start(os.getppid()) not in (None, "not-this-one")
    assert store.acquire_lease("r1") != taken
    # Another host: stale only once its heartbeat is old.
    store.db.execute("UPDATE run_leases SET host = 'elsewhere', heartbeat_at = ?", (time.time(),))
    with pytest.raises(RunLockedError, match="on elsewhere"):
        store.acquire_lease("r1")
    store.db.execute("UPDATE run_leases SET heartbeat_at = 0")
    store.acquire_lease("r1")


async def test_a_runner_that_loses_its_lease_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reflectlab.model.providers import mock

    store = Store(tmp_path / "r.db")
    original = mock.MockAPI.__init__

    async def slow(request: object) -> str:
        # Another process "takes over" while this runner waits on its model.
        store.db.execute("UPDATE run_leases SET token = 'someone-else'")
        await asyncio.sleep(0.5)
        return "Answer: 1"

    def init(self: mock.MockAPI, model_name: str, **kw: object) -> None:
        kw.setdefault("outputs", slow)
        original(self, model_name, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(mock.MockAPI, "__init__", init)
    monkeypatch.setattr("reflectlab.run._runner.HEARTBEAT_S", 0.05)
    cfg = RunConfig(
        task="arith",
        task_options={"n": 3},
        model="mock/solver",
        strategies=[StrategySpec(name="direct")],
        baselines="none",
        concurrency=1,
    )
    with pytest.raises(RunLockedError, match="took the run over"):
        await start_run(cfg, store)
    (run,) = store.list_runs()
    assert run.status == "failed" and run.n_done < 3
