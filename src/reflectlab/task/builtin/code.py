"""``code``: small function-synthesis problems with hidden unit tests, generated from a seed.

Each item asks for one Python function (sum of multiples, Caesar shift, merging intervals,
...; see :mod:`._code_problems`) with its parameters drawn from the item's own generator, so
item ``i`` of seed ``s`` never changes. The prompt shows three examples; the hidden tests (ten
or more, including the edge cases the statement mentions) are the gold target.

Scoring runs the reply's code and every test in the sandbox; the reply is correct when all
pass. :meth:`CodeTask.check` runs only the three visible examples (label-free tool feedback:
they are in the prompt) and reports which fail and how.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import Field

from reflectlab.sandbox import SandboxLimits
from reflectlab.task._base import CheckResult, Extracted, Sample, SampleView, Score, Task
from reflectlab.task._code import (
    ExampleOutcome,
    code_extracted,
    extract_code,
    run_examples,
    sandbox_failure,
)
from reflectlab.task._options import TaskOptions
from reflectlab.task.builtin._code_problems import FAMILIES, make_problem

__all__ = ["CodeOptions", "CodeTask", "generate_code_problem"]

PROMPT = (
    "Write a Python function `{signature}`.\n\n{statement}\n\nExamples:\n{examples}\n\n"
    "Reply with the complete function in one ```python code block. Use only the standard "
    "library."
)


class CodeOptions(TaskOptions):
    n: int = Field(default=50, ge=1)
    timeout: float = Field(default=10.0, gt=0)


def _call(name: str, args: tuple[Any, ...]) -> str:
    return f"{name}({', '.join(repr(a) for a in args)})"


def generate_code_problem(seed: int, index: int) -> Sample:
    """Problem ``index`` of ``seed``. Families are dealt in a shuffled cycle, so any
    ``len(FAMILIES)`` consecutive items cover every family once."""
    order = list(range(len(FAMILIES)))
    random.Random(f"code:{seed}:cycle:{index // len(FAMILIES)}").shuffle(order)
    rng = random.Random(f"code:{seed}:{index}")
    problem = make_problem(rng, order[index % len(FAMILIES)])
    visible = [(_call(problem.name, args), repr(want)) for args, want in problem.visible]
    hidden = [(_call(problem.name, args), repr(want)) for args, want in problem.hidden]
    examples = "\n".join(f"    {call} == {want}" for call, want in visible)
    text = PROMPT.format(
        signature=problem.signature, statement=problem.statement, examples=examples
    )
    return Sample(
        id=str(index),
        input=text,
        target={"tests": visible + hidden},
        metadata={"entry_point": problem.name, "family": problem.family, "visible": visible},
    )


class CodeTask(Task):
    """Generated function-synthesis problems (see the module docstring)."""

    name = "code"
    answer_kind = "code"
    default_max_tokens = 600
    # "visible" are the examples the prompt shows; the hidden tests live only in the target.
    public_metadata = frozenset({"entry_point", "family", "visible"})
    label_free_check = "the examples shown in the prompt, run in the sandbox"

    def __init__(self, options: CodeOptions | None = None) -> None:
        self.options = options or CodeOptions()
        self.limits = SandboxLimits(
            cpu_seconds=max(1, int(self.options.timeout)), wall_seconds=self.options.timeout
        )
        self._samples = [generate_code_problem(self.options.seed, i) for i in range(self.options.n)]

    def samples(self) -> list[Sample]:
        return self._samples

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return code_extracted(*extract_code(response, sample.metadata["entry_point"]))

    async def _run(
        self, sample: SampleView, response: str, tests: list[Any]
    ) -> tuple[str | None, list[ExampleOutcome] | None, str]:
        """(failure reason or None, outcomes, how the code was found)."""
        reply, how = extract_code(response, sample.metadata["entry_point"])
        if reply is None:
            return how, None, how
        pairs = [(str(call), str(want)) for call, want in tests]  # lists after a JSON round trip
        outcomes, result = await run_examples(reply.code, pairs, self.limits)
        if outcomes is None:
            return "the code does not run:\n" + sandbox_failure(result), None, how
        return None, outcomes, how

    async def score(self, sample: Sample, response: str) -> Score:
        tests = sample.target["tests"]
        problem, outcomes, how = await self._run(sample, response, tests)
        if outcomes is None:
            return Score(correct=False, reason=problem, details={"code_from": how})
        failed = [o for o in outcomes if not o.passed]
        return Score(
            correct=not failed,
            value=(len(outcomes) - len(failed)) / len(outcomes),
            reason=None
            if not failed
            else f"{len(failed)} of {len(outcomes)} tests fail, e.g. " + failed[0].describe(),
            details={"code_from": how, "tests": len(outcomes), "failed": len(failed)},
        )

    async def check(self, sample: SampleView, response: str) -> CheckResult:
        visible = sample.metadata["visible"]
        problem, outcomes, _ = await self._run(sample, response, visible)
        if outcomes is None:
            return CheckResult(passed=False, feedback=f"Problem: {problem}")
        failed = [o for o in outcomes if not o.passed]
        if not failed:
            return CheckResult(passed=True, feedback=f"All {len(outcomes)} examples pass.")
        return CheckResult(
            passed=False,
            feedback=f"{len(failed)} of {len(outcomes)} examples fail:\n"
            + "\n".join(f"- {o.describe()}" for o in failed),
            details={"failed": len(failed)},
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.options.model_dump()}
