"""Ordinary programs: output, stdin, files, exit status, the public surface."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

import pytest
from pydantic import ValidationError

import reflectlab.sandbox
from reflectlab.errors import ConfigError
from reflectlab.sandbox import SandboxLimits, _cgroup, run_python, run_python_sync

from .conftest import FULL_ISOLATION, QUICK


async def test_hello() -> None:
    result = await run_python("print('hello')")
    assert result.ok, result.stderr
    assert (result.stdout, result.stderr, result.exit_code) == ("hello\n", "", 0)
    assert not result.stdout_truncated and not result.stderr_truncated


async def test_stdin_and_files_are_available_and_files_importable() -> None:
    code = """
import sys
from helper import twice
with open("data/factor.txt") as f:
    factor = int(f.read())
for line in sys.stdin:
    print(twice(int(line)) * factor)
"""
    files = {"helper.py": "def twice(x):\n    return 2 * x\n", "data/factor.txt": "10"}
    result = await run_python(code, stdin="1\n2\n3\n", files=files)
    assert result.ok, result.stderr
    assert result.stdout.split() == ["20", "40", "60"]


async def test_unicode_round_trips() -> None:
    result = await run_python("print(input()[::-1] + ' ✓ é')", stdin="abc")
    assert result.stdout == "cba ✓ é\n"


async def test_exception_is_an_error_with_its_traceback() -> None:
    result = await run_python("raise ValueError('boom')")
    assert (result.reason, result.exit_code, result.ok) == ("error", 1, False)
    assert result.stderr.strip().endswith("ValueError: boom")


async def test_exit_status_is_reported() -> None:
    result = await run_python("import sys; print('partial'); sys.exit(3)")
    assert (result.reason, result.exit_code, result.stdout) == ("error", 3, "partial\n")


async def test_death_by_signal_is_killed() -> None:
    result = await run_python("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert (result.reason, result.exit_code) == ("killed", -signal.SIGSEGV)


async def test_program_closing_stdin_early_is_fine() -> None:
    result = await run_python("print('no reading')", stdin="x" * 1_000_000)
    assert result.ok and result.stdout == "no reading\n"


@pytest.mark.parametrize("name", ["../escape.py", "/etc/passwd", "a/../../b", "", "main.py"])
async def test_file_names_must_stay_inside_the_work_dir(name: str) -> None:
    with pytest.raises(ConfigError):
        await run_python("pass", files={name: "x"})


def test_limits_reject_typos_and_nonsense() -> None:
    with pytest.raises(ValidationError):
        SandboxLimits(cpu_second=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SandboxLimits(wall_seconds=0)


def test_sync_wrapper() -> None:
    result = run_python_sync("print(6 * 7)", limits=QUICK)
    assert result.ok and result.stdout == "42\n"


def test_public_names_are_sorted_and_exist() -> None:
    names = reflectlab.sandbox.__all__
    assert names == sorted(names)
    assert all(hasattr(reflectlab.sandbox, n) for n in names)


async def test_work_dir_and_cgroups_are_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(prefix: str) -> str:
        made.append(Path(real_mkdtemp(prefix=prefix)))
        return str(made[-1])

    def create_cgroup(name: str, memory_bytes: int, max_tasks: int) -> _cgroup.Cgroup | None:
        cgroup = _cgroup.create_cgroup(name, memory_bytes, max_tasks)
        if cgroup is not None:
            made.extend(cgroup.dirs.values())
        return cgroup

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr("reflectlab.sandbox._run.create_cgroup", create_cgroup)
    result = await run_python("open('left-behind.txt', 'w').write('x')")
    assert result.ok, result.stderr
    assert made and not [p for p in made if p.exists()]


@pytest.mark.skipif(not FULL_ISOLATION, reason="needs root with CAP_SYS_ADMIN")
async def test_every_mechanism_is_in_force_as_root() -> None:
    result = await run_python("pass")
    expected = {"uid", "rlimits", "mount_ns", "net_ns", "pid_ns", "ipc_ns", "uts_ns"}
    assert expected <= set(result.isolation)
    assert result.network_isolated
