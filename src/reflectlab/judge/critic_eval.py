"""How well does a critic model detect wrong solutions? Measured on real, labelled solutions.

Data: GSM8K's ``example_model_solutions.jsonl`` (Cobbe et al., "Training Verifiers to Solve
Math Word Problems", 2021; ``openai/grade-school-math``): for each test question, solutions
written by GPT-3 6B and 175B models (fine-tuned, and verifier-selected), each with an
``is_correct`` label. :func:`load_gsm8k_solutions` reads it; :func:`evaluate_critic` asks a
critic about every solution and scores it with
:func:`~reflectlab.judge.metrics.critic_evaluation` (positive class = "the solution is wrong":
precision, recall, F1, false-positive rate).

The critic sees the question and the solution only, never the ground truth: this measures the
critic a self-correction strategy would actually have. Its verdict must be ``[[CORRECT]]`` or
``[[INCORRECT]]`` (or the JSON equivalent); anything else is unparseable, counted in
``unparsed`` and treated as "not flagged" (the critic failed to detect), never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Literal

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._gather import gather_limited
from reflectlab.judge._jsonio import iter_jsonl, require_object, require_str
from reflectlab.judge._prompts import critic_messages
from reflectlab.judge._verdicts import ParsedCorrectness, parse_correctness
from reflectlab.judge.metrics import CriticEvaluation, critic_evaluation
from reflectlab.judge.protocols import _Judge
from reflectlab.model import Model

__all__ = [
    "GSM8K_SOLUTION_SOURCES",
    "CorrectnessCritic",
    "CriticEvalResult",
    "CriticJudgment",
    "SolutionItem",
    "evaluate_critic",
    "load_gsm8k_solutions",
]

GSM8K_SOLUTION_SOURCES = (
    "6b_finetuning",
    "6b_verification",
    "175b_finetuning",
    "175b_verification",
)
"""The model-solution fields of ``example_model_solutions.jsonl``, in file order."""


class SolutionItem(FrozenResult):
    """One labelled solution. ``id`` is ``"<line>/<source>"``."""

    id: str
    question: str
    solution: str
    is_correct: bool
    source: str


class CriticJudgment(FrozenResult):
    """The critic on one solution. ``flagged``: it says the solution is wrong (``None``:
    unparseable)."""

    id: str
    source: str
    is_correct: bool
    verdict: Literal["correct", "incorrect"] | None
    flagged: bool | None
    reasoning: str
    parse_error: str | None = None


class CriticEvalResult(FrozenResult):
    """Overall and per-source detection metrics, and every judgment."""

    critic: str
    evaluation: CriticEvaluation
    by_source: dict[str, CriticEvaluation]
    judgments: list[CriticJudgment]


def load_gsm8k_solutions(
    path: str | Path,
    *,
    sources: Sequence[str] = GSM8K_SOLUTION_SOURCES,
    limit: int | None = None,
) -> list[SolutionItem]:
    """Read ``example_model_solutions.jsonl``: one item per (question, source) pair, for the
    first ``limit`` questions. Each line needs ``question`` and, for each source, an object
    ``{"is_correct": bool, "solution": str}``; otherwise :class:`InputError` names the line."""
    if not sources:
        raise ConfigError("sources must name at least one solution field")
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1, got {limit}")
    items: list[SolutionItem] = []
    for count, (line, raw) in enumerate(iter_jsonl(path)):
        if limit is not None and count >= limit:
            break
        record = require_object(raw, path=path, line=line)
        question = require_str(record, "question", path=path, line=line)
        for source in sources:
            entry = require_object(
                record.get(source), path=path, line=line, field=source, what="an object"
            )
            label = entry.get("is_correct")
            if not isinstance(label, bool):
                raise InputError(
                    f"expected true or false, got {label!r}",
                    path=str(path),
                    line=line,
                    field=f"{source}.is_correct",
                )
            solution = require_str(entry, "solution", path=path, line=line, prefix=f"{source}: ")
            items.append(
                SolutionItem(
                    id=f"{line}/{source}",
                    question=question,
                    solution=solution,
                    is_correct=label,
                    source=source,
                )
            )
    if not items:
        raise InputError("no solutions (the file is empty)", path=str(path))
    return items


class CorrectnessCritic(_Judge):
    """Asks a model whether a solution's final answer is correct (our prompt, with MT-Bench's
    judge framing and ``[[...]]`` verdict format)."""

    protocol = "critic"

    def __init__(
        self,
        model: Model,
        *,
        parse: Callable[[str], ParsedCorrectness] = parse_correctness,
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model, temperature=temperature, max_tokens=max_tokens)
        self.parse = parse

    async def check(self, item: SolutionItem) -> CriticJudgment:
        text = await self._ask(critic_messages(item.question, item.solution))
        parsed = self.parse(text)
        return CriticJudgment(
            id=item.id,
            source=item.source,
            is_correct=item.is_correct,
            verdict=parsed.verdict,
            flagged=None if parsed.verdict is None else parsed.verdict == "incorrect",
            reasoning=text,
            parse_error=parsed.parse_error,
        )


async def evaluate_critic(
    critic: CorrectnessCritic | Model,
    items: Sequence[SolutionItem],
    *,
    concurrency: int = 8,
) -> CriticEvalResult:
    """Ask the critic about every solution; precision/recall/F1/FPR of flagging wrong ones."""
    if not items:
        raise ConfigError("evaluate_critic needs at least one solution")
    if isinstance(critic, Model):
        critic = CorrectnessCritic(critic)
    judgments = await gather_limited([partial(critic.check, item) for item in items], concurrency)
    by_source: dict[str, CriticEvaluation] = {}
    for source in dict.fromkeys(j.source for j in judgments):
        mine = [j for j in judgments if j.source == source]
        by_source[source] = critic_evaluation(
            [j.is_correct for j in mine], [j.flagged for j in mine]
        )
    return CriticEvalResult(
        critic=critic.name,
        evaluation=critic_evaluation(
            [j.is_correct for j in judgments], [j.flagged for j in judgments]
        ),
        by_source=by_source,
        judgments=judgments,
    )
