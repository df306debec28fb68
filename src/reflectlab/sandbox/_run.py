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


CHANNEL_IN_FD = 250
"""Descriptor on which a program run with ``channel=`` reads the channel's bytes (a memfd)."""
CHANNEL_OUT_FD = 251
"""Descriptor whose writes come back as :attr:`SandboxResult.channel` (a pipe to this process)."""
CHANNEL_CAP = 1 << 16
"""Bytes of :attr:`SandboxResult.channel` kept: one pipe's worth, read after the run."""

# Interpreters (with the namespace switch) that have been seen to start inside the sandbox.
_started: set[tuple[str, bool]] = set()


async def run_python(
    code: str,
    *,
    stdin: str | None = None,
    limits: SandboxLimits | None = None,
    files: dict[str, str] | None = None,
    python: str | None = None,
    channel: bytes | None = None,
) -> SandboxResult:
    """Run ``code`` as a Python program in a fresh sandbox and return what happened.

    ``stdin`` is fed to the program; ``files`` (relative path -> text) are written into its
    work dir next to the program, which is importable from there; ``python`` is the
    interpreter (default: this one, so the program sees the same installed packages).
    ``channel``, when given, is a private pair of descriptors: the program reads these bytes
    from :data:`CHANNEL_IN_FD` and what it writes to :data:`CHANNEL_OUT_FD` comes back as
    :attr:`SandboxResult.channel`; neither has a path, and no other process can reach them.
    A failing program is a result (``reason``), not an exception; :class:`SandboxError` means
    the sandbox itself could not run, including an interpreter that cannot start inside it.
    Safe to run many at once from one event loop::

        sem = asyncio.Semaphore(4)
        async def check(src: str) -> bool:
            async with sem:
                return (await run_python(src, limits=SandboxLimits(cpu_seconds=5))).ok
    """
    limits = limits or SandboxLimits()
    all_files = _check_files(code, files)
    exe = sys.executable if python is None else shutil.which(python) or python
    key = (exe, _USE_NAMESPACES)
    if key not in _started:
        # An interpreter whose stdlib the sandbox hides still "runs" and fails every program
        # with exit status 1, which would score as wrong answers. `pass` fails only that way.
        probe = await _run_once(_check_files("pass", None), exe, python is None, None, None, limits)
        if not probe.ok:
            raise SandboxError(
                f"the interpreter {exe} cannot start inside the sandbox ({probe.reason}, exit "
                f"code {probe.exit_code}): {probe.stderr.strip()[-1000:]}"
            )
        _started.add(key)
    return await _run_once(all_files, exe, python is None, stdin, channel, limits)


async def _run_once(
    files: dict[str, str],
    exe: str,
    default: bool,
    stdin: str | None,
    channel: bytes | None,
    limits: SandboxLimits,
) -> SandboxResult:
    root = os.geteuid() == 0
    uid = allocate_uid() if root else None
    try:
        base = Path(tempfile.mkdtemp(prefix="reflectlab-sandbox-"))
        try:
            run, report, oom_kills, channel_out = await _run_in(
                base, files, exe, default, stdin, channel, limits, uid
            )
        finally:
            _remove_tree(base)
    finally:
        if uid is not None:
            release_uid(uid)  # whatever failed above: a uid is never leaked
    return _result(run, report, oom_kills, channel_out, limits)


async def _run_in(
    base: Path,
    files: dict[str, str],
    exe: str,
    default: bool,
    stdin: str | None,
    channel: bytes | None,
    limits: SandboxLimits,
    uid: int | None,
) -> tuple[_Run, dict[str, Any], int, bytes | None]:
    base.chmod(0o711)  # without a mount ns the sandbox uid must pass through to work/
    # Pipes and a memfd, never files: the program, where it keeps our uid, could rewrite a
    # file in base (forging its own wait status); a descriptor without a path it cannot reach.
    report_r, report_w = os.pipe()
    fds = [report_r, report_w]
    cgroup = None
    try:
        pass_fds = [report_w]
        channel_r = None
        if channel is not None:
            channel_in = os.memfd_create("reflectlab-channel", os.MFD_CLOEXEC)
            fds.append(channel_in)
            os.write(channel_in, channel)  # a memfd never blocks, whatever the size
            os.lseek(channel_in, 0, os.SEEK_SET)
            channel_r, channel_w = os.pipe()
            fds += [channel_r, channel_w]
            pass_fds += [channel_in, channel_w]
        dirs, closed = _interpreter_dirs(exe, default=default)
        cgroup = create_cgroup(base.name, limits.memory_mb * _MIB, limits.max_processes + 2)
        config = {
            "parent_pid": os.getpid(),
            "report_fd": report_w,
            "channel_fds": pass_fds[1:] or None,
            "uid": uid,
            "argv": [exe, "-E", "-s", "-B", "-u", PROGRAM],
            "files": files,
            "interpreter_dirs": dirs,
            "closed_dirs": closed if os.geteuid() == 0 else [],
            "fallback_workdir": str(base / "work"),
            "nproc_shared": None
            if uid is not None
            else limits.max_processes + tasks_of_uid(os.getuid()),
            "cgroups": cgroup.procs_files if cgroup else {},
            "namespaces": _USE_NAMESPACES,
            **limits.model_dump(exclude={"wall_seconds", "output_bytes"}),
        }
        fd = os.open(base / "config.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            json.dump(config, f)
        run = await _supervise(base / "config.json", stdin, limits, uid, pass_fds)
        report = _read_report(report_r)
        channel_out = None if channel_r is None else _drain(channel_r, CHANNEL_CAP)
        oom_kills = cgroup.oom_kills() if cgroup else 0
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        if cgroup:
            await cgroup.remove()
    return run, report, oom_kills, channel_out


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


def _interpreter_dirs(exe: str, *, default: bool) -> tuple[list[str], list[str]]:
    """The dirs the interpreter needs, and those of their ancestors a stranger cannot enter.

    The dirs are the prefix of ``exe`` as named and as resolved (a venv and the Python it
    links to), and this interpreter's prefixes and reflectlab's own import root when it is
    our own. A mount namespace binds
    each back, read-only, where /tmp, /dev/shm or a closed ancestor would hide it; "closed"
    is a directory without the execute bit for others, such as /root (pyenv) or pytest's
    /tmp/pytest-of-root. Without a mount namespace a closed ancestor is an error.
    """
    dirs = {os.path.dirname(os.path.dirname(p)) for p in (exe, os.path.realpath(exe))}
    if default:
        dirs |= {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        # The dir reflectlab is imported from: site-packages, or a checkout's src/ for an
        # editable install (outside the prefix, say /tmp/checkout/src), which the venv's .pth
        # names; the program sees the same packages as we do, reflectlab included.
        dirs.add(str(Path(__file__).resolve().parents[2]))
    needed = sorted({os.path.realpath(d) for d in dirs} | {os.path.abspath(d) for d in dirs})
    needed = [d for d in needed if os.path.isdir(d)]  # a missing one fails at execve, clearly
    closed: set[str] = set()
    for d in needed:
        parts = PurePosixPath(d).parts
        for i in range(1, len(parts)):
            top = str(PurePosixPath(*parts[:i]))
            try:
                mode = os.stat(top).st_mode
            except OSError:
                break
            if not mode & stat.S_IXOTH:
                closed.add(top)
                break
    return needed, sorted(closed)


def _closed_interpreter_dirs(exe: str, *, default: bool) -> list[str]:
    """The closed ancestors of the interpreter's dirs (see :func:`_interpreter_dirs`)."""
    return _interpreter_dirs(exe, default=default)[1]


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
    config: Path, stdin: str | None, limits: SandboxLimits, uid: int | None, pass_fds: list[int]
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
            pass_fds=pass_fds,
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


def _drain(fd: int, cap: int) -> bytes:
    """What is in a pipe now, up to ``cap`` bytes, without waiting for a writer to close it."""
    os.set_blocking(fd, False)
    data = bytearray()
    while len(data) < cap:
        try:
            chunk = os.read(fd, min(_CHUNK, cap - len(data)))
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    return bytes(data)


def _read_report(fd: int) -> dict[str, Any]:
    # The launcher is gone (its last line is written before C1 exits, and L0 waits for C1),
    # so what it wrote is in the pipe; the few lines it writes never fill one.
    report: dict[str, Any] = {}
    for line in _drain(fd, CHANNEL_CAP).decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):  # a line cut short by SIGKILL
            report.update(json.loads(line))
    return report


def _remove_tree(base: Path) -> None:
    """Delete what a run left, however hostile: deep, wide, unreadable, oddly owned.

    Iterative and descriptor-relative (no recursion, no path longer than one name), holding
    two descriptors at a time; the program is dead by now, so the tree no longer changes.
    As the owner without root, a dir the program made unreadable (chmod 000) is opened up
    first. What cannot be removed is left in place rather than failing the run.
    """
    try:
        top = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return
    fd = top
    pending: list[list[str]] = [_empty_dir(fd)]
    names: list[str] = []  # the path from base to the dir ``fd`` holds
    while True:
        if pending[-1]:
            name = pending[-1].pop()
            child = _open_subdir(fd, name)
            if child is None:
                continue
            os.close(fd)
            fd = child
            names.append(name)
            pending.append(_empty_dir(fd))
            continue
        pending.pop()
        if not names:
            break
        parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = parent
        with contextlib.suppress(OSError):
            os.rmdir(names.pop(), dir_fd=fd)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir(base)


def _open_subdir(parent: int, name: str) -> int | None:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        return os.open(name, flags, dir_fd=parent)
    except PermissionError:
        pass
    except OSError:
        return None
    try:  # our own dir, chmod 000 by the program: we may open it up again
        os.chmod(name, 0o700, dir_fd=parent)
        return os.open(name, flags, dir_fd=parent)
    except OSError:
        return None


def _empty_dir(fd: int) -> list[str]:
    """Unlink every non-directory in ``fd``; return the names of its subdirectories."""
    if os.geteuid() != 0:
        with contextlib.suppress(OSError):
            os.chmod(fd, 0o700)  # unlinking needs write and search permission on the dir
    subdirs = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        subdirs.append(entry.name)
                    else:
                        os.unlink(entry.name, dir_fd=fd)
                except OSError:
                    continue
    except OSError:
        pass
    return subdirs


def _result(
    run: _Run,
    report: dict[str, Any],
    oom_kills: int,
    channel: bytes | None,
    limits: SandboxLimits,
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
    reason, exit_code = _classify(run.stop_reason, status, report.get("cpu_s"), oom_kills, limits)
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
        channel=None if channel is None else channel.decode("utf-8", errors="replace"),
    )


def _classify(
    stop_reason: Reason | None,
    status: int | None,
    cpu_s: float | None,
    oom_kills: int,
    limits: SandboxLimits,
) -> tuple[Reason, int | None]:
    # Only what the OS and this process observed decides: our own stop, the wait status and
    # CPU time from wait4() in the launcher, the cgroup's OOM-kill count. Never the program's
    # output: it could print "MemoryError" or anything else.
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
    # A nonzero exit after the cgroup OOM-killed one of the run's processes (say, a child).
    return ("memory" if oom_kills else "error"), code
