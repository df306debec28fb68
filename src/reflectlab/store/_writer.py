"""Group commit: the calls that finish in one turn of the event loop share one transaction.

A model call's record (and its cache entry) must be durable before its reply is used, so the
model layer waits for the write. Written one transaction per call, each write paid for a
``BEGIN ... COMMIT`` of its own (measured: ~0.2 ms of blocked event loop a call at 32 calls in
flight). A writer thread took that off the loop but put the GIL hand-over and a cross-thread
wake-up on every call's critical path (measured: 2.2 ms median from submit to resumed caller,
p90 4.3 ms, on a 50 ms call), which cost more throughput than it saved.

:class:`GroupWriter` does it on the loop: :meth:`~GroupWriter.submit` queues a job (a list of
statements) and returns a future; the first job of a turn schedules a flush with
``call_soon``, which runs once the callbacks already due this turn (the other calls whose
replies arrived together) have queued theirs. The flush runs every queued job in **one**
transaction on the store's connection, commits, and only then resolves the futures: a caller
resumes only once its rows are committed (the durability contract is unchanged), and calls
that finish together share one commit. A job that fails inside a batch does not sink the
others: the batch is rolled back and its jobs are retried one transaction each, so only the
failing job's caller gets the :class:`~reflectlab.errors.StoreError`.

Jobs are written in the order they were submitted. :meth:`~GroupWriter.close` (also run at
interpreter exit) writes whatever is still queued, e.g. after Ctrl-C stopped the loop before
its flush ran; :meth:`~GroupWriter.post` queues a write nobody waits for. A kill -9 loses at
most the jobs of the current turn, whose callers had not yet been given their reply.

**Checkpoints run off the loop.** In WAL mode SQLite copies the log back into the database
file every 1,000 pages, inside whichever commit crosses the mark, with an ``fsync``: measured
here, ~40 us of blocked event loop per call on average (a few calls' commit took tens of ms).
While a writer is open on a file, the store's connection does not checkpoint
(``wal_autocheckpoint=0``) and :class:`_Checkpointer`, a thread with its own connection, runs a
``PASSIVE`` checkpoint (it never blocks a writer or a reader) at most every
``CHECKPOINT_EVERY_S`` after commits; sqlite3 releases the GIL while it copies and syncs. The
durability of a commit does not change (the log is what makes it durable); closing the store
stops the thread and hands checkpoints back to SQLite.

SQLite rewinds the log only when a writer starts after a checkpoint that copied *every* frame;
a checkpoint on another thread races the commits made while it copies, so the log would grow
for as long as commits keep coming (measured: 50 MB after 1,000 calls). When the log passes
``WAL_REWIND_BYTES`` the thread asks the loop for one checkpoint on the store's own connection,
between two commits: the thread has already copied nearly every frame, so it is short, and the
next commit starts the log from the beginning again. So the loop checkpoints (and syncs) once
per 64 MB of log instead of once per 4 MB.

Measured (2 cores, the fake server on the same machine; one core, the mock): fresh calls
through ``Model.generate`` into the store on one core, 374 -> 308-321 us of wall time per call
(4 MB: 342-352); the runner at 128 calls in flight against the fake server, efficiency
0.36-0.39 without the thread, 0.37-0.41 with it (within the noise of a shared machine).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import sqlite3
import threading
import weakref
from collections.abc import Sequence
from typing import Any

from reflectlab.errors import StoreError
from reflectlab.store._db import Database

#: One statement of a job: (sql, parameters, executemany?)
Statement = tuple[str, Any, bool]
_Job = tuple[Sequence[Statement], "asyncio.Future[None] | None"]

#: Seconds between two checkpoints of a file being written from an event loop, at most.
CHECKPOINT_EVERY_S = 0.25
#: Log size (bytes) past which the next flush checkpoints on the loop so the log rewinds.
WAL_REWIND_BYTES = 64 * 1024 * 1024

log = logging.getLogger("reflectlab.store")


def apply(db: Database, statements: Sequence[Statement]) -> None:
    """Execute ``statements`` on ``db`` (inside whatever transaction is open)."""
    for sql, params, many in statements:
        if many:
            db.executemany(sql, params)
        else:
            db.execute(sql, params)


class GroupWriter:
    """Commits the jobs queued during one event-loop turn in one transaction on ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._pending: list[_Job] = []
        self._scheduled: asyncio.AbstractEventLoop | None = None  # where a flush is due
        self._closed = False
        self._checkpointer = _Checkpointer.start(db)
        if self._checkpointer is not None:  # a writer dropped unclosed ends its thread too
            weakref.finalize(self, self._checkpointer.halt)
        _LIVE.add(self)  # weakly: an unclosed store that is dropped is still freed

    def submit(self, statements: Sequence[Statement]) -> asyncio.Future[None]:
        """Queue ``statements`` as one job; the future resolves once they are committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._queue((statements, future), loop)
        return future

    def post(self, statements: Sequence[Statement]) -> None:
        """Queue a job nobody waits for (written this turn, or at :meth:`close`)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._queue((statements, None), loop)
        if loop is None:
            self.flush()

    def _queue(self, job: _Job, loop: asyncio.AbstractEventLoop | None) -> None:
        if self._closed:
            raise StoreError("the store is closed")
        self._pending.append(job)
        # One flush per turn; a loop that closed with its flush still due is replaced.
        if loop is not None and self._scheduled is not loop:
            loop.call_soon(self.flush)
            self._scheduled = loop

    def flush(self) -> None:
        """Write every queued job now (one transaction; a failing job alone is refused)."""
        self._scheduled = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        if self._checkpointer is not None and self._checkpointer.rewind_due:
            self._checkpointer.rewind(self.db)
        try:
            self._commit([job[0] for job in batch])
        except StoreError as exc:
            if len(batch) == 1:
                _settle(batch, exc)
                return
            for job in batch:  # find the job that failed; the others still land
                try:
                    self._commit([job[0]])
                except StoreError as one:
                    _settle([job], one)
                else:
                    _settle([job], None)
            return
        _settle(batch, None)
        if self._checkpointer is not None:
            self._checkpointer.wake()

    def close(self) -> None:
        """Write what is queued and refuse new jobs (idempotent)."""
        if self._closed:
            return
        with contextlib.suppress(StoreError):  # nobody is left to tell
            self.flush()
        self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.stop()
            _Checkpointer.hand_back(self.db)
        _LIVE.discard(self)

    def _commit(self, jobs: list[Sequence[Statement]]) -> None:
        with self.db.transaction():
            for statements in jobs:
                apply(self.db, statements)


class _Checkpointer:
    """Checkpoints a WAL database from a thread of its own (see the module docstring)."""

    def __init__(self, path: str, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn  # the thread's own: used by the thread alone once it starts
        self._frame_bytes = conn.execute("PRAGMA page_size").fetchone()[0] + 24  # + header
        self._due = threading.Event()
        self._halt = threading.Event()
        #: set by the thread when the log should be rewound (see the module docstring)
        self.rewind_due = False
        self._thread = threading.Thread(
            target=self._loop, name=f"reflectlab-checkpoint {path}", daemon=True
        )

    @classmethod
    def start(cls, db: Database) -> _Checkpointer | None:
        """Take checkpoints of ``db`` off its connection; None (SQLite keeps checkpointing
        in the commits) for a database without a write-ahead log (in memory, or not in WAL
        mode) or one a second connection cannot open."""
        if db.path in ("", ":memory:"):
            return None
        try:
            if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                return None
            conn = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
        except (StoreError, sqlite3.Error) as exc:
            log.debug("no checkpoint thread for %s: %s", db.path, exc)
            return None
        try:
            checkpointer = cls(db.path, conn)
            db.execute("PRAGMA wal_autocheckpoint=0")
            # A rewound log file is cut back to this size (it would keep its largest size).
            db.execute(f"PRAGMA journal_size_limit={WAL_REWIND_BYTES}")
        except (StoreError, sqlite3.Error) as exc:
            conn.close()
            cls.hand_back(db)
            log.debug("no checkpoint thread for %s: %s", db.path, exc)
            return None
        checkpointer._thread.start()
        return checkpointer

    @staticmethod
    def hand_back(db: Database) -> None:
        """Let SQLite checkpoint inside ``db``'s commits again (its default, every 1,000
        pages); a connection that is already closed has nothing to hand back."""
        with contextlib.suppress(StoreError):
            db.execute("PRAGMA wal_autocheckpoint=1000")

    def wake(self) -> None:
        """Commits happened: checkpoint soon (at most every ``CHECKPOINT_EVERY_S``)."""
        self._due.set()

    def rewind(self, db: Database) -> None:
        """On the writer's connection, between commits: copy the frames the thread's
        checkpoints raced, so the next commit rewinds the log."""
        self.rewind_due = False
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except StoreError as exc:  # the commit that follows will report a real problem
            log.debug("checkpoint of %s failed: %s", self.path, exc)

    def halt(self) -> None:
        """Ask the thread to end (it closes its connection); does not wait."""
        self._halt.set()
        self._due.set()

    def stop(self) -> None:
        """End the thread and wait for it."""
        self.halt()
        self._thread.join()

    def _loop(self) -> None:
        try:
            while True:
                self._due.wait()
                self._due.clear()
                if self._halt.is_set():
                    return
                try:
                    # (busy, frames in the log since it was last rewound, frames copied)
                    row = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if row[1] * self._frame_bytes > WAL_REWIND_BYTES:
                        self.rewind_due = True
                except Exception as exc:  # a full disk, say: the writer reports real trouble
                    log.debug("checkpoint of %s failed: %s", self.path, exc)
                # Let commits accumulate rather than chase each one.
                if self._halt.wait(CHECKPOINT_EVERY_S):
                    return
        finally:
            self._conn.close()


_LIVE: weakref.WeakSet[GroupWriter] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """At interpreter exit, write what every open writer still holds."""
    for writer in list(_LIVE):
        writer.close()


def _settle(jobs: list[_Job], error: BaseException | None) -> None:
    for _, future in jobs:
        if future is None or future.done():  # nobody waits, or its waiter was cancelled
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
