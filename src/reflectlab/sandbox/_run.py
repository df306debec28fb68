"""The parent side of a run: start the launcher, feed stdin, drain and cap the output, enforce
the wall clock, make sure nothing survives, and say why the program stopped."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

from reflectlab.errors import ConfigError, SandboxError
from reflectlab.sandbox._cgroup import create_cgroup
from reflectlab.sandbox._procs import (
    allocate_uid,
    kill_uid_now,
    release_uid,
    sweep_uid,
    tasks_of_uid,
)
from reflectlab.sandbox._types import Reason, SandboxLimits, SandboxResult

_LAUNCHER = Path(__file__).with_name("_launcher.py")
PROGRAM = "main.py"
"""File name the code is written to in the work dir (so it cannot also be in ``files``)."""
_MIB = 1024 * 1024
_CHUNK = 1 << 16
_GRACE_S = 2.0  # from asking the launcher to stop (SIGTERM) to SIGKILL of its process group
# Tests switch this off to exercise the fallback of hosts that forbid namespaces (containers
# without CAP_SYS_ADMIN, seccomp): dedicated uid and rlimits only.
_USE_NAMESPACES = True
# The launcher needs no environment (and so inherits no secret); it builds the program's own.
_LAUNCHER_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


async def run_python(
    code: str,
    *,
    stdin: str | None = None,
    limits: SandboxLimits | None = None,
    files: dict[str, str] | None = None,
    python: str | None = None,
) -> SandboxResult:
    """Run ``code`` as a Python program in a fresh sandbox and return what happened.

    ``stdin`` is fed to the program; ``files`` (relative path -> text) are written into its
    work dir next to the program, which is importable from there; ``python`` is the
    interpreter (default: this one, so the program sees the same installed packages).
    A failing program is a result (``reason``), not an exception; :class:`SandboxError` means
    the sandbox itself could not run. Safe to run many at once from one event loop::

        sem = asyncio.Semaphore(4)
        async def check(src: str) -> bool:
            async with sem:
                return (await run_python(src, limits=SandboxLimits(cpu_seconds=5))).ok
    """
    limits = limits or SandboxLimits()
    all_files = _check_files(code, files)
    exe = sys.executable if python is None else shutil.which(python) or python
    root = os.geteuid() == 0
    uid = allocate_uid() if root else None
    base = Path(tempfile.mkdtemp(prefix="reflectlab-sandbox-"))
    cgroup = None
    try:
        base.chmod(0o711)  # without a mount ns the sandbox uid must pass through to work/
        cgroup = create_cgroup(base.name, limits.memory_mb * _MIB, limits.max_processes + 2)
        config = {
            "parent_pid": os.getpid(),
            "report": str(base / "report.jsonl"),
            "uid": uid,
            "argv": [exe, "-E", "-s", "-B", "-u", PROGRAM],
            "files": all_files,
            "expose": _closed_interpreter_dirs(exe, default=python is None) if root else [],
            "nproc_shared": None if root else limits.max_processes + tasks_of_uid(os.getuid()),
            "cgroups": cgroup.procs_files if cgroup else {},
            "namespaces": _USE_NAMESPACES,
            **limits.model_dump(exclude={"wall_seconds", "output_bytes"}),
        }
        fd = os.open(base / "config.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(config, f)
        run = await _supervise(base / "config.json", stdin, limits, uid)
        report = _read_report(base / "report.jsonl")
        oom_kills = cgroup.oom_kills() if cgroup else 0
    finally:
        if cgroup:
            await cgroup.remove()
        _remove_tree(base)
        if uid is not None:
            release_uid(uid)
    return _result(run, report, oom_kills, limits)


def run_python_sync(
    code: str,
    *,
    stdin: str | None = None,
    limits: SandboxLimits | None = None,
    files: dict[str, str] | None = None,
    python: str | None = None,
) -> SandboxResult:
    """Blocking :func:`run_python`, for scripts and threads without an event loop."""
    return asyncio.run(run_python(code, stdin=stdin, limits=limits, files=files, python=python))


def _check_files(code: str, files: dict[str, str] | None) -> dict[str, str]:
    out = {PROGRAM: code}
    for name, text in (files or {}).items():
        path = PurePosixPath(name)
        if path.is_absolute() or ".." in path.parts or str(path) in ("", "."):
            raise ConfigError(f"sandbox file {name!r}: must be a relative path inside the work dir")
        if str(path) == PROGRAM:
            raise ConfigError(f"sandbox file {name!r}: that name holds the program itself")
        out[str(path)] = text
    return out


def _closed_interpreter_dirs(exe: str, *, default: bool) -> list[tuple[str, str]]:
    """(closed ancestor, dir) for each dir the interpreter needs that a stranger cannot reach.

    The dirs are its prefix, and this venv's and its base's when it is our own interpreter;
    "closed" is a directory without the execute bit for others, such as /root (pyenv).
    """
    dirs = {os.path.dirname(os.path.dirname(os.path.realpath(exe)))}
    if default:
        dirs |= {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    closed = []
    for d in sorted({os.path.realpath(d) for d in dirs}):
        parts = PurePosixPath(d).parts
        for i in range(1, len(parts)):
            top = str(PurePosixPath(*parts[:i]))
            try:
                mode = os.stat(top).st_mode
            except OSError:
                break  # a missing interpreter fails at execve, with a clear message
            if not mode & stat.S_IXOTH:
                closed.append((top, d))
                break
    return closed


class _Run(asyncio.SubprocessProtocol):
    """Watches one launcher: keeps its output up to the cap, notices its exit, stops it.

    A protocol rather than ``asyncio.subprocess.Process``: ``Process.wait()`` returns only
    once the pipes are closed too, and a process that escaped with our stdout open would make
    it wait forever; ``process_exited`` fires when the launcher itself is gone.
    """

    def __init__(self, limits: SandboxLimits) -> None:
        self.transport: asyncio.SubprocessTransport | None = None
        self.stop_reason: Reason | None = None
        self.output = {1: bytearray(), 2: bytearray()}
        self.truncated = {1: False, 2: False}
        self.exited = asyncio.Event()
        self.pipes_closed = {1: asyncio.Event(), 2: asyncio.Event()}
        self.duration_s = 0.0
        self._cap = limits.output_bytes
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        buf = self.output[fd]
        room = self._cap - len(buf)
        if self.truncated[fd]:
            return  # the program is being killed; drop the rest so it cannot block on a pipe
        if len(data) > room:
            buf += data[:room]
            self.truncated[fd] = True
            self.stop("output_limit")
        else:
            buf += data

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd in self.pipes_closed:
            self.pipes_closed[fd].set()

    def process_exited(self) -> None:
        self.exited.set()

    @property
    def running(self) -> bool:
        return self.transport is not None and self.transport.get_returncode() is None

    def stop(self, reason: Reason) -> None:
        """Ask the launcher to kill the program; SIGKILL its process group if it is too slow."""
        if self.stop_reason is not None:
            return
        self.stop_reason = reason
        if self.transport is not None and self.running:
            with contextlib.suppress(ProcessLookupError):
                self.transport.send_signal(signal.SIGTERM)
            self._timer = asyncio.get_running_loop().call_later(_GRACE_S, self.kill_group)

    def kill_group(self) -> None:
        if self.transport is not None and self.running:  # until reaped, the pgid is not reused
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.transport.get_pid(), signal.SIGKILL)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.transport is not None:
            self.transport.close()


async def _supervise(
    config: Path, stdin: str | None, limits: SandboxLimits, uid: int | None
) -> _Run:
    loop = asyncio.get_running_loop()
    run = _Run(limits)
    started = time.monotonic()
    try:
        transport, _ = await loop.subprocess_exec(
            lambda: run,
            sys.executable, "-I", "-S", str(_LAUNCHER), str(config),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # one process group to kill, away from our terminal
            env=_LAUNCHER_ENV,
            cwd="/",
        )  # fmt: skip
    except OSError as e:
        raise SandboxError(f"could not start the sandbox launcher: {e}") from e
    try:
        if stdin is not None:
            pipe = transport.get_pipe_transport(0)
            assert isinstance(pipe, asyncio.WriteTransport)
            pipe.write(stdin.encode())  # buffered by the transport; a broken pipe is ignored
            pipe.close()
        try:
            await asyncio.wait_for(run.exited.wait(), limits.wall_seconds)
        except TimeoutError:
            run.stop("timeout")
            await run.exited.wait()  # within _GRACE_S: SIGKILL of the group follows SIGTERM
        run.duration_s = time.monotonic() - started
        if uid is not None:
            await sweep_uid(uid)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(transport.get_pid(), signal.SIGKILL)  # a run without pid ns
        # Every writer of the pipes is dead now, so EOF is imminent; the bound is for a
        # non-root run without namespaces, where a daemon may have slipped away.
        closed = [asyncio.create_task(e.wait()) for e in run.pipes_closed.values()]
        await asyncio.wait(closed, timeout=_GRACE_S)
        for t in closed:
            t.cancel()
    except BaseException:
        run.kill_group()  # cancelled, or the sweep failed: leave nothing running
        if uid is not None:
            kill_uid_now(uid)
            with contextlib.suppress(BaseException):  # the original error is what matters
                await asyncio.shield(sweep_uid(uid))
        raise
    finally:
        run.close()
    return run


def _read_report(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = {}
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            with contextlib.suppress(ValueError):  # a line cut short by SIGKILL
                report.update(json.loads(line))
    return report


def _remove_tree(base: Path) -> None:
    # Root removes anything. Our own files, unprivileged, may sit in dirs the program made
    # unreadable (chmod 000); as their owner we can open them up again first.
    if os.geteuid() != 0:
        for dirpath, dirnames, _ in os.walk(base):
            for d in dirnames:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(dirpath, d), 0o700)
    shutil.rmtree(base, ignore_errors=True)


def _result(
    run: _Run, report: dict[str, Any], oom_kills: int, limits: SandboxLimits
) -> SandboxResult:
    if report.get("setup_error"):
        raise SandboxError(f"sandbox setup failed: {report['setup_error']}")
    if report.get("exec_error"):
        raise SandboxError(f"sandbox could not start the program: {report['exec_error']}")
    stdout = run.output[1].decode("utf-8", errors="replace")
    stderr = run.output[2].decode("utf-8", errors="replace")
    status: int | None = report.get("status")
    launcher_code = run.transport.get_returncode() if run.transport else None
    if status is None and run.stop_reason is None and launcher_code == 1:
        raise SandboxError(f"sandbox launcher failed: {stderr[-2000:]}")
    reason, exit_code = _classify(
        run.stop_reason, status, report.get("cpu_s"), stderr, oom_kills, limits
    )
    isolation = tuple(report.get("mechanisms", ()))
    return SandboxResult(
        stdout=stdout,
        stderr=stderr,
        exit_code=exit_code,
        reason=reason,
        duration_s=round(run.duration_s, 3),
        cpu_s=report.get("cpu_s"),
        stdout_truncated=run.truncated[1],
        stderr_truncated=run.truncated[2],
        network_isolated="net_ns" in isolation,
        isolation=isolation,
    )


def _classify(
    stop_reason: Reason | None,
    status: int | None,
    cpu_s: float | None,
    stderr: str,
    oom_kills: int,
    limits: SandboxLimits,
) -> tuple[Reason, int | None]:
    if stop_reason is not None:
        return stop_reason, None
    if status is None:  # the launcher died before reporting: only a signal from outside does that
        return ("memory" if oom_kills else "killed"), None
    code = os.waitstatus_to_exitcode(status)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        # SIGXCPU at the soft limit; SIGKILL at the hard one if the program ignored SIGXCPU.
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and (cpu_s or 0) >= limits.cpu_seconds):
            return "cpu", code
        return ("memory" if oom_kills else "killed"), code
    if code == 0:
        return "ok", 0
    last_line = next((ln for ln in reversed(stderr.splitlines()) if ln.strip()), "")
    if oom_kills or last_line.startswith("MemoryError"):
        return "memory", code
    return "error", code
