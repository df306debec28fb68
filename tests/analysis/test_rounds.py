"""Accuracy per round and flips, with carry-forward of samples that stopped early."""

from __future__ import annotations

from reflectlab.analysis import (
    FlipCounts,
    Outcome,
    accuracy_by_round,
    flips_by_round,
    flips_first_to_final,
)


def _o(sid: str, rounds: list[bool], *, has_answer: bool = True) -> Outcome:
    final = rounds[-1] if rounds else False
    return Outcome(
        strategy="s", sample_id=sid, correct_by_round=rounds, final_correct=final,
        has_answer=has_answer,
    )  # fmt: skip


# A fixed at round 1; B right at once and stopped; C wrong twice and stopped; D never answered;
# E broken by reflection (right -> wrong) at round 1.
OUTCOMES = [
    _o("A", [False, True, True]),
    _o("B", [True]),
    _o("C", [False, False]),
    _o("D", [], has_answer=False),
    _o("E", [True, False, False]),
]


def _cells(f: FlipCounts) -> tuple[int, int, int, int]:
    return f.right_right, f.right_wrong, f.wrong_right, f.wrong_wrong


def test_accuracy_by_round_carries_the_last_checkpoint_forward() -> None:
    # round 0: B, E right; round 1: A, B (carried); round 2: A, B (carried)
    assert accuracy_by_round(OUTCOMES) == [2 / 5, 2 / 5, 2 / 5]
    # the last round is the final answer for every sample
    final = sum(o.final_correct for o in OUTCOMES) / len(OUTCOMES)
    assert accuracy_by_round(OUTCOMES)[-1] == final


def test_accuracy_is_flat_when_a_round_breaks_as_many_as_it_fixes() -> None:
    assert accuracy_by_round([_o("A", [False, True]), _o("E", [True, False])]) == [0.5, 0.5]


def test_flips_per_round_with_carry_forward() -> None:
    first, second = flips_by_round(OUTCOMES)
    assert (first.from_round, first.to_round, first.label) == (0, 1, "0→1")
    # A w->r, B r->r (carried), C w->w, D w->w (no answer), E r->w
    assert _cells(first) == (1, 1, 1, 2)
    assert first.n == 5 and first.active == 3  # A, C, E produced a round-1 checkpoint
    assert first.net == 0
    # round 2: only A and E are still running; nothing changes
    assert _cells(second) == (2, 0, 0, 3)
    assert second.active == 2


def test_first_draft_to_final_row() -> None:
    total = flips_first_to_final(OUTCOMES)
    assert (total.from_round, total.to_round, total.label) == (0, None, "draft→final")
    assert _cells(total) == (1, 1, 1, 2)
    assert total.active is None


def test_final_row_uses_final_correct_even_if_rounds_say_otherwise() -> None:
    # e.g. a voting strategy whose final answer is not its last checkpoint
    o = Outcome(strategy="s", sample_id="x", correct_by_round=[False, False], final_correct=True)
    assert _cells(flips_first_to_final([o])) == (0, 0, 1, 0)


def test_single_round_strategies_have_no_per_round_flips() -> None:
    outs = [_o("a", [True]), _o("b", [False])]
    assert flips_by_round(outs) == []
    assert accuracy_by_round(outs) == [0.5]
    assert accuracy_by_round([]) == []
    assert accuracy_by_round([_o("d", [], has_answer=False)]) == []


def test_carry_forward_uses_the_last_checkpoint_not_the_first() -> None:
    # "A" was fixed at round 1 and stopped there: at round 2 its answer is still right.
    outs = [_o("A", [False, True]), _o("B", [True, False, True])]
    assert accuracy_by_round(outs) == [0.5, 0.5, 1.0]
    second = flips_by_round(outs)[1]
    assert _cells(second) == (1, 0, 1, 0)  # A right->right (carried), B wrong->right
