"""The generated arithmetic task: determinism, levels, and answers that follow the story."""

from __future__ import annotations

import re

import pytest

from reflectlab.task import ArithTask, get_task


def _replay(operations: list[str]) -> int:
    """Recompute the answer from the recorded operations, independently of the generator."""
    value = int(operations[0])
    for op in operations[1:]:
        sign, rest = op[0], op[1:]
        amount = 1
        for factor in rest.split("*"):
            amount *= int(factor)
        if sign == "+":
            value += amount
        elif sign == "-":
            value -= amount
        elif sign == "*":
            value *= amount
        else:
            assert value % amount == 0, "division must be exact"
            value //= amount
        assert value > 0, "quantities stay positive"
    return value


def test_same_seed_same_items_and_items_do_not_depend_on_n() -> None:
    a = get_task("arith", seed=5, n=30).samples()
    b = get_task("arith", seed=5, n=10).samples()
    assert a[:10] == b
    assert get_task("arith", seed=6, n=10).samples() != b


def test_answers_are_integers_that_follow_the_operations() -> None:
    task = get_task("arith", seed=0, n=300)
    assert isinstance(task, ArithTask)
    for sample in task.samples():
        ops = sample.metadata["operations"]
        assert str(_replay(ops)) == sample.target
        # Every number the story mentions is in the text (the distractor adds one more).
        assert ops[0] in re.findall(r"\d+", sample.input)


@pytest.mark.parametrize(("level", "steps"), [(1, {2}), (2, {3, 4}), (3, {5, 6})])
def test_levels_set_the_number_of_steps(level: int, steps: set[int]) -> None:
    samples = get_task("arith", n=40, level=level).samples()
    assert {len(s.metadata["operations"]) - 1 for s in samples} == steps
    if level == 3:  # one sentence about somebody else, to be ignored
        assert all("does not share any" in s.input for s in samples)


def test_default_cycles_through_levels() -> None:
    levels = [s.metadata["level"] for s in get_task("arith", n=6).samples()]
    assert levels == [1, 2, 3, 1, 2, 3]


async def test_scoring_and_prompt() -> None:
    task = get_task("arith", n=1)
    sample = task.samples()[0]
    assert task.format_prompt(sample).endswith("'Answer: <number>'.")
    assert str(sample.target) not in task.format_prompt(sample).split("How many")[1]
    assert (await task.score(sample, f"Step by step...\nAnswer: {sample.target}")).correct
    assert not (await task.score(sample, f"Answer: {int(sample.target) + 1}")).correct
    assert (await task.score(sample, "no idea")).reason == "no number in the reply"
