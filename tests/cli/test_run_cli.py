"""`reflectlab run / show / compare / runs / resume` through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab._util.fake_openai import fake_server_process
from reflectlab.cli import app

runner = CliRunner()
SUMMARY_KEYS = {
    "name",
    "n",
    "correct",
    "accuracy",
    "ci_low",
    "ci_high",
    "accuracy_by_round",
    "flips_by_round",
    "calls",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cost_usd",
    "feedback_kinds",
    "oracle_assisted",
}


def test_run_json_show_compare_runs(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    result = runner.invoke(
        app,
        [
            "run",
            "--task",
            "arith",
            "--strategy",
            "direct,self_refine",
            "--model",
            "mock/m",
            "--limit",
            "3",
            "--max-rounds",
            "1",
            "--json",
            "--db",
            db,
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    names = [s["name"] for s in summary["strategies"]]
    # configured order, each reflection strategy followed by its compute-matched baselines
    assert names[:2] == ["direct", "self_refine"]
    assert {"self_consistency@self_refine", "retry@self_refine"} <= set(names)
    for s in summary["strategies"]:
        assert set(s) >= SUMMARY_KEYS, SUMMARY_KEYS - set(s)
        assert s["n"] == 3
    assert summary["comparisons"] and all("verdict" in c for c in summary["comparisons"])
    run_id = summary["run_id"]

    shown = json.loads(runner.invoke(app, ["show", run_id[:12], "--json", "--db", db]).stdout)
    assert shown["run_id"] == run_id and shown["strategies"] == summary["strategies"]

    compared = json.loads(
        runner.invoke(
            app, ["compare", run_id, "--baseline", "self_refine", "--json", "--db", db]
        ).stdout
    )
    assert any(
        c["baseline"] == "self_refine" and c["strategy"] == "direct"
        for c in compared["comparisons"]
    )

    runs = json.loads(runner.invoke(app, ["runs", "--json", "--db", db]).stdout)
    assert runs[0]["run_id"] == run_id and runs[0]["status"] == "completed"
    assert runs[0]["progress"]["done"] == runs[0]["progress"]["expected"]


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    bad = tmp_path / "items.jsonl"
    bad.write_text('{"input": "2+2?", "target": "4"}\n{"input": "3+3?"}\n')
    cases = [
        (["--task", "nosuch"], "nosuch"),
        (["--task", f"jsonl:{bad}"], "line 2"),
        (["--task", "arith", "--strategy", "nosuch"], "unknown strategy"),
        (["--task", "arith", "--strategy", "self_refine:bogus=1"], "bogus"),
    ]
    for extra, message in cases:
        args = ["run", "--model", "mock/m", "--db", db, "--strategy", "direct", *extra]
        result = runner.invoke(app, args)
        assert result.exit_code != 0
        assert message in str(result.exception), (extra, result.exception)
    # nothing was recorded for the failed starts
    assert json.loads(runner.invoke(app, ["runs", "--json", "--db", db]).stdout) == []


def test_kill_9_half_way_then_resume_repeats_no_call(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    env = {**os.environ, "REFLECTLAB_HOME": str(tmp_path)}
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
        "BASE_URL",
        "--limit",
        "12",
        "--concurrency",
        "2",
        "--baselines",
        "none",
        "--quiet",
        "--db",
        str(db),
    ]
    with fake_server_process(latency_s=0.05) as base_url:
        cmd[cmd.index("BASE_URL")] = base_url
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def finished_results() -> int:
            if not db.exists():
                return 0
            con = sqlite3.connect(db)
            try:
                return int(con.execute("SELECT COUNT(*) FROM results").fetchone()[0])
            except sqlite3.OperationalError:
                return 0
            finally:
                con.close()

        deadline = time.monotonic() + 120
        while finished_results() < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is not None:
            pytest.fail("the run finished before it could be killed half-way")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        con = sqlite3.connect(db)
        ((run_id, status),) = con.execute("SELECT run_id, status FROM runs").fetchall()
        done_before = con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        con.close()
        assert status == "running" and 0 < done_before < 24  # as the killed process left it
        listed = json.loads(runner.invoke(app, ["runs", "--json", "--db", str(db)]).stdout)
        assert listed[0]["status"] == "interrupted"  # its process is gone

        resumed = subprocess.run(
            [sys.executable, "-m", "reflectlab", "resume", run_id, "--json", "--db", str(db)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert resumed.returncode == 0, resumed.stderr
        summary = json.loads(resumed.stdout)
        assert summary["status"] == "completed"
        assert {s["name"]: s["n"] for s in summary["strategies"]} == {
            "direct": 12,
            "self_refine": 12,
        }
        con = sqlite3.connect(db)
        fresh = con.execute(
            "SELECT request_hash FROM calls WHERE from_cache = 0 AND error IS NULL"
        ).fetchall()
        con.close()
        assert len(fresh) == len(set(fresh)), "a finished model call was sent again"
