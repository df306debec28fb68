"""What both adapters share: the lazy vendor import, the bare-prompt task, running a strategy."""

from __future__ import annotations

from typing import Any

from reflectlab.model import Model
from reflectlab.strategy import Budget, StrategyContext, StrategyResult, get_strategy, run_strategy
from reflectlab.task import Extracted, Sample, SampleView, Score, Task


def missing(package: str, extra: str) -> ImportError:
    """The error of an adapter whose vendor package is not installed: names the install line."""
    return ImportError(
        f"this adapter needs {package!r}, which is not installed: pip install 'reflectlab[{extra}]'"
    )


class PromptTask(Task):
    """The task of a host framework's sample: its prompt, no gold target of reflectlab's own
    (the host scores the final answer).

    ``extract`` returns the reply's text with whitespace normalised, so self-consistency votes
    between identical answers; there is no label-free ``check``.
    """

    name = "prompt"
    answer_kind = "text"

    def samples(self) -> list[Sample]:
        return []

    def extract(self, sample: SampleView, response: str) -> Extracted:
        text = " ".join(response.split())
        return Extracted(value=text) if text else Extracted(value=None, reason="empty reply")

    async def score(self, sample: Sample, response: str) -> Score:
        return Score(correct=False, reason="unscored: the host framework scores this answer")


async def run_on_prompt(
    model: Model,
    *,
    strategy: str,
    params: dict[str, Any] | None,
    prompt: str,
    sample_id: str,
    task: Task | None,
    budget: Budget | None,
) -> StrategyResult:
    """Run the registered ``strategy`` (with ``params``) on one prompt with ``model``."""
    fn = get_strategy(strategy, **(params or {}))
    sample = Sample(id=sample_id, input=prompt)
    ctx = StrategyContext(model=model, task=task or PromptTask(), sample=sample, budget=budget)
    return await run_strategy(fn, ctx)
