"""Public value types of the sandbox: the limits a run is held to and what came out of it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Reason = Literal["ok", "error", "timeout", "memory", "cpu", "output_limit", "killed"]
"""Why the program stopped, as the OS and the sandbox saw it, never as the program said.

``ok``            exited with status 0
``error``         exited with a nonzero status (an uncaught exception, ``sys.exit(1)``, ...),
                  including a ``MemoryError`` from an allocation RLIMIT_AS refused: the program
                  could catch it or print the same text, so only its stderr says so
``timeout``       still running after ``wall_seconds``; the sandbox killed it
``memory``        the run's memory cgroup OOM-killed one of its processes
``cpu``           used up ``cpu_seconds`` of CPU time (SIGXCPU, then SIGKILL)
``output_limit``  wrote more than ``output_bytes`` to stdout or stderr; the sandbox killed it
``killed``        ended by any other signal (segfault, abort, ``os.kill(os.getpid(), 9)``)
"""


class SandboxLimits(BaseModel):
    """What one sandboxed run may use. The defaults suit a unit-test-sized program.

    Example::

        SandboxLimits(cpu_seconds=2, wall_seconds=5, memory_mb=256)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu_seconds: int = Field(default=10, ge=1, description="CPU time of each process (RLIMIT_CPU).")
    wall_seconds: float = Field(
        default=15.0, gt=0, description="Real time before the run is killed."
    )
    memory_mb: int = Field(
        default=512,
        ge=16,
        description="Address space of each process (RLIMIT_AS) and, where a cgroup can be "
        "made, the resident memory of the whole sandbox including its tmpfs files.",
    )
    output_bytes: int = Field(
        default=1_000_000, ge=0, description="Cap on stdout and on stderr, each; beyond it: killed."
    )
    max_processes: int = Field(
        default=64, ge=1, description="Processes and threads the program may have at once."
    )
    file_size_mb: int = Field(
        default=16, ge=0, description="Largest file it may write (RLIMIT_FSIZE)."
    )
    disk_mb: int = Field(
        default=64,
        ge=1,
        description="Size of the private tmpfs holding the work dir and /tmp (and of the one "
        "on /dev/shm); only where a mount namespace is available.",
    )


class SandboxResult(BaseModel):
    """The outcome of one run. ``reason`` says why it stopped; ``ok`` is ``reason == "ok"``.

    ``exit_code`` is the program's exit status, minus the signal number if a signal ended it,
    and ``None`` when the sandbox killed it (``timeout``, ``output_limit``) or it never started.
    ``isolation`` names the mechanisms that were in force for this run (see the package
    docstring); ``network_isolated`` is ``"net_ns" in isolation``.
    """

    model_config = ConfigDict(frozen=True)

    stdout: str
    stderr: str
    exit_code: int | None
    reason: Reason
    duration_s: float
    cpu_s: float | None = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    network_isolated: bool = False
    isolation: tuple[str, ...] = ()
    channel: str | None = None
    """What the program wrote to its private channel (``run_python(channel=...)``), up to
    64 KiB; ``None`` for a run without one."""

    @property
    def ok(self) -> bool:
        """True when the program exited with status 0 within every limit."""
        return self.reason == "ok"
