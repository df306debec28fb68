"""Resolving a task spec to a :class:`Task`: built-in names and ``kind:PATH`` file loaders.

Specs::

    arith | knights | constraints | code          generated from a seed (options seed, n, ...)
    gsm8k:PATH  humaneval:PATH  ifeval:PATH       real benchmarks in their own file formats
    jsonl:PATH  csv:PATH                          your own data (field and answer options)
    hf:PATH  parquet:PATH  arrow:PATH             local files read with Hugging Face datasets

Options are keyword arguments (``get_task("arith", seed=1, n=20)``), validated: an unknown or
ill-typed option is a :class:`~reflectlab.errors.ConfigError`. Every task also takes the split
options ``train=N`` and ``train_file=PATH`` (see :mod:`reflectlab.task._split`). File tasks
read and validate the whole file here, so a malformed row fails before any model call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from reflectlab.errors import ConfigError
from reflectlab.task._base import Task
from reflectlab.task._file_task import CsvOptions, FileFormat, FileTask, FileTaskOptions, HFOptions
from reflectlab.task._options import parse_options
from reflectlab.task._split import SplitOptions, pop_split_options, split_task

__all__ = ["TaskInfo", "get_task", "list_tasks"]


@dataclass(frozen=True)
class TaskInfo:
    """What ``reflectlab tasks`` shows about one task kind."""

    name: str
    description: str
    answer_kind: str
    usage: str
    file_based: bool
    options: dict[str, str] = field(default_factory=dict)
    #: "label-free" (tool feedback may use it), "oracle" (it reads gold: feedback=oracle only)
    #: or "none"; ``check_detail`` says what it checks.
    check: str = "none"
    check_detail: str | None = None


def _with_check(info: TaskInfo, cls: type[Task]) -> TaskInfo:
    """The task class's own declaration of its checks, so the list cannot drift from it."""
    if cls.label_free_check is not None:
        return replace(info, check="label-free", check_detail=cls.label_free_check)
    if cls.gold_check is not None:
        return replace(info, check="oracle", check_detail=cls.gold_check)
    return info


def _option_docs(cls: type[BaseModel]) -> dict[str, str]:
    out = {}
    for name, info in cls.model_fields.items():
        default = info.get_default(call_default_factory=True)
        out[name] = f"default {default!r}"
    return out


def _builtin(kind: str) -> Callable[[dict[str, Any]], Task]:
    def make(options: dict[str, Any]) -> Task:
        if kind == "arith":
            from reflectlab.task.builtin.arith import ArithOptions, ArithTask

            return ArithTask(parse_options(ArithOptions, kind, options))
        if kind == "knights":
            from reflectlab.task.builtin.knights import KnightsOptions, KnightsTask

            return KnightsTask(parse_options(KnightsOptions, kind, options))
        if kind == "constraints":
            from reflectlab.task.builtin.constraints import ConstraintsOptions, ConstraintsTask

            return ConstraintsTask(parse_options(ConstraintsOptions, kind, options))
        from reflectlab.task.builtin.code import CodeOptions, CodeTask

        return CodeTask(parse_options(CodeOptions, kind, options))

    return make


def _from_file(kind: str) -> Callable[[str, dict[str, Any]], Task]:
    def make(path: str, options: dict[str, Any]) -> Task:
        if kind == "gsm8k":
            from reflectlab.task.gsm8k import GSM8KOptions, GSM8KTask

            return GSM8KTask(path, parse_options(GSM8KOptions, kind, options))
        if kind == "humaneval":
            from reflectlab.task.humaneval import HumanEvalOptions, HumanEvalTask

            return HumanEvalTask(path, parse_options(HumanEvalOptions, kind, options))
        if kind == "ifeval":
            from reflectlab.task._ifeval_task import IFEvalOptions, IFEvalTask

            return IFEvalTask(path, parse_options(IFEvalOptions, kind, options))
        scorer = options.pop("scorer", None)
        fmt: FileFormat = "csv" if kind == "csv" else "jsonl" if kind == "jsonl" else "hf"
        cls: type[FileTaskOptions] = FileTaskOptions
        if fmt == "csv":
            cls = CsvOptions
        elif fmt == "hf":
            cls = HFOptions
        return FileTask(path, fmt=fmt, options=parse_options(cls, kind, options), scorer=scorer)

    return make


def _infos() -> list[TaskInfo]:
    from reflectlab.task._ifeval_task import IFEvalOptions, IFEvalTask
    from reflectlab.task.builtin.arith import ArithOptions, ArithTask
    from reflectlab.task.builtin.code import CodeOptions, CodeTask
    from reflectlab.task.builtin.constraints import ConstraintsOptions, ConstraintsTask
    from reflectlab.task.builtin.knights import KnightsOptions, KnightsTask
    from reflectlab.task.gsm8k import GSM8KOptions, GSM8KTask
    from reflectlab.task.humaneval import HumanEvalOptions, HumanEvalTask

    fields = "input_field, target_field, id_field, answer=numeric|exact|regex"
    infos = [
        TaskInfo("arith", "Generated multi-step arithmetic word problems, levels 1-3.",
                 "number", "arith  (options: seed, n, level)", False, _option_docs(ArithOptions)),
        TaskInfo("knights", "Generated knights-and-knaves puzzles, 3-7 people, unique solution.",
                 "assignment", "knights  (options: seed, n, people)", False,
                 _option_docs(KnightsOptions)),
        TaskInfo("constraints",
                 "Generated writing tasks with 2-5 checkable constraints.",
                 "text", "constraints  (options: seed, n, min_constraints, max_constraints)",
                 False, _option_docs(ConstraintsOptions)),
        TaskInfo("code", "Generated Python function problems; hidden tests run in the sandbox.",
                 "code", "code  (options: seed, n, timeout)", False, _option_docs(CodeOptions)),
        TaskInfo("gsm8k", "GSM8K math word problems (OpenAI test.jsonl layout).", "number",
                 "gsm8k:PATH/test.jsonl", True, _option_docs(GSM8KOptions)),
        TaskInfo("humaneval", "HumanEval function synthesis; tests run in the sandbox.", "code",
                 "humaneval:PATH/HumanEval.jsonl.gz", True, _option_docs(HumanEvalOptions)),
        TaskInfo("ifeval", "IFEval verifiable instructions; strict/loose accuracies.", "text",
                 "ifeval:PATH/input_data.jsonl", True, _option_docs(IFEvalOptions)),
        TaskInfo("jsonl", "Your own JSON Lines file of questions and gold answers.",
                 "number|text", f"jsonl:PATH  ({fields})", True, _option_docs(FileTaskOptions)),
        TaskInfo("csv", "Your own CSV file (header line) of questions and gold answers.",
                 "number|text", f"csv:PATH  ({fields}, delimiter)", True,
                 _option_docs(CsvOptions)),
        TaskInfo("hf", "A local parquet/arrow/jsonl/csv file read with Hugging Face datasets "
                 "(pip install datasets); also parquet:PATH, arrow:PATH.", "number|text",
                 f"hf:PATH.parquet  ({fields}, split)", True, _option_docs(HFOptions)),
    ]  # fmt: skip
    classes: dict[str, type[Task]] = {
        "arith": ArithTask, "knights": KnightsTask, "constraints": ConstraintsTask,
        "code": CodeTask, "gsm8k": GSM8KTask, "humaneval": HumanEvalTask, "ifeval": IFEvalTask,
        "jsonl": FileTask, "csv": FileTask, "hf": FileTask,
    }  # fmt: skip
    split = _option_docs(SplitOptions)
    return [
        replace(_with_check(info, classes[info.name]), options={**info.options, **split})
        for info in infos
    ]


_BUILTIN = ("arith", "knights", "constraints", "code")
_FILE_KINDS = ("gsm8k", "humaneval", "ifeval", "jsonl", "csv", "hf", "parquet", "arrow")


def get_task(spec: str, **options: Any) -> Task:
    """The task a spec names, with ``options`` validated (see the module docstring).

    >>> get_task("arith", seed=1, n=5).samples()[0].id
    '0'
    """
    options = dict(options)
    split = pop_split_options(spec.strip(), options)
    task = _get_task(spec, options)
    kind, _, _ = spec.strip().partition(":")
    return split_task(task, split, lambda path: _get_task(f"{kind}:{path}", options))


def _get_task(spec: str, options: dict[str, Any]) -> Task:
    spec = spec.strip()
    kind, sep, path = spec.partition(":")
    kind = kind.strip().lower()
    if not sep:
        if kind in _BUILTIN:
            return _builtin(kind)(dict(options))
        if kind in _FILE_KINDS:
            raise ConfigError(f"task {kind!r} reads a file: use {kind}:PATH")
        raise ConfigError(
            f"unknown task {spec!r}; built-in: {', '.join(_BUILTIN)}; "
            f"from a file: {', '.join(k + ':PATH' for k in _FILE_KINDS)}"
        )
    if kind not in _FILE_KINDS:
        if kind in _BUILTIN:
            raise ConfigError(f"task {kind!r} is generated, it takes no file: use {kind!r}")
        raise ConfigError(
            f"unknown task kind {kind!r} in {spec!r}; file kinds: {', '.join(_FILE_KINDS)}"
        )
    if not path.strip():
        raise ConfigError(f"task {spec!r}: missing the file path after {kind}:")
    if kind in ("parquet", "arrow"):
        kind = "hf"
    return _from_file(kind)(path.strip(), dict(options))


def list_tasks() -> list[TaskInfo]:
    """Every task kind, built-in ones first."""
    return _infos()
