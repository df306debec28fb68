"""``arith``: multi-step arithmetic word problems with integer answers, generated from a seed.

No download, and deterministic: item ``i`` of seed ``s`` is drawn from its own generator
seeded with ``("arith", s, i)``, so it is the same whatever ``n`` is. Each problem follows one
quantity (a person's marbles, stamps, ...) through a chain of events: adding, removing, packs of
k items, uses per project, multiplying, sharing equally. Every intermediate value stays a
positive integer, so the answer is exact.

Difficulty levels (``level`` option; default: items cycle through 1, 2, 3):

1. two events, numbers below 20;
2. three or four events, numbers below 100, packs and per-project uses;
3. five or six events, numbers up to a few hundred, plus one irrelevant sentence (a
   distractor, as in GSM-IC, Shi et al. 2023) that must be ignored.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import Field

from reflectlab.task._base import Sample
from reflectlab.task._options import TaskOptions
from reflectlab.task._word_problem import WordProblemTask

__all__ = ["ArithOptions", "ArithTask", "generate_arith"]


_NAMES = ["Maya", "Omar", "Lena", "Jonas", "Priya", "Tom", "Aiko", "Diego", "Sara", "Felix"]
_FRIENDS = ["a neighbour", "a cousin", "a classmate", "the teacher", "a friend", "an aunt"]
_ITEMS = [
    ("marble", "marbles"),
    ("sticker", "stickers"),
    ("stamp", "stamps"),
    ("seashell", "seashells"),
    ("trading card", "trading cards"),
    ("coin", "coins"),
    ("bead", "beads"),
    ("pencil", "pencils"),
]
_CONTAINERS = ["boxes", "jars", "bags", "drawers", "shelves"]
_PROJECTS = ["posters", "gift bags", "school projects", "bracelets", "decorations"]
_LEVELS = {1: ((2, 2), 19), 2: ((3, 4), 99), 3: ((5, 6), 400)}


class ArithOptions(TaskOptions):
    n: int = Field(default=100, ge=1)
    #: 1, 2 or 3; ``None``: items cycle through all three.
    level: int | None = Field(default=None, ge=1, le=3)


def _event(
    rng: random.Random, value: int, cap: int, p: str, items: tuple[str, str]
) -> tuple[str, int, str]:
    """One event: (sentence, new value, operation) keeping the value a positive integer.
    Removals take at most half of what is there, so answers do not collapse to 1."""
    item = items[1]

    def q(x: int) -> str:
        return f"{x} {items[0] if x == 1 else items[1]}"

    choices = ["add", "sub", "packs", "uses"] if cap > 19 else ["add", "sub"]
    if value <= cap // 3:
        choices.append("mul")
    divisors = [k for k in range(2, 7) if value % k == 0 and value // k >= 2]
    if divisors:
        choices.append("share")
    op = rng.choice(choices)
    if op == "sub" and value < 3:
        op = "add"
    if op == "add":
        x = rng.randint(2, max(3, cap // 3))
        text = rng.choice(
            [
                f"Then {p} buys {x} more {item}.",
                f"Then {rng.choice(_FRIENDS)} gives {p} {q(x)}.",
                f"Then {p} finds {x} more {item}.",
            ]
        )
        return text, value + x, f"+{x}"
    if op == "sub":
        x = rng.randint(1, value // 2)
        text = rng.choice(
            [
                f"Then {p} gives {q(x)} to {rng.choice(_FRIENDS)}.",
                f"Then {p} sells {q(x)}.",
                f"Then {p} loses {q(x)}.",
            ]
        )
        return text, value - x, f"-{x}"
    if op == "packs":
        k, x = rng.randint(2, 5), rng.randint(2, max(3, cap // 10))
        return f"Then {p} buys {k} packs with {x} {item} in each pack.", value + k * x, f"+{k}*{x}"
    if op == "uses":
        k = rng.randint(2, 4)
        if value // 2 < k:
            return _event(rng, value, 19, p, items)  # too few to use per project: add/sub
        x = rng.randint(1, value // 2 // k)
        project = rng.choice(_PROJECTS)
        return (
            f"Then {p} makes {k} {project} and uses {q(x)} for each.",
            value - k * x,
            (f"-{k}*{x}"),
        )
    if op == "mul":
        k = rng.randint(2, 3)
        word = {2: "twice", 3: "three times"}[k]
        return (
            f"By the end of the month, {p} has {word} as many {item} as before.",
            value * k,
            (f"*{k}"),
        )
    k = rng.choice(divisors)
    container = rng.choice(_CONTAINERS)
    return (
        f"Then {p} puts the {item} equally into {k} {container} and keeps only one of them.",
        value // k,
        f"/{k}",
    )


def generate_arith(seed: int, index: int, level: int) -> Sample:
    """Problem ``index`` of ``seed`` at difficulty ``level`` (1-3)."""
    rng = random.Random(f"arith:{seed}:{index}:{level}")
    (low, high), cap = _LEVELS[level]
    p = rng.choice(_NAMES)
    items = rng.choice(_ITEMS)
    item = items[1]
    value = rng.randint(3, cap)
    sentences = [f"{p} has {value} {item}."]
    ops: list[str] = [str(value)]
    for _ in range(rng.randint(low, high)):
        text, value, op = _event(rng, value, cap, p, items)
        sentences.append(text)
        ops.append(op)
    if level == 3:
        other = rng.choice([n for n in _NAMES if n != p])
        distractor = f"{other} has {rng.randint(3, cap)} {item} but does not share any."
        sentences.insert(rng.randint(1, len(sentences) - 1), distractor)
    question = " ".join(sentences) + f" How many {item} does {p} have now?"
    return Sample(
        id=str(index),
        input=question,
        target=str(value),
        metadata={"level": level, "operations": ops},
    )


class ArithTask(WordProblemTask):
    """Generated multi-step arithmetic word problems (see the module docstring)."""

    name = "arith"
    default_max_tokens = 400

    def __init__(self, options: ArithOptions | None = None) -> None:
        self.options = options or ArithOptions()
        self._samples = [
            generate_arith(
                self.options.seed, i, self.options.level if self.options.level else i % 3 + 1
            )
            for i in range(self.options.n)
        ]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.options.model_dump()}
