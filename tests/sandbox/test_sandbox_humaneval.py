"""Real programs: every HumanEval canonical solution passes its tests in the sandbox.

The data set is read in place from ../shared/data next to the repository (never copied).
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import pytest

from reflectlab.sandbox import SandboxLimits, SandboxResult, run_python
from support.data import SHARED_DATA

DATA = SHARED_DATA / "humaneval"
HUMANEVAL = DATA / "HumanEval.jsonl.gz"

pytestmark = pytest.mark.skipif(not HUMANEVAL.exists(), reason=f"{HUMANEVAL} is absent")

LIMITS = SandboxLimits(cpu_seconds=10, wall_seconds=60)
# Problems whose canonical solution ends in the ``return`` that produces the answer.
LAST_LINE_MATTERS = ["HumanEval/0", "HumanEval/2", "HumanEval/7", "HumanEval/13", "HumanEval/16"]


def _problems() -> list[dict[str, Any]]:
    with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _program(problem: dict[str, Any], solution: str) -> str:
    return f"{problem['prompt']}{solution}\n{problem['test']}\ncheck({problem['entry_point']})\n"


async def _run_all(programs: list[str]) -> list[SandboxResult]:
    sem = asyncio.Semaphore(4)  # 2 cores: more in flight only thrashes

    async def one(program: str) -> SandboxResult:
        async with sem:
            return await run_python(program, limits=LIMITS)

    return await asyncio.gather(*(one(p) for p in programs))


async def test_every_canonical_solution_passes() -> None:
    problems = _problems()
    assert len(problems) == 164
    results = await _run_all([_program(p, p["canonical_solution"]) for p in problems])
    failed = {
        p["task_id"]: (r.reason, r.stderr[-300:])
        for p, r in zip(problems, results, strict=True)
        if not r.ok
    }
    assert not failed


async def test_dropping_the_last_line_of_a_solution_fails() -> None:
    problems = [p for p in _problems() if p["task_id"] in LAST_LINE_MATTERS]
    broken = []
    for p in problems:
        lines = p["canonical_solution"].rstrip("\n").split("\n")
        assert lines[-1].strip().startswith("return")
        broken.append(_program(p, "\n".join(lines[:-1]) + "\n"))
    results = await _run_all(broken)
    assert [r.reason for r in results] == ["error"] * len(LAST_LINE_MATTERS)
    assert all(r.stderr.strip().splitlines()[-1] == "AssertionError" for r in results)
