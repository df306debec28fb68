"""A cgroup per run, where one can be made, capping the memory and tasks of the whole sandbox.

rlimits are per process: with ``max_processes`` processes each allowed ``memory_mb`` of address
space, a fork-and-allocate program could still reach ``max_processes * memory_mb``. A memory
cgroup caps the sum (tmpfs pages included) and tells us when its OOM killer fired; a pids cgroup
caps tasks independently of uids. Both are best effort: the run goes ahead without them where
the hierarchy is absent or not writable (not root, cgroup v2 without delegation, ...), and
``SandboxResult.isolation`` says which were in force.

cgroup v1 (separate ``memory`` and ``pids`` hierarchies) and v2 (unified; needs both
controllers enabled for our cgroup's children, which the kernel refuses when our own cgroup
holds processes and is not the root) are supported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

_CONTROLLERS = ("memory", "pids")


def _unescape(field: str) -> str:
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def _hierarchies() -> dict[str, Path]:
    """Our own cgroup directory per controller name; key ``""`` is the v2 (unified) one."""
    mounts: dict[str, tuple[str, str]] = {}  # controller -> (mount root, mount point)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, (fstype, _src, opts) = left.split(), right.split()[:3]
            root, point = _unescape(fields[3]), _unescape(fields[4])
            if fstype == "cgroup2":
                mounts.setdefault("", (root, point))
            elif fstype == "cgroup":
                for opt in opts.split(","):
                    if opt in _CONTROLLERS:
                        mounts.setdefault(opt, (root, point))
    found: dict[str, Path] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _id, names, path = line.rstrip("\n").split(":", 2)
            for name in names.split(",") if names else [""]:
                if name not in mounts:
                    continue
                root, point = mounts[name]
                if root != "/" and not (path == root or path.startswith(root + "/")):
                    continue  # our cgroup is outside what this mount shows
                rel = path[len(root) :] if root != "/" else path
                found[name] = Path(point + rel.rstrip("/"))
    return found


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


@dataclass
class Cgroup:
    """The directories made for one run, per controller."""

    dirs: dict[str, Path]
    version: int

    @property
    def procs_files(self) -> dict[str, str]:
        """Controller -> ``cgroup.procs`` the launcher writes its pid into before unsharing."""
        return {name: str(d / "cgroup.procs") for name, d in self.dirs.items()}

    def oom_kills(self) -> int:
        """How many processes the memory cgroup's OOM killer has killed in this run."""
        if "memory" not in self.dirs:
            return 0
        events = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            text = (self.dirs["memory"] / events).read_text()
        except OSError:
            return 0
        m = re.search(r"^oom_kill (\d+)$", text, re.MULTILINE)
        return int(m[1]) if m else 0

    async def remove(self) -> None:
        """rmdir each directory; a task that is still exiting makes it busy for a moment."""
        for d in set(self.dirs.values()):
            for _ in range(100):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    await asyncio.sleep(0.01)


def create_cgroup(name: str, memory_bytes: int, max_tasks: int) -> Cgroup | None:
    """Make the cgroup(s) for one run, or return None if this host does not let us."""
    try:
        hier = _hierarchies()
    except (OSError, ValueError):
        return None
    unified = hier.get("")
    if unified is not None and _enable_v2(unified):
        d = unified / name
        required = {"memory.max": memory_bytes, "pids.max": max_tasks}
        if _make(d, required, optional={"memory.swap.max": 0}):
            return Cgroup({ctrl: d for ctrl in _CONTROLLERS}, 2)
    dirs: dict[str, Path] = {}
    v1_limits = {
        # memsw exists only with swap accounting; where it does, swap must be capped too.
        "memory": (
            {"memory.limit_in_bytes": memory_bytes},
            {"memory.memsw.limit_in_bytes": memory_bytes},
        ),
        "pids": ({"pids.max": max_tasks}, {}),
    }
    for ctrl, (required, optional) in v1_limits.items():
        if ctrl in hier and _make(hier[ctrl] / name, required, optional):
            dirs[ctrl] = hier[ctrl] / name
    return Cgroup(dirs, 1) if dirs else None


def _make(d: Path, required: dict[str, int], optional: dict[str, int]) -> bool:
    try:
        d.mkdir()
    except OSError:
        return False
    try:
        for file, value in required.items():
            _write(d / file, str(value))
    except OSError:
        with contextlib.suppress(OSError):
            d.rmdir()
        return False
    for file, value in optional.items():
        with contextlib.suppress(OSError):
            _write(d / file, str(value))
    return True


def _enable_v2(d: Path) -> bool:
    try:
        available = (d / "cgroup.controllers").read_text().split()
        enabled = (d / "cgroup.subtree_control").read_text().split()
        if not all(c in available for c in _CONTROLLERS):
            return False
        missing = [c for c in _CONTROLLERS if c not in enabled]
        if missing:
            _write(d / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))
    except OSError:
        return False
    return os.access(d, os.W_OK)
