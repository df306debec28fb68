"""What every numeric word-problem task shares: the prompt suffix, extraction and scoring, and
optional few-shot demonstrations (Wei et al. 2022's ``Q:``/``A:`` layout, see
:mod:`reflectlab.task._demos`)."""

from __future__ import annotations

from typing import Any

from reflectlab.errors import ConfigError
from reflectlab.task._base import Extracted, Sample, SampleView, Score, Task
from reflectlab.task._demos import GSM8K_COT_8SHOT, Demo, fewshot_prompt, load_demos, pick_demos
from reflectlab.task._scorers import NumericAnswer

PROMPT_SUFFIX = (
    "Solve the problem step by step. On the last line, write the final answer as a number "
    "in the form 'Answer: <number>'."
)


class WordProblemTask(Task):
    """A task of math word problems with one numeric answer each (arith, GSM8K).

    Subclasses fill ``self._samples`` in their constructor, and may call :meth:`use_demos`.
    With ``shots`` > 0 the prompt is the paper's few-shot layout: the demonstrations as
    ``Q: ... / A: ...``, then ``Q: <question>`` and ``A:`` (the demonstrations show the answer
    format, "The answer is N.", so no instruction is added); without, the question and
    :data:`PROMPT_SUFFIX`.
    """

    answer_kind = "number"
    _samples: list[Sample]
    _scorer = NumericAnswer()
    _demos: tuple[Demo, ...] = ()
    _shots = 0
    _demos_source: str | None = None

    def use_demos(self, source: str | None, shots: int) -> None:
        """Prompt with ``shots`` demonstrations from ``source`` (a JSONL file; default: Wei et
        al. 2022's eight GSM8K exemplars). More shots than demonstrations is a ConfigError."""
        if shots <= 0:
            if source is not None:
                raise ConfigError(f"task {self.name!r}: demos= needs shots=N (N >= 1)")
            return
        source = source or GSM8K_COT_8SHOT
        demos = load_demos(source)
        if shots > len(demos):
            raise ConfigError(
                f"task {self.name!r}: shots={shots} but {source} has {len(demos)} demonstrations"
            )
        self._demos, self._shots, self._demos_source = tuple(demos), shots, source

    def samples(self) -> list[Sample]:
        return self._samples

    def format_prompt(self, sample: SampleView) -> str:
        if self._shots:
            return fewshot_prompt(pick_demos(self._demos, sample, self._shots), sample.input)
        return f"{sample.input}\n\n{PROMPT_SUFFIX}"

    def describe(self) -> dict[str, Any]:
        if not self._shots:
            return super().describe()
        return {**super().describe(), "shots": self._shots, "demos": self._demos_source}

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return self._scorer.extract(response)

    async def score(self, sample: Sample, response: str) -> Score:
        return await self._scorer(sample, response)
