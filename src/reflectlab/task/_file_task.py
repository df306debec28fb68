"""Tasks from the user's own files: JSONL, CSV, or anything Hugging Face ``datasets`` reads.

Each row gives an input, a gold target and optionally an id (by default the 0-based row
number, as for GSM8K). The answer type picks the scorer: ``numeric`` (normalised numbers),
``exact`` (normalised text), ``regex`` (the target is a pattern) or ``choice`` (multiple
choice, CommonsenseQA/MMLU style: the row's ``choices_field`` holds the options, listed in the
prompt as ``A. ...``; the target is a letter, a label, a 0-based index or an option's text; the
reply's option letter is scored). Every row is read and
validated when the task is made, so a malformed row is an :class:`~reflectlab.errors.InputError`
naming the file, line and field before any model is called.

Example::

    task = get_task("jsonl:qa.jsonl", input_field="question", target_field="answer",
                    answer="numeric")
    task = get_task("jsonl:mmlu.jsonl", input_field="question", target_field="answer",
                    answer="choice", choices_field="choices")
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from reflectlab.errors import ConfigError, InputError
from reflectlab.task._base import Extracted, Sample, SampleView, Score, Task
from reflectlab.task._demos import Demo, fewshot_prompt, load_demos, pick_demos
from reflectlab.task._options import TaskOptions
from reflectlab.task._rows import read_csv, read_hf_dataset, read_jsonl, require_field
from reflectlab.task._scorers import (
    ANSWER_SCORERS,
    AnswerScorer,
    ChoiceAnswer,
    Scorer,
    parse_choices,
)

__all__ = ["CsvOptions", "FileTask", "FileTaskOptions", "HFOptions"]

FileFormat = Literal["jsonl", "csv", "hf"]


class FileTaskOptions(TaskOptions):
    """Which fields hold what, and how answers are compared."""

    input_field: str = "input"
    target_field: str = "target"
    #: Field holding a unique id; ``None``: the 0-based row number.
    id_field: str | None = None
    answer: Literal["numeric", "exact", "regex", "choice"] = "exact"
    #: With ``answer=choice``: the field holding the options (a list, or CommonsenseQA's
    #: ``{"label": [...], "text": [...]}``).
    choices_field: str = "choices"
    #: The answer-format line appended to every prompt; ``None``: the scorer's default,
    #: ``""``: none (the input already says how to answer).
    instruction: str | None = None
    #: Few-shot demonstrations before each question (``Q:``/``A:``; needs ``demos``).
    shots: int = Field(default=0, ge=0, le=64)
    #: JSONL file of demonstrations: ``{"question", "answer"}`` (and ``choices``) per line.
    demos: str | None = None


class CsvOptions(FileTaskOptions):
    delimiter: str = ","


class HFOptions(FileTaskOptions):
    split: str = "train"


class FileTask(Task):
    """A question-answer task loaded from a file (see the module docstring)."""

    def __init__(
        self,
        path: str | Path,
        *,
        fmt: FileFormat = "jsonl",
        options: FileTaskOptions | None = None,
        scorer: Scorer | None = None,
    ) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.options = options or FileTaskOptions()
        self.name = f"{fmt}:{self.path.name}"
        self.answer_scorer: AnswerScorer = ANSWER_SCORERS[self.options.answer]()
        self.answer_kind = self.answer_scorer.kind
        if scorer is not None and not isinstance(scorer, Scorer):
            raise ConfigError(
                f"scorer must be an async callable (sample, response), got {scorer!r}"
            )
        #: What :meth:`score` calls: the answer scorer, or a custom one (e.g. model-graded).
        self.scorer: Scorer = scorer if scorer is not None else self.answer_scorer
        self._samples = self._load()
        self._demos: list[Demo] = []
        if self.options.shots or self.options.demos is not None:
            if not (self.options.shots and self.options.demos):
                raise ConfigError(f"task {self.name!r}: few-shot needs both shots=N and demos=FILE")
            self._demos = load_demos(self.options.demos)
            if self.options.shots > len(self._demos):
                raise ConfigError(
                    f"task {self.name!r}: shots={self.options.shots} but {self.options.demos} "
                    f"has {len(self._demos)} demonstrations"
                )

    def _rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.fmt == "csv":
            assert isinstance(self.options, CsvOptions)
            return read_csv(self.path, delimiter=self.options.delimiter)
        if self.fmt == "hf":
            split = self.options.split if isinstance(self.options, HFOptions) else "train"
            return read_hf_dataset(self.path, split=split)
        return read_jsonl(self.path)

    def _load(self) -> list[Sample]:
        opts = self.options
        samples: list[Sample] = []
        seen: dict[str, int] = {}
        for index, (line, row) in enumerate(self._rows()):
            text = require_field(row, opts.input_field, path=self.path, line=line)
            raw_target = require_field(
                row, opts.target_field, path=self.path, line=line, kind=(str, int, float)
            )
            choices: list[str] | None = None
            if isinstance(self.answer_scorer, ChoiceAnswer):
                raw_choices = require_field(
                    row, opts.choices_field, path=self.path, line=line, kind=(list, dict)
                )
                try:
                    choices, labels = parse_choices(raw_choices)
                except ValueError as error:
                    raise InputError(
                        str(error), path=str(self.path), line=line, field=opts.choices_field
                    ) from None
            try:
                if isinstance(self.answer_scorer, ChoiceAnswer) and choices is not None:
                    target = self.answer_scorer.prepare_choice_target(raw_target, choices, labels)
                else:
                    target = self.answer_scorer.prepare_target(raw_target)
            except ValueError as error:
                raise InputError(
                    str(error), path=str(self.path), line=line, field=opts.target_field
                ) from None
            if opts.id_field is None:
                sample_id = str(index)
            else:
                sample_id = str(
                    require_field(row, opts.id_field, path=self.path, line=line, kind=(str, int))
                )
            if sample_id in seen:
                raise InputError(
                    f"duplicate id {sample_id!r} (first on line {seen[sample_id]})",
                    path=str(self.path),
                    line=line,
                    field=opts.id_field or "id",
                )
            seen[sample_id] = line
            used = {opts.input_field, opts.target_field, opts.id_field}
            metadata = {k: v for k, v in row.items() if k not in used}
            metadata["line"] = line
            if choices is not None:  # the options are part of the question, not of the label
                metadata.pop(opts.choices_field, None)
                metadata["choices"] = choices
            samples.append(Sample(id=sample_id, input=text, target=target, metadata=metadata))
        if not samples:
            raise InputError("no rows", path=str(self.path))
        return samples

    def samples(self) -> list[Sample]:
        return self._samples

    # Other columns of a user's file may hold anything (explanations, solutions): not shown.
    # A multiple-choice row's options are part of the question: public.
    @property
    def public_metadata(self) -> frozenset[str]:  # type: ignore[override]
        if isinstance(self.answer_scorer, ChoiceAnswer):
            return frozenset({"line", "choices"})
        return frozenset({"line"})

    def format_prompt(self, sample: SampleView) -> str:
        instruction = self.options.instruction
        if instruction is None:
            instruction = self.answer_scorer.instruction()
        question = sample.input
        choices = sample.metadata.get("choices")
        if isinstance(self.answer_scorer, ChoiceAnswer) and isinstance(choices, list):
            question = f"{question}\n\n{ChoiceAnswer.options_text(choices)}"
        if self.options.shots:
            demos = pick_demos(self._demos, sample, self.options.shots)
            return fewshot_prompt(demos, question, preamble=instruction)
        return f"{question}\n\n{instruction}" if instruction else question

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return self.answer_scorer.extract_for(sample, response)

    async def score(self, sample: Sample, response: str) -> Score:
        return await self.scorer(sample, response)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "path": str(self.path),
            "format": self.fmt,
            "answer": self.options.answer,
            "n": len(self._samples),
            **({"shots": self.options.shots, "demos": self.options.demos} if self._demos else {}),
        }
