"""Tasks: samples, prompt formats, answer extraction, scorers; built-in tasks and loaders.

Get a task by spec and score a reply::

    from reflectlab.task import get_task

    task = get_task("gsm8k:data/test.jsonl")          # or "arith", "humaneval:...", ...
    sample = task.samples()[0]
    score = await task.score(sample, "... so she earns $18.\\nAnswer: 18")

Built-in tasks are generated from a seed (``arith``, ``knights``, ``constraints``, ``code``);
file loaders read GSM8K, HumanEval and IFEval in their own formats and your own JSONL, CSV or
(with ``datasets``) parquet/arrow files. :func:`list_tasks` lists them all.
"""

from reflectlab.task._base import (
    CheckResult,
    Extracted,
    Oracle,
    Sample,
    SampleView,
    Score,
    Task,
    TaskView,
)
from reflectlab.task._code import SANDBOX_CONCURRENCY, docstring_examples, extract_code
from reflectlab.task._file_task import CsvOptions, FileTask, FileTaskOptions, HFOptions
from reflectlab.task._ifeval_task import IFEvalOptions, IFEvalTask
from reflectlab.task._numeric import extract_number, normalize_number, parse_number
from reflectlab.task._options import TaskOptions
from reflectlab.task._registry import TaskInfo, get_task, list_tasks
from reflectlab.task._scorers import (
    AnswerScorer,
    ExactAnswer,
    NumericAnswer,
    RegexAnswer,
    Scorer,
    extract_final_answer,
    normalize_text,
)
from reflectlab.task._scoring import (
    ItemScore,
    Response,
    ScoreReport,
    SummarizingTask,
    load_responses,
    score_report,
)
from reflectlab.task.builtin.arith import ArithOptions, ArithTask
from reflectlab.task.builtin.code import CodeOptions, CodeTask
from reflectlab.task.builtin.constraints import ConstraintsOptions, ConstraintsTask
from reflectlab.task.builtin.knights import KnightsOptions, KnightsTask, parse_assignment
from reflectlab.task.gsm8k import GSM8KOptions, GSM8KTask, load_gsm8k
from reflectlab.task.humaneval import HumanEvalOptions, HumanEvalTask, load_humaneval

__all__ = [
    "SANDBOX_CONCURRENCY",
    "AnswerScorer",
    "ArithOptions",
    "ArithTask",
    "CheckResult",
    "CodeOptions",
    "CodeTask",
    "ConstraintsOptions",
    "ConstraintsTask",
    "CsvOptions",
    "ExactAnswer",
    "Extracted",
    "FileTask",
    "FileTaskOptions",
    "GSM8KOptions",
    "GSM8KTask",
    "HFOptions",
    "HumanEvalOptions",
    "HumanEvalTask",
    "IFEvalOptions",
    "IFEvalTask",
    "ItemScore",
    "KnightsOptions",
    "KnightsTask",
    "NumericAnswer",
    "Oracle",
    "RegexAnswer",
    "Response",
    "Sample",
    "SampleView",
    "Score",
    "ScoreReport",
    "Scorer",
    "SummarizingTask",
    "Task",
    "TaskInfo",
    "TaskOptions",
    "TaskView",
    "docstring_examples",
    "extract_code",
    "extract_final_answer",
    "extract_number",
    "get_task",
    "list_tasks",
    "load_gsm8k",
    "load_humaneval",
    "load_responses",
    "normalize_number",
    "normalize_text",
    "parse_assignment",
    "parse_number",
    "score_report",
]
