"""Knights and knaves: unique solutions by brute force, and the tolerant answer parser."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from reflectlab.task import KnightsTask, get_task, parse_assignment
from reflectlab.task.builtin.knights import evaluate

NAMES = ["Alice", "Bob", "Carol"]


def _consistent(statements: list[dict[str, object]]) -> list[tuple[bool, ...]]:
    n = len(statements)
    return [
        a
        for a in itertools.product((True, False), repeat=n)
        if all(evaluate(statements[i], a) == a[i] for i in range(n))
    ]


def test_every_puzzle_has_exactly_the_target_as_its_solution() -> None:
    task = get_task("knights", seed=1, n=60)
    assert isinstance(task, KnightsTask)
    sizes = Counter(len(s.metadata["names"]) for s in task.samples())
    assert set(sizes) == {3, 4, 5, 6, 7}
    for sample in task.samples():
        names = sample.metadata["names"]
        (solution,) = _consistent(sample.metadata["statements"])
        expected = ", ".join(
            f"{n}: {'knight' if k else 'knave'}" for n, k in zip(names, solution, strict=True)
        )
        assert sample.target == expected
        # Each inhabitant's statement is shown in the puzzle.
        assert all(f"- {name} says:" in sample.input for name in names)


def test_deterministic_and_people_option() -> None:
    assert get_task("knights", seed=3, n=5).samples() == get_task("knights", seed=3, n=5).samples()
    samples = get_task("knights", n=10, people=4).samples()
    assert {len(s.metadata["names"]) for s in samples} == {4}


@pytest.mark.parametrize(
    "reply",
    [
        "Answer: Alice: knight, Bob: knave, Carol: knight",
        "Reasoning...\n**Answer:** Alice is a knight, Bob is a knave, and Carol is a knight.",
        "Answer:\n- **Alice** - Knight\n- **Bob** - Knave\n- **Carol** - Knight",
        "Answer: Knights: Alice, Carol; Knaves: Bob",
        "So Alice and Carol are knights, and Bob is a knave.",
        # Hypotheses in the reasoning are overridden by the final answer.
        "Suppose Alice is a knave... contradiction.\n"
        "Answer: alice: KNIGHT, bob: knave, carol: knight",
    ],
)
def test_parser_accepts_common_answer_forms(reply: str) -> None:
    assert parse_assignment(reply, NAMES).value == "Alice: knight, Bob: knave, Carol: knight"


def test_parser_reports_who_is_missing() -> None:
    result = parse_assignment("Answer: Alice: knight, Bob: knave", NAMES)
    assert result.value is None and result.reason == "no verdict for Carol"


async def test_score_names_the_people_it_got_wrong() -> None:
    task = get_task("knights", seed=0, n=1, people=3)
    sample = task.samples()[0]
    assert (await task.score(sample, f"Answer: {sample.target}")).correct
    flipped = sample.target.replace("knight", "X").replace("knave", "knight").replace("X", "knave")
    score = await task.score(sample, f"Answer: {flipped}")
    assert not score.correct and score.reason == "wrong about Alice, Bob, Carol"
    assert (await task.check(sample, sample.target)) is None  # no label-free check, by design
