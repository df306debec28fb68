"""Few-shot demonstrations: worked examples placed before the question, as in the papers.

Wei et al. 2022 (chain of thought) and Wang et al. 2022 (self-consistency) prompt GSM8K with
eight exemplars in ``Q: ... / A: ...`` form, then ``Q: <question>`` and ``A:``; the exemplars
ship as package data (:data:`GSM8K_COT_8SHOT`, source in ``task/data/README.md``).

A demonstrations file is JSONL, one ``{"question", "answer"}`` object per line (``id``
optional; ``input``/``target`` are accepted for ``question``/``answer``). An answer in GSM8K's
own layout (a worked solution ending ``#### N``, calculator annotations ``<<3*4=12>>``) becomes
the solution followed by "The answer is N.", so GSM8K's train file can serve as demonstrations.

A sample never sees itself as a demonstration: demos with the sample's id or the same question
(whitespace and case aside) are skipped, and the next ones in the file fill the N shots.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reflectlab.errors import ConfigError, InputError
from reflectlab.task._base import SampleView

__all__ = ["GSM8K_COT_8SHOT", "Demo", "fewshot_prompt", "load_demos", "pick_demos"]

#: Wei et al. 2022's eight GSM8K chain-of-thought exemplars (package data).
GSM8K_COT_8SHOT = "gsm8k-cot-8shot"
_BUILTIN = {GSM8K_COT_8SHOT: "gsm8k_cot_8shot.jsonl"}
_FINAL = re.compile(r"\n?####\s*(.+?)\s*$", re.S)
_CALC = re.compile(r"<<[^<>]*>>")


@dataclass(frozen=True)
class Demo:
    question: str
    answer: str
    id: str | None = None
    #: A multiple-choice demonstration's options (listed after its question).
    choices: tuple[str, ...] | None = None


def _answer_text(answer: str) -> str:
    match = _FINAL.search(answer)
    if match is None:
        return answer.strip()
    solution = _CALC.sub("", answer[: match.start()]).strip()
    return f"{solution} The answer is {match.group(1)}.".strip()


def load_demos(source: str | Path) -> list[Demo]:
    """The demonstrations of a JSONL file, or of a built-in set by name (``gsm8k-cot-8shot``);
    a malformed line is an :class:`InputError` naming file, line and field."""
    name = str(source)
    if name in _BUILTIN:
        text = resources.files("reflectlab.task").joinpath("data", _BUILTIN[name]).read_text()
        where = f"reflectlab/task/data/{_BUILTIN[name]}"
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"demonstrations file {path}: {exc.strerror or exc}") from None
        where = str(path)
    demos: list[Demo] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", path=where, line=number) from None
        if not isinstance(row, dict):
            raise InputError("expected a JSON object", path=where, line=number)
        fields = {}
        for key, alias in (("question", "input"), ("answer", "target")):
            value = row.get(key, row.get(alias))
            if not isinstance(value, str) or not value.strip():
                raise InputError("missing or empty (a string)", path=where, line=number, field=key)
            fields[key] = value
        raw_id, choices = row.get("id"), None
        if row.get("choices") is not None:
            from reflectlab.task._scorers import parse_choices

            try:
                choices = tuple(parse_choices(row["choices"])[0])
            except ValueError as exc:
                raise InputError(str(exc), path=where, line=number, field="choices") from None
        demos.append(
            Demo(
                question=fields["question"].strip(),
                answer=_answer_text(fields["answer"]),
                id=None if raw_id is None else str(raw_id),
                choices=choices,
            )
        )
    if not demos:
        raise InputError("no demonstrations", path=where)
    return demos


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def pick_demos(demos: Sequence[Demo], sample: SampleView, shots: int) -> list[Demo]:
    """The first ``shots`` demonstrations that are not ``sample`` itself (by id or question)."""
    chosen = [d for d in demos if d.id != sample.id and not _same_text(d.question, sample.input)]
    return chosen[:shots]


def fewshot_prompt(demos: Sequence[Demo], question: str, *, preamble: str = "") -> str:
    """``Q: ...\\nA: ...`` per demonstration, a blank line apart, then ``Q: <question>\\nA:``
    (Wei et al. 2022's layout), after an optional ``preamble`` (an answer-format line)."""
    from reflectlab.task._scorers import ChoiceAnswer

    def asked(d: Demo) -> str:
        return f"{d.question}\n{ChoiceAnswer.options_text(d.choices)}" if d.choices else d.question

    blocks = [f"Q: {asked(d)}\nA: {d.answer}" for d in demos]
    return "\n\n".join([*([preamble] if preamble else []), *blocks, f"Q: {question}\nA:"])
