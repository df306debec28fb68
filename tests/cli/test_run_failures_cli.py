"""What the CLI says and how it exits when the server misbehaves (real processes, loopback).

Exit codes (README): 0 every sample scored, 3 some samples errored (listed, resumable),
1 the run failed or was aborted, 2 bad input (nothing ran).
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reflectlab._util.fake_openai import fake_server_process


def reflectlab(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REFLECTLAB_HOME": str(home)}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "reflectlab", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def run_args(base_url: str, db: Path, *extra: str) -> list[str]:
    return ["run", "--task", "arith", "--strategy", "direct", "--model", "openai/fake",
            "--base-url", base_url, "--limit", "20", "--baselines", "none", "--db", str(db),
            *extra]  # fmt: skip


@contextmanager
def thread_server(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class Unauthorized(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": {"message": "Incorrect API key provided"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: a hung server."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        sock.close()


def test_refused_credentials_stop_the_run_with_the_message(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with thread_server(Unauthorized) as url:
        out = reflectlab(*run_args(url, db, "--quiet"), home=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "refused the credentials" in out.stderr and "check OPENAI_API_KEY" in out.stderr
    runs = json.loads(reflectlab("runs", "--json", "--db", str(db), home=tmp_path).stdout)
    assert runs[0]["status"] == "failed"
    # stopped with what was in flight, not after 20 failures
    assert runs[0]["progress"]["done"] <= 8


def test_a_hung_server_fails_within_the_timeout(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    start = time.monotonic()
    with silent_server() as url:
        out = reflectlab(
            *run_args(url, db, "--timeout", "0.5", "--max-retries", "0", "--concurrency", "1"),
            home=tmp_path,
            timeout=120,
        )
    elapsed = time.monotonic() - start
    assert out.returncode == 1, out.stderr
    assert "no complete reply within 0.5s" in out.stderr
    assert "first 4 samples all failed" in out.stderr
    assert elapsed < 60  # 4 attempts of 0.5 s plus start-up, not 20 x 600 s


def test_errored_samples_exit_3_and_resume_retries_them(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    flaky = ("--fault-rate", "0.3", "--faults", "500")
    with fake_server_process(0.0, *flaky, port=port) as url:
        out = reflectlab(*run_args(url, db, "--max-retries", "0", "--json"), home=tmp_path)
    assert out.returncode == 3, out.stderr
    summary = json.loads(out.stdout)
    (direct,) = summary["strategies"]
    errored = direct["errors_by_kind"].get("ProviderUnavailableError", 0)
    assert 0 < errored < 20 and direct["n"] == 20
    assert f"{errored} samples errored (ProviderUnavailableError x{errored})" in out.stderr
    assert f"reflectlab resume {summary['run_id']}" in out.stderr
    fresh_before = _fresh(db)

    # The server is healthy again (same address: the run keeps its --base-url).
    with fake_server_process(0.0, port=port):
        again = reflectlab("resume", summary["run_id"], "--json", "--db", str(db), home=tmp_path)
    assert again.returncode == 0, again.stderr
    (direct,) = json.loads(again.stdout)["strategies"]
    assert direct["errors_by_kind"] == {} and direct["n"] == 20
    fresh_after = _fresh(db)
    assert len(fresh_after) == len(fresh_before) + errored  # only the errored ones ran again
    assert len(set(fresh_after)) == len(fresh_after)


def _fresh(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT request_hash FROM calls WHERE from_cache = 0 AND error IS NULL"
    ).fetchall()
    con.close()
    return [r[0] for r in rows]
