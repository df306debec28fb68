"""What every numeric word-problem task shares: the prompt suffix, extraction and scoring."""

from __future__ import annotations

from reflectlab.task._base import Extracted, Sample, SampleView, Score, Task
from reflectlab.task._scorers import NumericAnswer

PROMPT_SUFFIX = (
    "Solve the problem step by step. On the last line, write the final answer as a number "
    "in the form 'Answer: <number>'."
)


class WordProblemTask(Task):
    """A task of math word problems with one numeric answer each (arith, GSM8K).

    Subclasses fill ``self._samples`` in their constructor.
    """

    answer_kind = "number"
    _samples: list[Sample]
    _scorer = NumericAnswer()

    def samples(self) -> list[Sample]:
        return self._samples

    def format_prompt(self, sample: SampleView) -> str:
        return f"{sample.input}\n\n{PROMPT_SUFFIX}"

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return self._scorer.extract(response)

    async def score(self, sample: Sample, response: str) -> Score:
        return await self._scorer(sample, response)
