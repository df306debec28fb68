"""Fixtures shared by the sandbox tests.

Every test here runs untrusted code, so every test also checks, afterwards, that nothing it
started is still alive: no process of any uid its runs were given, and no live child of the
test process itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reflectlab.sandbox import SandboxLimits, _run
from reflectlab.sandbox._procs import allocate_uid, live_processes_of_uid

ROOT = os.geteuid() == 0

QUICK = SandboxLimits(
    cpu_seconds=1, wall_seconds=10, memory_mb=256, max_processes=16, output_bytes=100_000
)
"""Short limits for hostile programs: each is stopped within a couple of seconds."""

FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""
"""Forks until the process budget is spent, then keeps every process spinning and retrying."""


def has_cap_sys_admin() -> bool:
    """Whether this process may create namespaces and mounts (CAP_SYS_ADMIN is bit 21)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << 21))
    return False


FULL_ISOLATION = ROOT and has_cap_sys_admin()
"""Root with CAP_SYS_ADMIN: every mechanism of the package docstring must be in force."""


def live_children() -> list[int]:
    me, found = str(os.getpid()), []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] not in "ZX":
            found.append(int(name))
    return found


@pytest.fixture(autouse=True)
def sandbox_uids(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The uids this test's runs were given; afterwards none may have a live process."""
    uids: list[int] = []

    def recording_allocate_uid() -> int:
        uid = allocate_uid()
        uids.append(uid)
        return uid

    monkeypatch.setattr(_run, "allocate_uid", recording_allocate_uid)
    yield uids
    survivors = {uid: live_processes_of_uid(uid) for uid in uids}
    assert not any(survivors.values()), f"sandbox processes survived: {survivors}"
    assert not live_children(), "the test process has live children left"
