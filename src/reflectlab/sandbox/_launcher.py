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

The report is a file of JSON lines, written through a descriptor opened before any mount change
so that it stays reachable from inside the mount namespace. Untrusted code never sees it:
descriptors opened here are close-on-exec.
"""

from __future__ import annotations

import contextlib
import ctypes
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
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
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


def _expose(closed: list[list[str]]) -> None:
    """Make the interpreter reachable for the sandbox uid although it lies in a closed dir.

    Cover the closed directory (e.g. /root, mode 0700) with an empty tmpfs and bind the
    interpreter back at its own path: it keeps its paths (a venv's ``home``), and everything
    else in that directory stays hidden.
    """
    # Opened before the tmpfs hides them, and after unshare: a bind mount's source must be
    # in our own mount namespace.
    plan = [(top, path, os.open(path, os.O_PATH | os.O_DIRECTORY)) for top, path in closed]
    covered: list[str] = []
    for top, path, fd in sorted(plan):
        if not any(top == c or top.startswith(c + "/") for c in covered):
            _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
            covered.append(top)
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)


def _setup_mounts(cfg: dict[str, Any]) -> str:
    """Private, read-only view of the host; size-capped private /tmp and /dev/shm."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _remount_read_only()
    _expose(cfg["expose"])
    size = f"size={cfg['disk_mb']}m,mode=1777"
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, size)
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, size)
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
    elif cfg["expose"]:
        names = ", ".join(sorted({top for top, _ in cfg["expose"]}))
        raise PermissionError(
            f"the interpreter lies under {names}, closed to the sandbox uid, and without a "
            "mount namespace it cannot be exposed; pass python= an interpreter readable by all"
        )
    else:
        workdir = os.path.join(os.path.dirname(cfg["report"]), "work")
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
    report_fd = os.open(cfg["report"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        mechanisms, workdir = _setup(cfg)
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
    if _stop_requested:
        os.kill(pid, signal.SIGTERM)
    while True:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
