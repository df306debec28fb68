"""Run untrusted, model-written Python in a separate, resource-limited process.

Example::

    from reflectlab.sandbox import SandboxLimits, run_python

    result = await run_python("print(input()[::-1])", stdin="abc",
                              limits=SandboxLimits(cpu_seconds=2, wall_seconds=5))
    assert result.ok and result.stdout == "cba\\n"

A failing program is a result (``reason`` says why: ``ok``, ``error``, ``timeout``, ``memory``,
``cpu``, ``output_limit``, ``killed``); :class:`~reflectlab.errors.SandboxError` means the
sandbox itself could not run, including an interpreter that cannot start inside it (each
interpreter is tried once with an empty program first), so a broken sandbox is never scored
as a failing program. ``reason`` comes only from what the OS and the parent saw: the
parent's own stop (wall clock, output cap), the wait status and CPU time from ``wait4`` in
the launcher, the cgroup's OOM-kill count. Nothing the program prints or writes counts:
the launcher reports over a pipe with no path, from processes the program cannot inspect.

The code never runs in this process: a small launcher (``_launcher.py``, stdlib only) sets
the child up with OS mechanisms and execs the interpreter.
Linux only: it relies on /proc, prctl, pidfds and, where allowed, namespaces and cgroups.

What a run guarantees, and how
------------------------------
Every run, on every Linux host:

* **CPU**: RLIMIT_CPU per process (SIGXCPU at ``cpu_seconds``, SIGKILL one second later).
* **Wall time**: the parent kills the whole run after ``wall_seconds``.
* **Memory**: RLIMIT_AS of ``memory_mb`` per process (an allocation beyond it is refused:
  Python raises ``MemoryError``, and the run is an ``error`` like any uncaught exception);
  the program's processes get ``oom_score_adj`` 1000, so any OOM killer picks them before
  anything of the host.
* **Output**: stdout and stderr are each kept up to ``output_bytes``; one byte more and the
  run is killed (``output_limit``, ``stdout_truncated``/``stderr_truncated``).
* **Files**: RLIMIT_FSIZE of ``file_size_mb`` per file, 256 open files, no core dumps.
* **Environment**: only ``PATH``, ``HOME``, ``LANG`` and ``TMPDIR``; nothing is inherited, so
  no API key reaches the program. The interpreter runs with ``-E -s -B -u`` (not ``-I``:
  that would drop the work dir from ``sys.path`` and make ``files`` unimportable).
* **Nothing survives**: the launcher's init process is a child subreaper; when the program
  exits (or the run is stopped) every process it started is killed, including ones that
  called ``setsid()`` or double-forked, and the work dir is deleted (iteratively, however
  deep, wide or chmod-000 the tree the program left; the run's uid is released in any case).
* **A private channel** (``channel=``), for a harness that must report past the program it
  runs: the bytes are on :data:`CHANNEL_IN_FD` (a memfd), and what is written to
  :data:`CHANNEL_OUT_FD` (a pipe to the parent) comes back as ``SandboxResult.channel``. No
  path leads to either, and no other process holds them. They are the program's own, so
  anything in the process can read or write them: a channel authenticates a harness only
  together with a secret the harness reads and closes before untrusted code runs. Code
  sharing the harness's interpreter can still find that secret in memory (gc, frames,
  ctypes, ``/proc/self/mem``) and forge the harness's report; what it can no longer do is
  pass by exiting, crashing, printing or writing to descriptors. See
  :mod:`reflectlab.task._code` for the full account.
* **The launcher is out of reach**: it is non-dumpable, so even a program with the caller's
  uid cannot open its descriptors through ``/proc/PID/fd`` or ptrace it, and its report
  (the program's wait status, CPU time) travels on a pipe, not a file the program could
  replace.

When we are root (this project's CI), additionally:

* **A uid of its own** (from a range above 1.7e9, not ``nobody``), no groups, no capabilities,
  ``no_new_privs``. Root ignores RLIMIT_NPROC; an unprivileged uid does not, and because
  the uid is unique, ``max_processes`` is a budget of this run alone: a fork bomb hits it
  without starving other runs or the host. The uid owns no file outside the work dir, so it
  can write nowhere else that is not world-writable, and it cannot signal other runs. After
  the run every process of that uid is stopped and killed (SIGSTOP first: a fork bomb
  refills every slot freed by a one-by-one SIGKILL).
* **cgroups**, where the v1 or v2 hierarchy lets us make one: ``memory_mb`` caps the memory
  of the whole run (tmpfs included), which rlimits cannot do, and its OOM kills are reported
  as ``memory``; ``pids.max`` backs up RLIMIT_NPROC.

When the kernel allows namespaces (root, or an unprivileged user namespace otherwise):

* **No network**: a new network namespace with only a down loopback. Nothing on the host or
  beyond is reachable over IP, nor the host's abstract unix sockets. ``network_isolated``.
* **Read-only host**: a private mount namespace in which every mount except /proc, /sys and
  /dev is remounted read-only; /tmp (holding the work dir, ``/tmp/work``) and /dev/shm are
  fresh tmpfs of ``disk_mb`` each, gone with the run. Directories closed to others (``/root``)
  stay closed; if the interpreter lives under one, that directory is covered by an empty
  tmpfs. Wherever the interpreter lives (under /root, under /tmp or /dev/shm, which the fresh
  tmpfs would hide, as with a venv under /tmp), its prefix, the prefix of the real
  executable and, for this interpreter, ``sys.prefix`` and ``sys.base_prefix`` (with their
  site-packages) are bound back at their own paths, read-only, and nothing else of the
  hidden tree.
* **Own pid, IPC and UTS namespaces**: the program sees only its own processes, its own SysV
  IPC and message queues, hostname ``sandbox``; when its init exits the kernel kills them all.

``SandboxResult.isolation`` lists what was in force: ``uid``, ``rlimits``, ``cgroup_memory``,
``cgroup_pids``, ``user_ns``, ``mount_ns``, ``net_ns``, ``pid_ns``, ``ipc_ns``, ``uts_ns``.

What falls back, and what is never guaranteed
---------------------------------------------
* **Root without namespaces** (a container without CAP_SYS_ADMIN, seccomp): uid, rlimits,
  cgroups and cleanup still hold. The network is open (``network_isolated=False``); the
  program may write in world-writable places (/tmp, /var/tmp, /dev/shm) and those files
  outlive the run; it sees the host's processes. An interpreter under a directory closed to
  others cannot be reached: that is a :class:`SandboxError` (pass ``python=``).
* **Not root**: the program keeps the caller's uid, so it can read (and without a mount
  namespace, write) whatever the caller can, including its home directory. In a user
  namespace RLIMIT_NPROC counts per namespace (Linux 5.14+); without one it counts all the
  caller's tasks, and is set to those plus ``max_processes``. No cgroups. Without a pid
  namespace a program of the same uid could kill the launcher and escape the cleanup (the
  run is then ``killed``: with no report from the launcher it is never ``ok``).
  Treat this as resource limiting, not as a security boundary.
* **Never**: protection from kernel exploits (no seccomp filter, shared kernel); secrecy of
  world-readable files (the repo, /etc, data sets); isolation from world-writable unix
  sockets on disk (e.g. the D-Bus system socket); a CPU cap for the run as a whole (each
  process has ``cpu_seconds``; the wall clock bounds the total); exact timing (a stopped run
  may take up to ~2 s longer than ``wall_seconds`` to be torn down).
"""

from __future__ import annotations

from reflectlab.sandbox._run import CHANNEL_IN_FD, CHANNEL_OUT_FD, run_python, run_python_sync
from reflectlab.sandbox._types import Reason, SandboxLimits, SandboxResult

__all__ = [
    "CHANNEL_IN_FD",
    "CHANNEL_OUT_FD",
    "Reason",
    "SandboxLimits",
    "SandboxResult",
    "run_python",
    "run_python_sync",
]
