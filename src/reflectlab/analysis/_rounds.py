"""Accuracy per round and answer flips between rounds.

Whether reflection helps is visible in how answers move: a round that turns as many right
answers wrong as it fixes has done nothing but spend tokens (Huang et al. 2023, "Large Language
Models Cannot Self-Correct Reasoning Yet"). Every function here uses carry-forward: a sample
that stopped at round 1 still has its round-1 answer at round 3, so all rounds share one
denominator and the last round's accuracy equals the final accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

from reflectlab.analysis._types import FlipCounts, Outcome

__all__ = [
    "accuracy_by_round",
    "correct_at_round",
    "flips_by_round",
    "flips_first_to_final",
    "n_rounds",
]


def n_rounds(outcomes: Sequence[Outcome]) -> int:
    """The number of rounds any sample reached (0 when no sample produced a checkpoint)."""
    return max((len(o.correct_by_round) for o in outcomes), default=0)


def correct_at_round(outcome: Outcome, k: int) -> bool:
    """Whether the sample's answer at round ``k`` was right, carrying its last checkpoint
    forward; a sample with no checkpoint is wrong."""
    if not outcome.correct_by_round:
        return False
    return outcome.correct_by_round[min(k, len(outcome.correct_by_round) - 1)]


def accuracy_by_round(outcomes: Sequence[Outcome]) -> list[float]:
    """Accuracy at each round 0..R-1 with carry-forward, over all samples.

    >>> fixed = Outcome(strategy="s", sample_id="a", correct_by_round=[False, True],
    ...                 final_correct=True)
    >>> stopped = Outcome(strategy="s", sample_id="b", correct_by_round=[True], final_correct=True)
    >>> accuracy_by_round([fixed, stopped])
    [0.5, 1.0]
    """
    n = len(outcomes)
    if n == 0:
        return []
    return [sum(correct_at_round(o, k) for o in outcomes) / n for k in range(n_rounds(outcomes))]


def _count(pairs: list[tuple[bool, bool]], counts: FlipCounts) -> FlipCounts:
    for before, after in pairs:
        if before and after:
            counts.right_right += 1
        elif before:
            counts.right_wrong += 1
        elif after:
            counts.wrong_right += 1
        else:
            counts.wrong_wrong += 1
    return counts


def flips_by_round(outcomes: Sequence[Outcome]) -> list[FlipCounts]:
    """One row per round k >= 1 comparing round k-1 with round k (with carry-forward, so a
    sample that already stopped counts as right->right or wrong->wrong). Empty when no sample
    went past its first draft."""
    rows: list[FlipCounts] = []
    for k in range(1, n_rounds(outcomes)):
        pairs = [(correct_at_round(o, k - 1), correct_at_round(o, k)) for o in outcomes]
        row = FlipCounts(
            from_round=k - 1,
            to_round=k,
            label=f"{k - 1}→{k}",
            n=len(outcomes),
            active=sum(1 for o in outcomes if len(o.correct_by_round) > k),
        )
        rows.append(_count(pairs, row))
    return rows


def flips_first_to_final(outcomes: Sequence[Outcome]) -> FlipCounts:
    """The total row: first draft (round 0) against the final answer's score. A sample with
    no answer is wrong on both sides."""
    pairs = [(correct_at_round(o, 0), o.final_correct) for o in outcomes]
    row = FlipCounts(from_round=0, to_round=None, label="draft→final", n=len(outcomes))
    return _count(pairs, row)
