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
- ``equal``: the two verdicts are the same (positional agreement, the paper's "Agr.").

Unparsed verdicts (``None``) are counted (``unparsed``, ``n_parsed_*``), never guessed. Whether
a pair with NO verdict in either order "agrees" is a rule, stated in ``unparsed_agree``: LLMBar's
``evaluate.py`` counts such a pair as agreeing (``unparsed_agree=True``, used only to reproduce
LLMBar's own files); everywhere else it does not, and positional agreement is over the pairs with
both orders parsed. A rate whose data has no parsed verdict is ``None`` (printed "n/a" with the
count), never a number: eight unparsed verdicts are not "accuracy 0" nor "agreement 1".

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
    """Counts and rates of a pairwise judge over ``n`` pairs (see the module docstring).

    Accuracies are over all ``n`` pairs (an unparsed verdict counts as wrong) but are ``None``
    when the orders they use have no parsed verdict at all. ``equal`` counts pairs whose two
    verdicts are the same, both-unparsed pairs included only when ``unparsed_agree``;
    ``positional_agreement`` is ``equal / n`` under that rule, else ``equal / n_both_parsed``,
    and ``None`` when no pair has both orders parsed. ``both_unparsed``: pairs with no verdict
    in either order.
    """

    n: int
    correct_original: int
    correct_swapped: int
    correct_both: int
    equal: int
    net_vote_correct: int
    unparsed: int
    ties: int
    accuracy_original: float | None
    accuracy_swapped: float | None
    accuracy_average: float | None
    accuracy_both: float | None
    positional_agreement: float | None
    net_vote_accuracy: float | None
    n_parsed_original: int = 0
    n_parsed_swapped: int = 0
    n_both_parsed: int = 0
    both_unparsed: int = 0
    unparsed_agree: bool = False


def pairwise_meta_eval(
    verdicts: Sequence[PairwiseVerdicts], *, unparsed_agree: bool = False
) -> PairwiseMetaEval:
    """Accuracy in each order, averaged, in both orders, positional agreement, net vote.

    ``unparsed_agree=True`` applies LLMBar's rule (a pair unparsed in both orders counts as
    agreeing): use it only to reproduce LLMBar's ``statistics.json``.

    >>> v = [PairwiseVerdicts(id="0", gold="A", original="A", swapped="B")]
    >>> m = pairwise_meta_eval(v)
    >>> (m.accuracy_average, m.correct_both, m.positional_agreement)
    (0.5, 0, 0.0)
    >>> none = [PairwiseVerdicts(id="0", gold="A", original=None, swapped=None)]
    >>> (pairwise_meta_eval(none).positional_agreement, pairwise_meta_eval(none).unparsed)
    (None, 2)
    """
    n = len(verdicts)
    if n == 0:
        raise ConfigError("pairwise_meta_eval needs at least one pair")
    c_orig = c_swap = c_both = equal = net = unparsed = ties = 0
    parsed_orig = parsed_swap = both_parsed = both_unparsed = 0
    for v in verdicts:
        right_orig, right_swap = v.original == v.gold, v.swapped == v.gold
        c_orig += right_orig
        c_swap += right_swap
        c_both += right_orig and right_swap
        parsed_orig += v.original is not None
        parsed_swap += v.swapped is not None
        both_parsed += v.original is not None and v.swapped is not None
        both_unparsed += v.original is None and v.swapped is None
        equal += v.original == v.swapped and (v.original is not None or unparsed_agree)
        unparsed += (v.original is None) + (v.swapped is None)
        ties += (v.original == "tie") + (v.swapped == "tie")
        net += _vote(v.original, v.gold) + _vote(v.swapped, v.gold) > 0
    any_parsed = parsed_orig + parsed_swap > 0
    return PairwiseMetaEval(
        n=n,
        correct_original=c_orig,
        correct_swapped=c_swap,
        correct_both=c_both,
        equal=equal,
        net_vote_correct=net,
        unparsed=unparsed,
        ties=ties,
        accuracy_original=c_orig / n if parsed_orig else None,
        accuracy_swapped=c_swap / n if parsed_swap else None,
        # Same operation order as LLMBar so the float is bit-identical to its statistics.
        accuracy_average=(c_orig + c_swap) / 2 / n if any_parsed else None,
        accuracy_both=c_both / n if both_parsed else None,
        positional_agreement=(
            None if not both_parsed else equal / n if unparsed_agree else equal / both_parsed
        ),
        net_vote_accuracy=net / n if any_parsed else None,
        n_parsed_original=parsed_orig,
        n_parsed_swapped=parsed_swap,
        n_both_parsed=both_parsed,
        both_unparsed=both_unparsed,
        unparsed_agree=unparsed_agree,
    )


def llmbar_statistics_strings(meta: PairwiseMetaEval) -> dict[str, str]:
    """The five count fields of an LLMBar ``statistics.json``, formatted exactly as its
    ``evaluate.py`` writes them (``"95 / 100 = 95.0%"``; ``correct_average`` as ``"95.5%"``).
    ``equal`` always follows LLMBar's rule (both-unparsed pairs agree), whatever rule ``meta``
    was computed with."""
    equal = meta.equal if meta.unparsed_agree else meta.equal + meta.both_unparsed

    def fraction(count: int) -> str:
        return f"{count} / {meta.n} = {count / meta.n * 100}%"

    return {
        "correct_False": fraction(meta.correct_original),
        "correct_True": fraction(meta.correct_swapped),
        "correct_average": f"{(meta.correct_original + meta.correct_swapped) / 2 / meta.n * 100}%",
        "correct_both": fraction(meta.correct_both),
        "equal": fraction(equal),
    }


def _vote(decision: Winner | None, gold: Gold) -> int:
    if decision == gold:
        return 1
    if decision in ("A", "B"):
        return -1
    return 0
