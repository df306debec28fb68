"""Hostile programs: each must be stopped for the right reason, and leave nothing behind.

The autouse fixture in conftest.py checks after every test that no process of the run's uid
and no child of the test process survived.
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reflectlab.sandbox import SandboxLimits, _run, run_python

from .conftest import FORK_BOMB, FULL_ISOLATION, QUICK, ROOT

REPO = Path(__file__).resolve().parents[2]


async def assert_still_healthy() -> None:
    """The test process can still start processes, and the sandbox still runs programs."""
    assert subprocess.run(["true"], check=False).returncode == 0
    result = await run_python("print('alive')", limits=QUICK)
    assert result.ok and result.stdout == "alive\n", result


async def test_infinite_loop_hits_the_cpu_limit() -> None:
    result = await run_python("while True: pass", limits=QUICK)
    assert (result.reason, result.exit_code) == ("cpu", -signal.SIGXCPU)


async def test_ignoring_sigxcpu_ends_at_the_hard_cpu_limit() -> None:
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass"
    result = await run_python(code, limits=QUICK)
    assert (result.reason, result.exit_code) == ("cpu", -signal.SIGKILL)


async def test_sleeping_forever_hits_the_wall_timeout() -> None:
    code = "import time\nprint('started', flush=True)\ntime.sleep(600)"
    result = await run_python(code, limits=QUICK.model_copy(update={"wall_seconds": 1}))
    assert (result.reason, result.exit_code) == ("timeout", None)
    assert result.stdout == "started\n"  # output up to the kill is kept


FORK_BOMBS = {
    "python": FORK_BOMB,
    "shell": "import subprocess, time\n"
    "subprocess.Popen(['sh', '-c', 'bomb() { bomb | bomb & }; bomb'])\n"
    "time.sleep(600)",
}


@pytest.mark.parametrize("language", FORK_BOMBS)
async def test_fork_bomb_is_contained(language: str) -> None:
    limits = QUICK.model_copy(update={"wall_seconds": 2})
    result = await run_python(FORK_BOMBS[language], limits=limits)
    # The bomb spins until the wall clock stops it (or its main process runs out of CPU).
    assert result.reason in ("timeout", "cpu"), result
    await assert_still_healthy()


async def test_memory_bomb_is_refused_and_the_program_fails() -> None:
    # RLIMIT_AS refuses the allocation; Python's MemoryError is the program's own account
    # (it could print the same), so the reason is the exit status's: "error".
    result = await run_python("x = bytearray(8 * 1024**3)", limits=QUICK)
    assert (result.reason, result.exit_code) == ("error", 1)
    assert result.stderr.strip().endswith("MemoryError")


async def test_growing_memory_is_stopped() -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(b'x' * 10_000_000)"
    result = await run_python(code, limits=QUICK)
    # RLIMIT_AS (MemoryError, "error") or the cgroup OOM killer ("memory"), whichever is first.
    assert result.reason in ("error", "memory"), result
    assert result.reason == "memory" or result.stderr.strip().endswith("MemoryError")


async def test_memory_spread_over_processes_is_capped_by_the_cgroup() -> None:
    # Each child stays under RLIMIT_AS; only the cgroup sees that together they do not fit.
    code = """
import os
for _ in range(8):
    if os.fork() == 0:
        block = bytearray(150 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        os._exit(0)
statuses = [os.wait()[1] for _ in range(8)]
raise SystemExit(0 if all(s == 0 for s in statuses) else 1)
"""
    limits = QUICK.model_copy(update={"memory_mb": 256})
    result = await run_python(code, limits=limits)
    if "cgroup_memory" not in result.isolation:
        pytest.skip("no memory cgroup on this host")
    assert result.reason == "memory", result


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
async def test_flooding_output_is_cut_and_killed(stream: str) -> None:
    code = f"import sys\nsys.{stream}.write('x' * 100_000_000)\nprint('never', file=sys.{stream})"
    result = await run_python(code, limits=QUICK)
    assert (result.reason, result.exit_code) == ("output_limit", None)
    assert len(getattr(result, stream)) == QUICK.output_bytes
    assert getattr(result, f"{stream}_truncated")
    assert "never" not in getattr(result, stream)


async def test_many_small_writes_are_cut_too() -> None:
    result = await run_python("while True:\n    print('y' * 100)", limits=QUICK)
    assert result.reason == "output_limit" and result.stdout_truncated


@pytest.mark.skipif(not ROOT, reason="without root the program keeps the caller's uid")
async def test_writing_outside_the_work_dir_fails() -> None:
    marker = f"reflectlab-escape-{secrets.token_hex(4)}"
    targets = [
        f"/etc/{marker}",
        f"/tmp/../root/{marker}",
        f"/usr/{marker}",
        str(REPO / marker),
        str(REPO / "src" / "reflectlab" / "__init__.py"),
    ]
    code = f"""
import json
outcome = {{}}
for path in {targets!r}:
    try:
        with open(path, "a") as f:
            f.write("escaped")
        outcome[path] = "written"
    except OSError as e:
        outcome[path] = type(e).__name__
with open("inside.txt", "w") as f:
    f.write("fine")
print(json.dumps(outcome))
"""
    result = await run_python(code, limits=QUICK)
    assert result.ok, result.stderr
    outcome = json.loads(result.stdout)
    assert "written" not in outcome.values(), outcome
    assert not any(Path(p).exists() for p in targets if marker in p)


@pytest.mark.skipif(not FULL_ISOLATION, reason="needs a private mount namespace")
async def test_tmp_is_private_to_the_run() -> None:
    marker = f"/tmp/reflectlab-escape-{secrets.token_hex(4)}"
    code = f"open({marker!r}, 'w').write('x'); import os; print(sorted(os.listdir('/tmp')))"
    result = await run_python(code, limits=QUICK)
    assert result.ok, result.stderr
    # Nothing of the host's /tmp but the interpreter's own dirs (a venv under /tmp), bound back.
    own = {
        Path(d).relative_to("/tmp").parts[0]
        for d in _run._interpreter_dirs(sys.executable, default=True)[0]
        if d.startswith("/tmp/")
    }
    assert result.stdout == f"{sorted({Path(marker).name, 'work', *own})}\n"
    assert not Path(marker).exists()


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


async def test_network_is_unreachable(listening_port: int) -> None:
    with socket.create_connection(("127.0.0.1", listening_port), timeout=5):
        pass  # reachable from the test process itself
    code = f"""
import socket
for address in [("127.0.0.1", {listening_port}), ("8.8.8.8", 53)]:
    try:
        socket.create_connection(address, timeout=2).close()
        print("connected", address)
    except OSError as e:
        print("refused", address, type(e).__name__)
"""
    result = await run_python(code, limits=QUICK)
    if not result.network_isolated:
        pytest.skip("no network namespace on this host (see SandboxResult.network_isolated)")
    assert result.ok, result.stderr
    assert "connected" not in result.stdout and result.stdout.count("refused") == 2


async def test_shells_run_bound_by_the_same_uid_and_cleanup() -> None:
    code = """
import os, subprocess
print(subprocess.run(["sh", "-c", "id -u"], capture_output=True, text=True).stdout.strip())
print(os.getuid())
# Daemons that leave the session and the process group: killed when the program exits.
subprocess.Popen(["sh", "-c", "setsid sleep 1000 & sleep 1000 &"], start_new_session=True)
os.system("nohup sleep 1000 >/dev/null 2>&1 &")
"""
    result = await run_python(code, limits=QUICK)
    assert result.ok, result.stderr
    shell_uid, python_uid = result.stdout.split()
    assert shell_uid == python_uid
    if ROOT:
        assert int(shell_uid) != 0


async def test_environment_is_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"sk-test-{secrets.token_hex(8)}"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    code = """
import glob, os
print(sorted(os.environ))
for path in glob.glob("/proc/*/environ"):  # other processes' environments, where readable
    try:
        print(open(path, "rb").read())
    except OSError:
        pass
"""
    result = await run_python(code, limits=QUICK)
    assert result.ok, result.stderr
    assert secret not in result.stdout
    assert result.stdout.splitlines()[0] == "['HOME', 'LANG', 'PATH', 'TMPDIR']"


@pytest.mark.skipif(not ROOT, reason="privileges are only dropped when there are some")
async def test_privileges_are_dropped() -> None:
    code = "print(open('/proc/self/status').read())"
    result = await run_python(code, limits=QUICK)
    status = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    assert status["Uid"].split()[0] != "0"
    assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0
    assert status["NoNewPrivs"].strip() == "1"
    assert status["Groups"].strip() == ""


async def test_limits_apply_to_the_program() -> None:
    limits = SandboxLimits(cpu_seconds=3, memory_mb=300, max_processes=20, file_size_mb=2)
    code = """
import resource
for name in ("CPU", "AS", "NPROC", "FSIZE"):
    print(name, resource.getrlimit(getattr(resource, "RLIMIT_" + name))[0])
"""
    result = await run_python(code, limits=limits)
    got = dict(line.split() for line in result.stdout.splitlines())
    assert got["CPU"] == "3" and got["AS"] == str(300 * 2**20) and got["FSIZE"] == str(2 * 2**20)
    if ROOT:
        assert got["NPROC"] == "20"


async def test_big_file_hits_the_file_size_limit() -> None:
    code = "open('big', 'wb').write(b'x' * (3 * 1024 * 1024))"
    result = await run_python(code, limits=QUICK.model_copy(update={"file_size_mb": 1}))
    assert result.reason == "error" and "File too large" in result.stderr
