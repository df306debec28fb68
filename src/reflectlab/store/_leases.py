"""One live runner per run: a lease in the store with owner, process identity and heartbeat.

Two processes running the same run would both pay for every call and each report half the
spend. So a runner takes the run's lease before it starts and holds it with a heartbeat;
another runner is refused with a message naming the owner. The lease is *stale*, and is taken
over, when its owner is provably gone:

- on the same host: the pid no longer exists, or it is now a different process (its start
  time in ``/proc/PID/stat`` differs from the one recorded: the pid was reused);
- on another host (a shared file system): no heartbeat for :data:`STALE_AFTER_S` seconds.

Taking and checking happen inside one ``BEGIN IMMEDIATE`` transaction, so two runners that
start at the same moment cannot both win. A runner that finds its lease taken from it (its
heartbeat says the token changed) must stop.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

from pydantic import BaseModel

from reflectlab.errors import RunLockedError
from reflectlab.store._db import Database

#: Seconds between heartbeats of a live runner.
HEARTBEAT_S = 5.0
#: A lease from another host without a heartbeat for this long is stale.
STALE_AFTER_S = 60.0
HOST = socket.gethostname()


class Lease(BaseModel):
    run_id: str
    token: str
    pid: int
    host: str
    proc_start: str | None
    acquired_at: float
    heartbeat_at: float


def process_start(pid: int) -> str | None:
    """The start time of process ``pid`` in clock ticks since boot (field 22 of
    ``/proc/PID/stat``), which tells a reused pid from the original; ``None`` if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def pid_exists(pid: int) -> bool:
    """Whether a process with this pid exists on this host (owned by anyone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return True


def _owner_alive(lease: Lease, now: float) -> bool:
    if lease.host != HOST:
        return now - lease.heartbeat_at < STALE_AFTER_S
    if not pid_exists(lease.pid):
        return False
    start = process_start(lease.pid)
    return lease.proc_start is None or start is None or start == lease.proc_start


class RunLeases:
    """Mixed into :class:`reflectlab.store.Store`."""

    db: Database

    def lease(self, run_id: str) -> Lease | None:
        row = self.db.execute(
            "SELECT run_id, token, pid, host, proc_start, acquired_at, heartbeat_at "
            "FROM run_leases WHERE run_id = ?",
            (run_id,),
        ).fetchone()
        if row is None:
            return None
        keys = ("run_id", "token", "pid", "host", "proc_start", "acquired_at", "heartbeat_at")
        return Lease.model_validate(dict(zip(keys, row, strict=True)))

    def acquire_lease(self, run_id: str) -> str:
        """Take the run's lease for this process and return its token, or raise
        :class:`RunLockedError` naming the live owner. A stale lease is taken over."""
        pid = os.getpid()
        token = uuid.uuid4().hex
        self.db.execute("BEGIN IMMEDIATE")
        try:
            now = time.time()
            held = self.lease(run_id)
            if held is not None and _owner_alive(held, now):
                since = time.strftime("%H:%M:%S", time.localtime(held.acquired_at))
                where = (
                    "this process"
                    if held.pid == pid and held.host == HOST
                    else (f"process {held.pid} on {held.host}")
                )
                raise RunLockedError(
                    f"run {run_id} is being run by {where} (since {since}, last heartbeat "
                    f"{now - held.heartbeat_at:.0f}s ago); wait for it to finish or stop it "
                    f"(kill {held.pid}), then resume"
                )
            self.db.execute(
                "INSERT OR REPLACE INTO run_leases VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, token, pid, HOST, process_start(pid), now, now),
            )
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return token

    def heartbeat(self, run_id: str, token: str) -> bool:
        """Refresh the lease; ``False`` if this token no longer holds it (it was taken)."""
        cur = self.db.execute(
            "UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND token = ?",
            (time.time(), run_id, token),
        )
        return cur.rowcount == 1

    def release_lease(self, run_id: str, token: str) -> None:
        self.db.execute("DELETE FROM run_leases WHERE run_id = ? AND token = ?", (run_id, token))
