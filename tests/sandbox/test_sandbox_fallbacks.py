"""The degraded modes of the package docstring, exercised on a host that has everything.

* Root without namespaces (a container without CAP_SYS_ADMIN): forced by switching them off.
* An unprivileged caller: the sandbox run from inside a sandbox, whose program is not root.
"""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from reflectlab.errors import SandboxError
from reflectlab.sandbox import _run, run_python

from .conftest import FORK_BOMB, QUICK, ROOT

pytestmark = pytest.mark.skipif(not ROOT, reason="these fallbacks are simulated from root")


def _open_interpreter() -> str:
    """A Python a stranger can reach without a mount namespace (not one under /root)."""
    for name in ("python3", "python3.11", "python"):
        exe = shutil.which(name, path="/usr/local/bin:/usr/bin:/bin")
        if exe and not _run._closed_interpreter_dirs(exe, default=False):
            return exe
    pytest.skip("no interpreter outside closed directories")


@pytest.fixture
def no_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_run, "_USE_NAMESPACES", False)


@pytest.mark.usefixtures("no_namespaces")
async def test_root_without_namespaces_keeps_uid_limits_and_cleanup() -> None:
    python = _open_interpreter()
    result = await run_python("import os; print(os.getuid())", python=python, limits=QUICK)
    assert result.ok, result.stderr
    assert int(result.stdout) != 0
    assert {"uid", "rlimits"} <= set(result.isolation)
    assert not {"net_ns", "mount_ns", "pid_ns"} & set(result.isolation)
    assert not result.network_isolated

    limits = QUICK.model_copy(update={"wall_seconds": 2})
    result = await run_python(FORK_BOMB, python=python, limits=limits)
    assert result.reason in ("timeout", "cpu")

    daemons = (
        "import subprocess\n"
        "subprocess.Popen(['sh', '-c', 'setsid sleep 1000 & sleep 1000 &'], start_new_session=True)"
    )
    result = await run_python(daemons, python=python, limits=QUICK)
    assert result.ok, result.stderr
    # the autouse fixture checks that neither bomb nor daemons survived


@pytest.mark.usefixtures("no_namespaces")
async def test_root_without_namespaces_still_cannot_write_the_host() -> None:
    code = "open('/etc/reflectlab-escape', 'w')"
    result = await run_python(code, python=_open_interpreter(), limits=QUICK)
    assert result.reason == "error" and "PermissionError" in result.stderr


@pytest.mark.usefixtures("no_namespaces")
async def test_closed_interpreter_without_mount_namespace_is_a_sandbox_error() -> None:
    if not _run._closed_interpreter_dirs(sys.executable, default=True):
        pytest.skip("this interpreter is reachable by any uid")
    with pytest.raises(SandboxError, match="closed to the sandbox uid"):
        await run_python("pass", limits=QUICK)


NESTED = """
import asyncio, json, os
from reflectlab.sandbox import SandboxLimits, _run, run_python

LIMITS = SandboxLimits(cpu_seconds=1, wall_seconds=2, memory_mb=256, max_processes=16)
BOMB = "import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass"
DAEMON = "import subprocess\\nsubprocess.Popen(['sh', '-c', 'setsid sleep 1000 &'])"

def others():  # processes of our uid other than ourselves
    mine = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = open(f"/proc/{name}/status").read()
        except OSError:
            continue
        uid = int(status.split("Uid:")[1].split()[0])
        if uid == os.getuid() and int(name) != os.getpid() and "State:\\tZ" not in status:
            mine.append(int(name))
    return mine

async def main():
    for namespaces in (True, False):
        _run._USE_NAMESPACES = namespaces
        hello = await run_python("import os; print(os.getuid())", limits=LIMITS)
        bomb = await run_python(BOMB, limits=LIMITS)
        daemon = await run_python(DAEMON, limits=LIMITS)
        print(json.dumps({
            "namespaces": namespaces, "isolation": hello.isolation, "uid": hello.stdout.strip(),
            "reasons": [hello.reason, bomb.reason, daemon.reason], "left": others(),
        }))

asyncio.run(main())
"""


async def test_unprivileged_caller() -> None:
    outer = QUICK.model_copy(update={"wall_seconds": 60, "max_processes": 64, "memory_mb": 1024})
    result = await run_python(NESTED, limits=outer)
    assert result.ok, result.stderr[-3000:]
    with_ns, without_ns = (json.loads(line) for line in result.stdout.splitlines())
    for run in (with_ns, without_ns):
        assert run["uid"] != "0"  # the caller's own uid: no switching without root
        assert run["reasons"][0] == "ok" and run["reasons"][2] == "ok"
        assert run["reasons"][1] in ("timeout", "cpu")
        assert run["left"] == []
    # Where unprivileged user namespaces are allowed, they carry the namespaces.
    assert set(with_ns["isolation"]) in (
        {"rlimits"},
        {"rlimits", "user_ns", "mount_ns", "net_ns", "pid_ns", "ipc_ns", "uts_ns"},
    )
    assert without_ns["isolation"] == ["rlimits"]
