"""``reflectlab serve`` as a process: curl against it, the run it leaves, the refusals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from reflectlab._util.fake_openai import fake_server_process
from reflectlab.store import Store

CLI = [sys.executable, "-m", "reflectlab"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "REFLECTLAB_HOME": str(tmp_path / "home")}
    env.pop("REFLECTLAB_SERVE_API_KEY", None)
    return env


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refuses_a_public_bind_without_a_key(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "serve", "--upstream", "http://127.0.0.1:9/v1", "--host", "0.0.0.0"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "refusing to listen on '0.0.0.0' without an API key" in proc.stderr


def test_unknown_default_strategy_is_refused_at_start(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "serve", "--upstream", "http://127.0.0.1:9/v1", "--strategy", "nope"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown strategy 'nope'" in proc.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_curl_against_the_served_proxy_and_the_run_it_leaves(tmp_path: Path) -> None:
    db = tmp_path / "serve.db"
    port = _port()
    with fake_server_process(latency_s=0.0) as upstream:
        proc = subprocess.Popen(
            [*CLI, "serve", "--upstream", upstream, "--port", str(port), "--db", str(db)],
            env=_env(tmp_path),
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                        break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline
                    time.sleep(0.1)
            body = json.dumps(
                {
                    "model": "self_refine:max_rounds=1/fake",
                    "messages": [{"role": "user", "content": "What is 2+2?"}],
                }
            )
            out = subprocess.run(
                [
                    "curl",
                    "-sS",
                    f"http://127.0.0.1:{port}/v1/chat/completions",
                    "-H",
                    "Content-Type: application/json",
                    "-d",
                    body,
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            data = json.loads(out.stdout)
            assert data["object"] == "chat.completion"
            assert data["reflectlab"]["calls"] == 3
            run_id = data["reflectlab"]["run_id"]
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f"traces in run {run_id}" in err
    with Store(db) as store:
        run = store.get_run(run_id)
        assert run is not None and run.status == "completed" and run.n_done == 1
    listed = subprocess.run(
        [*CLI, "runs", "--db", str(db), "--json"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run_id in listed.stdout
