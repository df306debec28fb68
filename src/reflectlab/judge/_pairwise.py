"""Pairwise judge verdicts in both presentation orders, and their meta-evaluation (private).

A pairwise judge sees (prompt, response A, response B) and names the better response. Judges
favour a position, so benchmarks run each pair twice, the second time with the responses
swapped, and map the second verdict back to the original positions. Definitions follow
LLMBar's ``evaluate.py`` (Zeng et al., "Evaluating Large Language Models at Evaluating
Instruction Following", ICLR 2024), checked to reproduce its ``statistics.json`` exactly:

- ``correct_original`` / ``correct_swapped``: verdict == gold in each order
  (LLMBar ``correct_False`` / ``correct_True``);
- ``accuracy_average`` = (correct_original + correct_swapped) / 2 / n (LLMBar
  ``correct_average``, the paper's "Acc.");
- ``correct_both``: correct in both orders;
- ``equal``: the two verdicts are the same (positional agreement, the paper's "Agr."). As in
  LLMBar, two unparsable verdicts (``None``) count as equal; ``unparsed`` reports them.

``net_vote_accuracy`` is JudgeBench's headline number (Tan et al., "JudgeBench: A Benchmark for
Evaluating LLM-based Judges", ICLR 2025): each order votes +1 if right, -1 if it names the other
response, 0 for a tie or no verdict; a pair is correct when the sum is positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from reflectlab.errors import ConfigError
from reflectlab.judge._base import FrozenResult

Winner = Literal["A", "B", "tie"]
"""A verdict in the ORIGINAL order: A = the first response of the pair as stored."""
Gold = Literal["A", "B"]


class PairwiseExample(FrozenResult):
    """One pair to judge. ``gold`` names the objectively better response."""

    id: str
    prompt: str
    response_a: str
    response_b: str
    gold: Gold
    source: str | None = None


class PairwiseVerdicts(FrozenResult):
    """A judge's verdicts on one pair in both orders, both expressed in the original positions.

    ``original``: responses shown as (A, B). ``swapped``: shown as (B, A), already mapped back,
    so ``"A"`` still means the pair's first response. ``None``: no parsable verdict.
    """

    id: str
    gold: Gold
    original: Winner | None
    swapped: Winner | None


class PairwiseMetaEval(FrozenResult):
    """Counts and rates of a pairwise judge over ``n`` pairs (see the module docstring)."""

    n: int
    correct_original: int
    correct_swapped: int
    correct_both: int
    equal: int
    net_vote_correct: int
    unparsed: int
    ties: int
    accuracy_original: float
    accuracy_swapped: float
    accuracy_average: float
    accuracy_both: float
    positional_agreement: float
    net_vote_accuracy: float


def pairwise_meta_eval(verdicts: Sequence[PairwiseVerdicts]) -> PairwiseMetaEval:
    """Accuracy in each order, averaged, in both orders, positional agreement, net vote.

    >>> v = [PairwiseVerdicts(id="0", gold="A", original="A", swapped="B")]
    >>> m = pairwise_meta_eval(v)
    >>> (m.accuracy_average, m.correct_both, m.positional_agreement)
    (0.5, 0, 0.0)
    """
    n = len(verdicts)
    if n == 0:
        raise ConfigError("pairwise_meta_eval needs at least one pair")
    c_orig = c_swap = c_both = equal = net = unparsed = ties = 0
    for v in verdicts:
        right_orig, right_swap = v.original == v.gold, v.swapped == v.gold
        c_orig += right_orig
        c_swap += right_swap
        c_both += right_orig and right_swap
        equal += v.original == v.swapped
        unparsed += (v.original is None) + (v.swapped is None)
        ties += (v.original == "tie") + (v.swapped == "tie")
        net += _vote(v.original, v.gold) + _vote(v.swapped, v.gold) > 0
    return PairwiseMetaEval(
        n=n,
        correct_original=c_orig,
        correct_swapped=c_swap,
        correct_both=c_both,
        equal=equal,
        net_vote_correct=net,
        unparsed=unparsed,
        ties=ties,
        accuracy_original=c_orig / n,
        accuracy_swapped=c_swap / n,
        # Same operation order as LLMBar so the float is bit-identical to its statistics.
        accuracy_average=(c_orig + c_swap) / 2 / n,
        accuracy_both=c_both / n,
        positional_agreement=equal / n,
        net_vote_accuracy=net / n,
    )


def llmbar_statistics_strings(meta: PairwiseMetaEval) -> dict[str, str]:
    """The five count fields of an LLMBar ``statistics.json``, formatted exactly as its
    ``evaluate.py`` writes them (``"95 / 100 = 95.0%"``; ``correct_average`` as ``"95.5%"``)."""

    def fraction(count: int) -> str:
        return f"{count} / {meta.n} = {count / meta.n * 100}%"

    return {
        "correct_False": fraction(meta.correct_original),
        "correct_True": fraction(meta.correct_swapped),
        "correct_average": f"{(meta.correct_original + meta.correct_swapped) / 2 / meta.n * 100}%",
        "correct_both": fraction(meta.correct_both),
        "equal": fraction(meta.equal),
    }


def _vote(decision: Winner | None, gold: Gold) -> int:
    if decision == gold:
        return 1
    if decision in ("A", "B"):
        return -1
    return 0
