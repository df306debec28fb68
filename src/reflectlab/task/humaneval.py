"""HumanEval: Python function synthesis with unit tests (Chen et al. 2021, arXiv:2107.03374).

The data file is OpenAI's ``HumanEval.jsonl.gz`` (or plain JSONL) with ``task_id``, ``prompt``,
``entry_point``, ``canonical_solution`` and ``test``; the sample id is ``task_id``. The hidden
tests and the canonical solution are the gold target and never reach a prompt.

Scoring follows HumanEval's own harness: ``prompt + completion``, then ``test``, then
``check(entry_point)`` run in the sandbox, and the reply passes when reflectlab's harness saw
``check`` return (see :mod:`reflectlab.task._code`); exiting early, even with status 0,
fails. As in HumanEval's sample files, a reply is normally the *completion* of the prompt; a
chat reply with a full ``def entry_point(...)`` (fenced or not) is accepted too and then
follows the prompt (whose imports and helper functions it may use), so its definition
replaces the prompt's stub.

:meth:`HumanEvalTask.check` (label-free tool feedback) runs only the examples visible in the
prompt, read by :func:`~reflectlab.task.docstring_examples`: doctest lines (``>>> f(2)`` and
the output after them) and one-line examples with literal arguments and result (``f(2) == 4``,
``f(2) ➞ 4``, ``f(2) => 4``, ``f(2) returns 4``). That finds examples in 127 of the 164
problems. For the rest there is nothing to test: the check then only runs the program, reports
whether it defines the function without error, and says that no example was tested. Two
prompts show an example their own reference solution does not reproduce (HumanEval/47 and
/148); the check reports those as failing, as the prompt is what the model sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reflectlab.errors import InputError
from reflectlab.sandbox import SandboxLimits
from reflectlab.task._base import CheckResult, Extracted, Sample, SampleView, Score, Task
from reflectlab.task._code import (
    code_extracted,
    docstring_examples,
    extract_code,
    run_check,
    run_examples,
    sandbox_failure,
)
from reflectlab.task._options import TaskOptions
from reflectlab.task._rows import read_jsonl, require_field

__all__ = ["HumanEvalOptions", "HumanEvalTask", "load_humaneval"]

PROMPT_TEMPLATE = (
    "Complete the following Python function. Reply with the complete function "
    "(signature and body) in one ```python code block.\n\n```python\n{prompt}```"
)


class HumanEvalOptions(TaskOptions):
    n: int | None = None
    #: Wall-clock seconds one test program may run (HumanEval's harness uses 3 s; the sandbox
    #: adds process start-up, and CI machines are slow).
    timeout: float = 15.0
    cpu_seconds: int = 10
    memory_mb: int = 512


def load_humaneval(path: str | Path) -> list[Sample]:
    """The problems of a HumanEval file, validated; ``target`` holds the tests."""
    path = Path(path)
    samples: list[Sample] = []
    seen: set[str] = set()
    for line, row in read_jsonl(path):
        fields = {
            name: require_field(row, name, path=path, line=line)
            for name in ("task_id", "prompt", "entry_point", "test")
        }
        if fields["task_id"] in seen:
            raise InputError(
                f"duplicate task_id {fields['task_id']!r}",
                path=str(path),
                line=line,
                field="task_id",
            )
        seen.add(fields["task_id"])
        if "def check(" not in fields["test"]:
            raise InputError(
                "must define check(candidate)", path=str(path), line=line, field="test"
            )
        if not fields["entry_point"].isidentifier():
            raise InputError(
                f"{fields['entry_point']!r} is not a Python name",
                path=str(path),
                line=line,
                field="entry_point",
            )
        canonical = row.get("canonical_solution")
        samples.append(
            Sample(
                id=fields["task_id"],
                input=fields["prompt"],
                target={"test": fields["test"], "canonical_solution": canonical},
                metadata={"entry_point": fields["entry_point"], "line": line},
            )
        )
    if not samples:
        raise InputError("no problems", path=str(path))
    return samples


def assemble_program(sample: SampleView, response: str) -> tuple[str | None, str]:
    """The candidate program for a reply (prompt + completion, or prompt + full definition),
    or ``None`` with the reason when the reply holds no code."""
    entry_point = sample.metadata["entry_point"]
    reply, how = extract_code(response, entry_point)
    if reply is None:
        return None, how
    if reply.mode == "completion":
        return sample.input + reply.code, how
    return f"{sample.input}\n\n{reply.code}", how


class HumanEvalTask(Task):
    """HumanEval from a local ``HumanEval.jsonl.gz``."""

    answer_kind = "code"
    public_metadata = frozenset({"entry_point", "line"})
    default_max_tokens = 600
    label_free_check = "the examples in the problem's docstring, run in the sandbox"

    def __init__(self, path: str | Path, options: HumanEvalOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or HumanEvalOptions()
        self.name = f"humaneval:{self.path.name}"
        samples = load_humaneval(self.path)
        self._samples = samples if self.options.n is None else samples[: self.options.n]
        self.limits = SandboxLimits(
            cpu_seconds=self.options.cpu_seconds,
            wall_seconds=self.options.timeout,
            memory_mb=self.options.memory_mb,
        )

    def samples(self) -> list[Sample]:
        return self._samples

    def format_prompt(self, sample: SampleView) -> str:
        return PROMPT_TEMPLATE.format(prompt=sample.input)

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return code_extracted(*extract_code(response, sample.metadata["entry_point"]))

    async def score(self, sample: Sample, response: str) -> Score:
        program, how = assemble_program(sample, response)
        if program is None:
            return Score(correct=False, reason=how)
        entry_point = sample.metadata["entry_point"]
        # Passed only when the harness saw check() return: an exit, however clean, is not.
        passed, result = await run_check(program, sample.target["test"], entry_point, self.limits)
        details: dict[str, Any] = {"code_from": how, "sandbox_reason": result.reason}
        if passed:
            return Score(correct=True, value=1.0, details=details)
        details["stderr"] = result.stderr[-2000:]
        return Score(
            correct=False, reason=f"tests failed: {sandbox_failure(result)}", details=details
        )

    async def check(self, sample: SampleView, response: str) -> CheckResult:
        program, how = assemble_program(sample, response)
        if program is None:
            return CheckResult(passed=False, feedback=f"No code found in the response ({how}).")
        entry_point = sample.metadata["entry_point"]
        examples = docstring_examples(sample.input, entry_point)
        outcomes, result = await run_examples(program, examples, self.limits)
        if outcomes is None:
            return CheckResult(
                passed=False,
                feedback="The code does not run:\n" + sandbox_failure(result),
                details={"examples": len(examples), "sandbox_reason": result.reason},
            )
        failed = [o for o in outcomes if not o.passed]
        details = {"examples": len(examples), "failed": len(failed)}
        if not examples:
            return CheckResult(
                passed=True,
                feedback=(
                    f"The code runs and defines {entry_point}. No examples could be taken from "
                    "the problem statement, so none were tested."
                ),
                details=details,
            )
        if not failed:
            return CheckResult(
                passed=True,
                feedback=f"All {len(examples)} examples from the problem statement pass.",
                details=details,
            )
        lines = "\n".join(f"- {o.describe()}" for o in failed)
        return CheckResult(
            passed=False,
            feedback=(
                f"{len(failed)} of {len(examples)} examples from the problem statement fail:\n"
                f"{lines}"
            ),
            details=details,
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.path), "n": len(self._samples)}
