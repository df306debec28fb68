"""What the sandbox reports can be trusted: the reason comes from the OS, never from the
program; a sandbox that cannot start is an error, not a failing program; the private
channel reaches the program alone; cleanup survives hostile trees and always frees the uid."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from reflectlab.errors import SandboxError
from reflectlab.sandbox import (
    CHANNEL_IN_FD,
    CHANNEL_OUT_FD,
    _procs,
    _run,
    run_python,
)

from .conftest import QUICK, ROOT


@pytest.mark.parametrize(
    ("code", "reason", "exit_code"),
    [
        ("import sys\nprint('MemoryError', file=sys.stderr)\nsys.exit(1)", "error", 1),
        ("import sys\nsys.stderr.write('Traceback...\\nMemoryError\\n')\nsys.exit(3)", "error", 3),
        ("print('timeout')\nprint('Killed')\nprint('CPU time limit exceeded')", "ok", 0),
        ("import sys\nprint('output_limit', 'memory', 'cpu', file=sys.stderr)", "ok", 0),
        # What the launcher's report looks like, on both streams.
        (
            'import sys\nline = \'{"status": 9, "cpu_s": 99.0, "setup_error": null}\'\n'
            "print(line)\nprint(line, file=sys.stderr)\nsys.exit(2)",
            "error",
            2,
        ),
    ],
)
async def test_printed_words_do_not_change_the_reason(
    code: str, reason: str, exit_code: int
) -> None:
    result = await run_python(code, limits=QUICK)
    assert (result.reason, result.exit_code) == (reason, exit_code), result


FORGER = """
import os, json
# Without a uid or namespaces of its own the program shares the caller's uid: try to put a
# clean exit where the launcher's report used to be (a file next to the work dir).
base = os.path.dirname(os.getcwd())
for name in os.listdir(base):
    path = os.path.join(base, name)
    if os.path.isfile(path):
        try:
            os.unlink(path)
        except OSError:
            pass
        with open(path, "w") as f:
            f.write(json.dumps({"status": 0, "cpu_s": 0.0}) + "\\n")
with open(os.path.join(base, "report.jsonl"), "w") as f:
    f.write(json.dumps({"status": 0, "cpu_s": 0.0}) + "\\n")
raise SystemExit(7)
"""

NESTED_FORGERY = f"""
import asyncio, json
from reflectlab.sandbox import SandboxLimits, _run, run_python

async def main():
    _run._USE_NAMESPACES = False
    result = await run_python({FORGER!r}, limits=SandboxLimits(cpu_seconds=1, wall_seconds=5))
    print(json.dumps([result.reason, result.exit_code]))

asyncio.run(main())
"""


async def test_an_unprivileged_program_cannot_forge_its_wait_status() -> None:
    # The inner sandbox runs as the outer program's uid, without namespaces: the one setting
    # where the program can write next to its work dir.
    outer = QUICK.model_copy(update={"wall_seconds": 60, "max_processes": 64, "memory_mb": 1024})
    result = await run_python(NESTED_FORGERY, limits=outer)
    assert result.ok, result.stderr[-3000:]
    assert json.loads(result.stdout) == ["error", 7]


async def test_the_channel_reaches_the_program_and_comes_back() -> None:
    code = (
        "import os\n"
        f"data = os.read({CHANNEL_IN_FD}, 100)\n"
        f"os.close({CHANNEL_IN_FD})\n"
        f"os.write({CHANNEL_OUT_FD}, data[::-1])\n"
        "print(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))\n"
    )
    result = await run_python(code, channel=b"secret", limits=QUICK)
    assert result.ok, result.stderr
    assert result.channel == "terces"
    # Nothing else of ours leaks in (the extra one is listdir's own descriptor).
    assert json.loads(result.stdout) in ([0, 1, 2, 3, CHANNEL_OUT_FD], [0, 1, 2, CHANNEL_OUT_FD, 3])


async def test_without_a_channel_there_are_no_extra_descriptors() -> None:
    code = "import os\nprint(sorted(int(fd) for fd in os.listdir('/proc/self/fd')))"
    result = await run_python(code, limits=QUICK)
    assert result.ok and result.channel is None
    assert json.loads(result.stdout) == [0, 1, 2, 3]


async def test_channel_output_is_capped_and_a_flood_cannot_hang_the_run() -> None:
    code = f"import os\nos.set_blocking({CHANNEL_OUT_FD}, False)\n" + (
        f"try:\n    while True:\n        os.write({CHANNEL_OUT_FD}, b'x' * 4096)\n"
        "except BlockingIOError:\n    pass\n"
    )
    result = await run_python(code, channel=b"", limits=QUICK)
    assert result.ok, result.stderr
    assert result.channel is not None and 0 < len(result.channel) <= _run.CHANNEL_CAP


async def test_an_interpreter_that_cannot_start_is_a_sandbox_error() -> None:
    # /bin/false "runs" every program and exits 1: scoring would call that a wrong answer.
    with pytest.raises(SandboxError, match="cannot start inside the sandbox"):
        await run_python("print('hi')", python="/bin/false", limits=QUICK)


@pytest.fixture(scope="module")
def tmp_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv under /tmp (pytest's tmp dirs are there, below a 0700 directory)."""
    path = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


async def test_a_venv_under_tmp_starts_and_sees_its_own_prefix(tmp_venv: Path) -> None:
    python = str(tmp_venv / "bin" / "python")
    code = "import os, sys\nprint(sys.prefix)\nprint(os.path.exists(os.__file__))"
    result = await run_python(code, python=python, limits=QUICK)
    assert result.ok, result.stderr
    assert result.stdout.split() == [str(tmp_venv), "True"]


async def test_a_venv_under_tmp_is_read_only_and_hides_its_neighbours(tmp_venv: Path) -> None:
    (tmp_venv.parent / "neighbour.txt").write_text("private")
    python = str(tmp_venv / "bin" / "python")
    code = (
        "import os, sys\n"
        "try:\n    open(os.path.join(sys.prefix, 'x'), 'w')\n    print('wrote')\n"
        "except OSError as e:\n    print(type(e).__name__)\n"
        f"print(os.path.exists({str(tmp_venv.parent / 'neighbour.txt')!r}))\n"
    )
    result = await run_python(code, python=python, limits=QUICK)
    if "mount_ns" not in result.isolation:
        pytest.skip("no mount namespace on this host")
    assert result.ok, result.stderr
    wrote, neighbour_visible = result.stdout.split()
    assert wrote != "wrote"
    assert neighbour_visible == "False"


# ------------------------------------------------------------------ clean-up of hostile trees


def _make_deep(root: Path, depth: int) -> None:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):  # descriptor-relative: the path is far beyond PATH_MAX
        os.mkdir("d", dir_fd=fd)
        nxt = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = nxt
    os.close(os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o000, dir_fd=fd))
    os.close(fd)


def _hostile_tree(root: Path, outside: Path, files: int) -> None:
    root.mkdir()
    _make_deep(root, 5000)
    wide = root / "wide"
    wide.mkdir()
    wide_fd = os.open(wide, os.O_RDONLY | os.O_DIRECTORY)
    for i in range(files):
        os.close(os.open(f"f{i}", os.O_WRONLY | os.O_CREAT, 0o000, dir_fd=wide_fd))
    os.close(wide_fd)
    locked = root / "locked" / "inner"
    locked.mkdir(parents=True)
    (locked / "file").write_text("x")
    os.mkfifo(root / "fifo")
    (root / "escape").symlink_to(outside)  # must be unlinked, never followed
    (root / "locked" / "inner").chmod(0o000)
    (root / "locked").chmod(0o000)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    (d / "keep").write_text("keep")
    return d


def _rm_rf(path: Path | str) -> None:
    """Leave no deep tree behind even if the code under test fails: pytest's own clean-up of
    old temp dirs (shutil.rmtree) dies of RecursionError on one, in everybody's runs."""
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)


def test_hostile_tree_is_removed(tmp_path: Path, outside: Path) -> None:
    root = tmp_path / "run"
    try:
        _hostile_tree(root, outside, files=100_000)
        _run._remove_tree(root)
        assert not root.exists()
    finally:
        _rm_rf(root)
    assert (outside / "keep").read_text() == "keep"


@pytest.mark.skipif(not ROOT, reason="needs a uid to switch to")
def test_hostile_tree_is_removed_by_its_unprivileged_owner(outside: Path) -> None:
    # The non-root path: no CAP_DAC_OVERRIDE, so chmod 000 dirs must be opened up first.
    uid = _procs.allocate_uid()
    base = Path(tempfile.mkdtemp(prefix="reflectlab-test-"))  # reachable by a stranger
    try:
        os.chown(base, uid, uid)
        root = base / "run"
        pid = os.fork()
        if pid == 0:  # the child becomes the owner, builds the tree and removes it
            code = 1
            try:
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                _hostile_tree(root, outside, files=10_000)
                _run._remove_tree(root)
                code = 0 if not root.exists() else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        _procs.release_uid(uid)
        _rm_rf(base)
    assert (outside / "keep").read_text() == "keep"


DEEP_AND_LOCKED = """
import os
for _ in range(3000):
    os.mkdir("d")
    os.chdir("d")
open("leaf", "w").close()
os.chmod(".", 0)
os.chdir("/")
"""


@pytest.mark.skipif(not ROOT, reason="the no-namespace fallback is simulated from root")
async def test_a_run_leaving_a_deep_locked_tree_is_cleaned_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without a mount namespace the work dir is on the host: the run's own clean-up must go.
    monkeypatch.setattr(_run, "_USE_NAMESPACES", False)
    made: list[str] = []
    mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(*args: object, **kwargs: object) -> str:
        made.append(mkdtemp(*args, **kwargs))  # type: ignore[call-overload]
        return made[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else None
    if python is None or _run._closed_interpreter_dirs(python, default=False):
        pytest.skip("no interpreter outside closed directories")
    try:
        # Deep trees on the host's file system are slow to make on a busy machine.
        limits = QUICK.model_copy(update={"cpu_seconds": 20, "wall_seconds": 60})
        result = await run_python(DEEP_AND_LOCKED, python=python, limits=limits)
        assert result.ok, result.stderr
        assert made and not any(os.path.exists(d) for d in made)
        assert not _procs._in_use
    finally:
        for d in made:
            _rm_rf(d)


async def test_the_uid_is_released_when_clean_up_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    remove_tree = _run._remove_tree

    def broken(base: Path) -> None:
        remove_tree(base)
        raise RecursionError("clean-up blew up")

    monkeypatch.setattr(_run, "_remove_tree", broken)
    with pytest.raises(RecursionError):
        await run_python("pass", limits=QUICK)
    assert not _procs._in_use
