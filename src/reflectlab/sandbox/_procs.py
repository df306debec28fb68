"""Per-run uids and the final sweep that leaves no sandbox process alive.

When we are root, every run gets a uid of its own, not ``nobody``: RLIMIT_NPROC counts the
tasks of a uid system-wide, so runs sharing ``nobody`` would share one process budget (one
run's fork bomb would stop its neighbours from starting), and could signal each other's
processes. A fresh uid owns no file on the host, is in no group, and names exactly the
processes to kill afterwards.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import signal
import threading

from reflectlab.errors import SandboxError

UID_BASE = 1_700_000_000
"""Sandbox uids are drawn from ``[UID_BASE, UID_BASE + UID_COUNT)``: far above any uid a
distribution, systemd's dynamic users or the usual subordinate-uid ranges hand out."""
UID_COUNT = 1 << 20
_SWEEP_SECONDS = 5.0

_in_use: set[int] = set()
_lock = threading.Lock()


def _stat(pid: int, uid: int) -> tuple[str, int] | None:
    """(state letter, start time) of a process if its real uid is ``uid``, else None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            owner = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        if owner != uid:
            return None
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except (OSError, StopIteration):
        return None  # gone meanwhile
    return fields[0], int(fields[19])


def live_processes_of_uid(uid: int) -> set[tuple[int, int]]:
    """(pid, start time) of the processes of ``uid`` still running (zombies hold nothing)."""
    found = set()
    for name in filter(str.isdigit, os.listdir("/proc")):
        st = _stat(int(name), uid)
        if st is not None and st[0] not in "ZX":
            found.add((int(name), st[1]))
    return found


def tasks_of_uid(uid: int) -> int:
    """Tasks (threads included: RLIMIT_NPROC counts those) that ``uid`` runs right now."""
    count = 0
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                count += int(fields["Threads"])
        except (OSError, ValueError, KeyError):
            continue
    return count


def allocate_uid() -> int:
    """A uid no process, no passwd entry and no other run in this interpreter is using."""
    with _lock:
        for _ in range(64):
            uid = UID_BASE + secrets.randbelow(UID_COUNT)
            if uid in _in_use:
                continue
            try:
                pwd.getpwuid(uid)
                continue
            except KeyError:
                pass
            if live_processes_of_uid(uid):
                continue
            _in_use.add(uid)
            return uid
    raise SandboxError("could not find a free sandbox uid")


def release_uid(uid: int) -> None:
    with _lock:
        _in_use.discard(uid)


def _signal(pid: int, start: int, uid: int, sig: int) -> None:
    # pidfd pins the process; then make sure it is still the one we listed.
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        st = _stat(pid, uid)
        if st is not None and st[1] == start:
            signal.pidfd_send_signal(fd, sig)
    except OSError:
        pass
    finally:
        os.close(fd)


def kill_uid_now(uid: int) -> None:
    """Stop, then SIGKILL, every process of ``uid`` without waiting for them to go.

    One-by-one SIGKILL loses against a fork bomb (each freed slot is refilled at once); a
    process with a stop pending cannot fork, so stop everybody until a scan finds nobody new.
    """
    signalled: set[tuple[int, int]] = set()
    while new := live_processes_of_uid(uid) - signalled:
        for pid, start in new:
            _signal(pid, start, uid, signal.SIGSTOP)
        signalled |= new
    for pid, start in live_processes_of_uid(uid):
        _signal(pid, start, uid, signal.SIGKILL)


async def sweep_uid(uid: int) -> None:
    """Kill every process of ``uid`` and wait until none is left.

    With a pid namespace the launcher's exit has already done this; without one, this is
    the net under the launcher's own cleanup (say, if it was killed itself).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _SWEEP_SECONDS
    while procs := live_processes_of_uid(uid):
        if loop.time() > deadline:
            pids = sorted(pid for pid, _ in procs)
            raise SandboxError(f"sandbox processes {pids} (uid {uid}) survived SIGKILL")
        kill_uid_now(uid)
        await asyncio.sleep(0.01)  # SIGKILL is asynchronous; poll until the kernel is done
