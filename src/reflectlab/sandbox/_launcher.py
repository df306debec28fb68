"""The trusted half of the sandbox, run in the child as ``python -I -S _launcher.py CONFIG``.

It is executed as a script, never imported by the parent, so it uses the standard library only
(``-S``: not even site-packages). Three processes, each with one job::

    parent (asyncio)
     └── L0  this script as started: joins the cgroups, unshares the namespaces, prepares the
         │   mounts and the work dir, then waits. SIGTERM from the parent means "stop now".
         └── C1  first process of the new pid namespace (its init) and child subreaper: starts
             │   the program, reaps every orphan, and once the program has exited kills whatever
             │   it left behind, then reports the program's wait status and CPU time.
             └── C2  the untrusted program: rlimits, dedicated uid, no_new_privs, execve(python).

The report is JSON lines on a pipe the parent holds the read end of (``report_fd``, passed
down by the parent), so no path leads to it: without a uid of its own the program could
otherwise replace a report file and forge its own wait status. The program never sees it:
it is close-on-exec, and L0 and C1 make themselves non-dumpable, so the program, even under
the caller's uid, cannot open their descriptors through ``/proc/PID/fd`` (nor ptrace them).
The optional private channel (``channel_fds``: a memfd to read, a pipe to write) is the only
pair of descriptors passed to the program, at :data:`CHANNEL_IN_FD` and :data:`CHANNEL_OUT_FD`.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import re
import resource
import signal
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38
# statvfs flag -> mount flag. A read-only bind remount must restate these, or it clears them
# (and inside a user namespace clearing a locked flag fails with EPERM).
_KEEP_FLAGS = {
    os.ST_NOSUID: MS_NOSUID,
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: MS_NOEXEC,
    os.ST_NOATIME: MS_NOATIME,
    os.ST_NODIRATIME: MS_NODIRATIME,
    os.ST_RELATIME: MS_RELATIME,
}
# Kernel file systems stay as they are: device nodes must stay usable, and /proc and /sys are
# protected by ownership. Everything else becomes read-only inside the mount namespace.
_KEEP_WRITABLE = ("/proc", "/sys", "/dev")
SANDBOX_WORKDIR = "/tmp/work"  # the work dir as the program sees it inside a mount namespace
# Where the program finds the private channel (same values as in _run.py, which cannot be
# imported here). High numbers, below RLIMIT_NOFILE, so the program's own files never land there.
CHANNEL_IN_FD, CHANNEL_OUT_FD = 250, 251
# File systems that a mount namespace replaces with a fresh tmpfs.
_COVERED = ("/tmp", "/dev/shm")

_libc = ctypes.CDLL(None, use_errno=True)
_stop_requested = False
_c1_pid = 0


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl({option})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = [None if s is None else s.encode() for s in (source, target, fstype)]
    ret = _libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), data.encode() or None)
    _check(ret, f"mount {target}")


def _report(fd: int, **fields: Any) -> None:
    os.write(fd, (json.dumps(fields) + "\n").encode())


def _write_file(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


# --- L0: namespaces and mounts ----------------------------------------------------------------


def _enter_namespaces(root: bool) -> set[str]:
    """Unshare what the kernel allows; return the names of the namespaces now in force."""
    ns = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if root:
        if _libc.unshare(ns) != 0:
            return set()
        return {"mount_ns", "net_ns", "pid_ns", "ipc_ns", "uts_ns"}
    # Not root: an unprivileged user namespace, where the kernel allows them, owns the rest.
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(CLONE_NEWUSER | ns) != 0:
        return set()
    _write_file("/proc/self/setgroups", "deny")
    _write_file("/proc/self/uid_map", f"{uid} {uid} 1")
    _write_file("/proc/self/gid_map", f"{gid} {gid} 1")
    return {"user_ns", "mount_ns", "net_ns", "pid_ns", "ipc_ns", "uts_ns"}


def _mount_points() -> list[str]:
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            raw = line.split()[4]  # spaces and the like are escaped as \040 (octal)
            points.append(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), raw))
    return points


def _remount_read_only() -> None:
    for point in _mount_points():
        if any(point == k or point.startswith(k + "/") for k in _KEEP_WRITABLE):
            continue
        try:
            st_flags = os.statvfs(point).f_flag
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY
            flags |= sum(ms for st, ms in _KEEP_FLAGS.items() if st_flags & st)
            _mount(None, point, None, flags)
        except OSError:
            # A mount we cannot touch stays as it is: the dedicated uid, which owns nothing
            # outside the work dir, is the primary write barrier; this pass is the second one.
            continue


def _bind_back(dirs: dict[str, int]) -> None:
    """Make each interpreter dir visible again, read-only, at its own path.

    ``dirs`` maps a path to a descriptor opened before the tmpfs mounts hid it (under /tmp,
    /dev/shm, or a closed directory such as /root that got an empty tmpfs of its own). A dir
    that still resolves to the same inode needs nothing; the rest are bind-mounted back, so
    the interpreter keeps its paths (a venv's ``home``, its site-packages) and nothing else
    of the hidden tree shows.
    """
    os.umask(0o022)  # dirs made in the tmpfs must be traversable by the sandbox uid
    for path in sorted(dirs, key=len):
        fd = dirs[path]
        with contextlib.suppress(OSError):
            st, want = os.stat(path), os.fstat(fd)
            if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
                continue
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        # A bind mount ignores MS_RDONLY: it takes a remount, restating the locked flags.
        st_flags = os.statvfs(path).f_flag
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        flags |= sum(ms for st, ms in _KEEP_FLAGS.items() if st_flags & st)
        _mount(None, path, None, flags)


def _setup_mounts(cfg: dict[str, Any]) -> str:
    """Private, read-only view of the host; size-capped private /tmp and /dev/shm; the
    interpreter's own dirs bound back wherever they live."""
    # Opened before the tmpfs mounts hide them, and after unshare: a bind mount's source must
    # be in our own mount namespace.
    dirs = {d: os.open(d, os.O_PATH | os.O_DIRECTORY) for d in cfg["interpreter_dirs"]}
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _remount_read_only()
    # A closed dir (e.g. /root, mode 0700) gets an empty tmpfs: the sandbox uid could not
    # pass through it, and nothing else in it is the program's business.
    covered: list[str] = []
    for top in sorted(cfg["closed_dirs"]):
        # Under /tmp or /dev/shm the fresh tmpfs covers it anyway.
        if not any(top == c or top.startswith(c + "/") for c in [*covered, *_COVERED]):
            _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
            covered.append(top)
    size = f"size={cfg['disk_mb']}m,mode=1777"
    for point in _COVERED:
        if os.path.isdir(point):
            _mount("tmpfs", point, "tmpfs", MS_NOSUID | MS_NODEV, size)
    _bind_back(dirs)
    for fd in dirs.values():
        os.close(fd)
    return SANDBOX_WORKDIR


def _populate(workdir: str, files: dict[str, str], uid: int | None) -> None:
    """Write the program and its files; hand the tree to the sandbox uid."""
    os.mkdir(workdir, 0o700)
    for rel, text in files.items():
        path = os.path.join(workdir, rel)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with open(fd, "w", encoding="utf-8") as f:
            f.write(text)
    if uid is not None:
        for dirpath, dirnames, filenames in os.walk(workdir):
            for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                os.lchown(name, uid, uid)


# --- C2: the untrusted program ----------------------------------------------------------------


def _exec_program(cfg: dict[str, Any], workdir: str, errfd: int) -> None:
    try:
        # Inherited from C1; the kernel makes /proc/self owned by root while it is 0, and
        # oom_score_adj below must stay writable. execve resets it anyway.
        _prctl(PR_SET_DUMPABLE, 1)
        if cfg["channel_fds"] is not None:
            # Out of the way first: a source may already sit at one of the target numbers.
            moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 256) for fd in cfg["channel_fds"]]
            for src, dst in zip(moved, (CHANNEL_IN_FD, CHANNEL_OUT_FD), strict=True):
                os.dup2(src, dst)  # inheritable: the only descriptors the program gets
        for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)  # Python ignores some; exec'd shells must not
        # First to be chosen by the OOM killer, cgroup or global, before anything of the host.
        _write_file("/proc/self/oom_score_adj", "1000")
        mib = 1024 * 1024
        limits = {
            resource.RLIMIT_CPU: (cfg["cpu_seconds"], cfg["cpu_seconds"] + 1),
            resource.RLIMIT_AS: (cfg["memory_mb"] * mib,) * 2,
            resource.RLIMIT_FSIZE: (cfg["file_size_mb"] * mib,) * 2,
            resource.RLIMIT_NPROC: (cfg["nproc"],) * 2,
            resource.RLIMIT_NOFILE: (256, 256),
            resource.RLIMIT_CORE: (0, 0),
        }
        for res, (soft, hard) in limits.items():
            cur_hard = resource.getrlimit(res)[1]
            if cur_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, cur_hard), min(hard, cur_hard)
            resource.setrlimit(res, (soft, hard))
        uid = cfg["uid"]
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)  # all caps are gone from here on
        _prctl(PR_SET_NO_NEW_PRIVS, 1)  # setuid binaries (su, sudo, ping) cannot regain any
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # set after setuid, which clears it
        os.chdir(workdir)
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8"}
        env["TMPDIR"] = "/tmp" if workdir == SANDBOX_WORKDIR else workdir
        os.execve(cfg["argv"][0], cfg["argv"], env)
    except BaseException as e:
        os.write(errfd, f"{type(e).__name__}: {e}".encode())
    finally:
        os._exit(127)


# --- C1: init, reaper, reporter ---------------------------------------------------------------


def _proc_stat(pid: int | str) -> tuple[str, int, int] | None:
    """(state, ppid, start time) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _descendants() -> set[tuple[int, int]]:
    """(pid, start time) of every live descendant; the pair survives pid reuse."""
    kids: dict[int, list[tuple[int, int]]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        st = _proc_stat(name)
        if st is not None and st[0] not in "ZX":
            kids.setdefault(st[1], []).append((int(name), st[2]))
    found: set[tuple[int, int]] = set()
    frontier = [os.getpid()]
    while frontier:
        for child in kids.get(frontier.pop(), []):
            found.add(child)
            frontier.append(child[0])
    return found


def _signal(pid: int, start: int, sig: int) -> None:
    try:
        fd = os.pidfd_open(pid)  # pins the process; then make sure it is still the same one
    except OSError:
        return
    try:
        st = _proc_stat(pid)
        if st is not None and st[2] == start:
            signal.pidfd_send_signal(fd, sig)
    except OSError:
        pass
    finally:
        os.close(fd)


def _kill_all(pid_ns: bool) -> None:
    """SIGKILL everything the program started, without losing a race against a fork bomb.

    Killing one process at a time loses: every freed slot is refilled at once. In a pid
    namespace its init's ``kill(-1, SIGKILL)`` hits every other member atomically (a task
    with SIGKILL pending cannot fork). Without one, first SIGSTOP the whole tree until a scan
    finds nobody new (a task with a stop pending cannot fork either), then SIGKILL it.
    """
    if pid_ns:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        return
    signalled: set[tuple[int, int]] = set()
    while new := _descendants() - signalled:
        for proc in new:
            _signal(*proc, signal.SIGSTOP)
        signalled |= new
    for proc in _descendants():
        _signal(*proc, signal.SIGKILL)


def _kill_and_reap_all(pid_ns: bool) -> None:
    # As subreaper (or pid-namespace init) every descendant whose parent died became our child,
    # so "no children left" means "no descendants left", however they forked or setsid()ed.
    while True:
        _kill_all(pid_ns)
        try:
            os.waitpid(-1, 0)
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return


def _run_init(cfg: dict[str, Any], workdir: str, report_fd: int, pid_ns: bool) -> None:
    def on_sigterm(*_: object) -> None:
        global _stop_requested
        _stop_requested = True
        with contextlib.suppress(OSError):
            _kill_all(pid_ns)

    signal.signal(signal.SIGTERM, on_sigterm)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if pid_ns:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    if _stop_requested:
        return
    rfd, wfd = os.pipe()  # close-on-exec: EOF without data means execve succeeded
    program = os.fork()
    if program == 0:
        os.close(rfd)
        _exec_program(cfg, workdir, wfd)
    if _stop_requested:  # SIGTERM came between the check above and the fork
        _kill_all(pid_ns)
    os.close(wfd)
    for fd in cfg["channel_fds"] or ():
        os.close(fd)  # the program holds the channel alone: its EOF is the program's
    with os.fdopen(rfd, "rb") as r:
        exec_error = r.read().decode(errors="replace")
    while True:
        pid, status, usage = os.wait4(-1, 0)
        if pid == program:
            break
    _kill_and_reap_all(pid_ns)
    cpu = usage.ru_utime + usage.ru_stime
    _report(report_fd, status=status, cpu_s=round(cpu, 3), exec_error=exec_error or None)


# --- L0 ---------------------------------------------------------------------------------------


def _on_sigterm(*_: object) -> None:
    global _stop_requested
    _stop_requested = True
    if _c1_pid:
        os.kill(_c1_pid, signal.SIGTERM)


def _setup(cfg: dict[str, Any]) -> tuple[set[str], str]:
    mechanisms = {"rlimits"}
    for name, procs in cfg["cgroups"].items():
        try:
            _write_file(procs, str(os.getpid()))
            mechanisms.add(f"cgroup_{name}")
        except OSError:
            pass
    root = os.geteuid() == 0
    if cfg["namespaces"]:
        mechanisms |= _enter_namespaces(root)
    if "mount_ns" in mechanisms:
        workdir = _setup_mounts(cfg)
    elif cfg["closed_dirs"]:
        names = ", ".join(sorted(cfg["closed_dirs"]))
        raise PermissionError(
            f"the interpreter lies under {names}, closed to the sandbox uid, and without a "
            "mount namespace it cannot be exposed; pass python= an interpreter readable by all"
        )
    else:
        workdir = cfg["fallback_workdir"]
    if "uts_ns" in mechanisms:
        _libc.sethostname(b"sandbox", 7)
    _populate(workdir, cfg["files"], cfg["uid"])
    if cfg["uid"] is not None:
        mechanisms.add("uid")
    # RLIMIT_NPROC counts every task of the real uid (per user namespace since Linux 5.14):
    # a per-run budget only with a uid or user namespace of our own.
    shared = cfg["uid"] is None and "user_ns" not in mechanisms
    cfg["nproc"] = cfg["nproc_shared"] if shared else cfg["max_processes"]
    return mechanisms, workdir


def main(config_path: str) -> int:
    global _c1_pid
    signal.signal(signal.SIGTERM, _on_sigterm)
    with open(config_path) as f:
        cfg = json.load(f)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != cfg["parent_pid"]:
        return 1  # the parent died before we could ask to die with it
    report_fd = cfg["report_fd"]
    for fd in [report_fd, *(cfg["channel_fds"] or ())]:
        os.set_inheritable(fd, False)  # passed down to us by the parent; not to the program
    try:
        mechanisms, workdir = _setup(cfg)
        # From here on no /proc/PID/fd, /proc/PID/mem or ptrace of L0 and C1 for the program,
        # even where it keeps our uid: the report pipe stays out of its reach. (After _setup:
        # writing our own uid_map needs a dumpable process.)
        _prctl(PR_SET_DUMPABLE, 0)
    except Exception as e:
        _report(report_fd, setup_error=f"{type(e).__name__}: {e}")
        return 0
    _report(report_fd, mechanisms=sorted(mechanisms))
    if _stop_requested:
        return 0
    pid = os.fork()
    if pid == 0:
        try:
            _run_init(cfg, workdir, report_fd, "pid_ns" in mechanisms)
        except BaseException as e:
            _report(report_fd, setup_error=f"init: {type(e).__name__}: {e}")
            _kill_and_reap_all("pid_ns" in mechanisms)
        finally:
            os._exit(0)
    _c1_pid = pid
    for fd in cfg["channel_fds"] or ():
        os.close(fd)
    if _stop_requested:
        os.kill(pid, signal.SIGTERM)
    while True:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
