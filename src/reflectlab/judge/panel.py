"""Panels of judges: several judge models, one combined verdict.

After Verga et al., "Replacing Judges with Juries: Evaluating LLM Generations with a Panel of
Diverse Models" (PoLL, 2024): pointwise scores are combined by their mean ("average
pooling"), pairwise verdicts by vote ("max voting"). Members run concurrently and every
member's judgment is kept.

Rules, stated exactly:

- Pointwise: ``score`` = mean of the members' parsed scores; unparseable members are left out
  and counted in ``n_unparsed``; ``None`` if no member produced a score. All members must use
  the same scale (a mean across scales is meaningless).
- Pairwise: each member's both-orders verdict is a vote for ``A``, ``B`` or ``tie``; a member
  whose orders disagreed (``inconsistent``) or whose reply was unparseable abstains. The label
  with the most votes wins; a shared top count is a ``tie`` (the panel could not separate the
  responses); ``None`` if every member abstained.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from reflectlab.errors import ConfigError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge.protocols import (
    PairwiseJudge,
    PairwiseJudgment,
    PointwiseJudge,
    PointwiseJudgment,
)

__all__ = [
    "PairwisePanel",
    "PairwisePanelJudgment",
    "PointwisePanel",
    "PointwisePanelJudgment",
]


class PointwisePanelJudgment(FrozenResult):
    """The mean of the members' scores, and every member's judgment."""

    protocol: Literal["pointwise-panel"] = "pointwise-panel"
    score: float | None
    scale: tuple[int, int]
    n_unparsed: int
    members: list[PointwiseJudgment]
    parse_error: str | None = None


class PairwisePanelJudgment(FrozenResult):
    """The vote's winner, the vote counts (``A``, ``B``, ``tie``, ``abstained``), every
    member's judgment."""

    protocol: Literal["pairwise-panel"] = "pairwise-panel"
    verdict: Literal["A", "B", "tie"] | None
    votes: dict[str, int]
    members: list[PairwiseJudgment]
    parse_error: str | None = None


class PointwisePanel:
    """Several pointwise judges; the panel's score is the mean of theirs."""

    def __init__(self, judges: Sequence[PointwiseJudge]) -> None:
        if not judges:
            raise ConfigError("a panel needs at least one judge")
        scales = {judge.scale for judge in judges}
        if len(scales) > 1:
            raise ConfigError(f"panel judges use different scales {sorted(scales)}; use one")
        self.judges = list(judges)
        self.scale = judges[0].scale

    async def judge(
        self, instruction: str, response: str, *, reference: str | None = None
    ) -> PointwisePanelJudgment:
        members = await asyncio.gather(
            *(j.judge(instruction, response, reference=reference) for j in self.judges)
        )
        scores = [m.score for m in members if m.score is not None]
        return PointwisePanelJudgment(
            score=sum(scores) / len(scores) if scores else None,
            scale=self.scale,
            n_unparsed=len(members) - len(scores),
            members=list(members),
            parse_error=None if scores else "no panel member gave a parseable score",
        )


class PairwisePanel:
    """Several pairwise judges (each runs both orders); the panel's verdict is their vote."""

    def __init__(self, judges: Sequence[PairwiseJudge]) -> None:
        if not judges:
            raise ConfigError("a panel needs at least one judge")
        self.judges = list(judges)

    async def judge(
        self,
        instruction: str,
        response_a: str,
        response_b: str,
        *,
        reference: str | None = None,
    ) -> PairwisePanelJudgment:
        members = await asyncio.gather(
            *(
                j.judge(instruction, response_a, response_b, reference=reference)
                for j in self.judges
            )
        )
        verdict, votes = majority_vote([m.verdict for m in members])
        return PairwisePanelJudgment(
            verdict=verdict,
            votes=votes,
            members=list(members),
            parse_error=None if votes["abstained"] < len(members) else "every member abstained",
        )


def majority_vote(
    verdicts: Sequence[str | None],
) -> tuple[Literal["A", "B", "tie"] | None, dict[str, int]]:
    """Plurality over ``A``/``B``/``tie``; anything else abstains; a shared top is a tie.

    >>> majority_vote(["A", "A", "B"])
    ('A', {'A': 2, 'B': 1, 'tie': 0, 'abstained': 0})
    >>> majority_vote(["A", "B", "inconsistent"])[0]
    'tie'
    """
    counts = Counter(v for v in verdicts if v in ("A", "B", "tie"))
    votes = {
        "A": counts["A"],
        "B": counts["B"],
        "tie": counts["tie"],
        "abstained": len(verdicts) - sum(counts.values()),
    }
    if not counts:
        return None, votes
    top = max(counts.values())
    leaders = [label for label in ("A", "B", "tie") if counts[label] == top]
    if len(leaders) > 1:
        return "tie", votes
    winner = leaders[0]
    return ("A" if winner == "A" else "B" if winner == "B" else "tie"), votes
