"""GSM8K: grade-school math word problems (Cobbe et al. 2021, arXiv:2110.14168).

The data file is OpenAI's ``test.jsonl`` layout: one ``{"question", "answer"}`` object per line,
the answer a worked solution ending in ``#### <number>``. The sample id is the 0-based line
number (blank lines are not allowed: they would shift every id). The gold target is the number
after ``####``, normalised; the worked solution is kept in ``metadata["solution"]`` and never
reaches a prompt.

``shots=N`` (``--task-option shots=8``) prompts as Wei et al. 2022 and Wang et al. 2022 did:
N chain-of-thought exemplars before the question (``demos=FILE.jsonl`` for your own; default
the paper's eight, shipped with reflectlab), never including the sample itself.

Replies are scored by numeric match after :func:`~reflectlab.task.extract_number`: an explicit
answer (``\\boxed{}``, ``####``, ``Answer:``) is preferred, else the last number in the reply.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import Field

from reflectlab.errors import InputError
from reflectlab.task._base import Sample
from reflectlab.task._numeric import normalize_number
from reflectlab.task._options import TaskOptions
from reflectlab.task._rows import read_text, require_field
from reflectlab.task._word_problem import WordProblemTask

__all__ = ["GSM8KOptions", "GSM8KTask", "load_gsm8k"]

_FINAL = re.compile(r"####\s*(.+?)\s*$", re.DOTALL)


class GSM8KOptions(TaskOptions):
    #: Only the first ``n`` problems (``None``: all).
    n: int | None = None
    #: Few-shot demonstrations before each question (0: zero-shot with an answer-format line).
    shots: int = Field(default=0, ge=0, le=64)
    #: JSONL file of demonstrations (``None`` with ``shots``: Wei et al. 2022's 8 exemplars).
    demos: str | None = None


def load_gsm8k(path: str | Path) -> list[Sample]:
    """The problems of a GSM8K JSONL file, validated (see the module docstring)."""
    path = Path(path)
    samples: list[Sample] = []
    for index, line in enumerate(read_text(path).splitlines()):
        number = index + 1
        if not line.strip():
            raise InputError(
                "blank line (sample ids are line numbers, so blank lines are not allowed)",
                path=str(path),
                line=number,
            )
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON: {error.msg}", path=str(path), line=number) from None
        if not isinstance(row, dict):
            raise InputError("expected a JSON object", path=str(path), line=number)
        question = require_field(row, "question", path=path, line=number)
        answer = require_field(row, "answer", path=path, line=number)
        match = _FINAL.search(answer)
        if match is None:
            raise InputError(
                "has no final '#### <number>'", path=str(path), line=number, field="answer"
            )
        try:
            target = normalize_number(match.group(1))
        except ValueError:
            raise InputError(
                f"'####' is followed by {match.group(1)!r}, not a number",
                path=str(path),
                line=number,
                field="answer",
            ) from None
        samples.append(
            Sample(
                id=str(index),
                input=question,
                target=target,
                metadata={"solution": answer[: match.start()].rstrip()},
            )
        )
    if not samples:
        raise InputError("no problems", path=str(path))
    return samples


class GSM8KTask(WordProblemTask):
    """GSM8K from a local ``test.jsonl`` (or any file in its layout)."""

    default_max_tokens = 400

    def __init__(self, path: str | Path, options: GSM8KOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or GSM8KOptions()
        self.name = f"gsm8k:{self.path.name}"
        samples = load_gsm8k(self.path)
        self._samples = samples if self.options.n is None else samples[: self.options.n]
        self.use_demos(self.options.demos, self.options.shots)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.path), "n": len(self._samples)}
