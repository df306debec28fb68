"""The problem families of the ``code`` task: statement, reference solution, input generator.

Each family draws its parameters from the item's generator (a divisor, a shift, a threshold),
so the same family yields different problems. Expected outputs come from the reference solution
below: trusted code written here, run in-process; only model-written code goes to the sandbox.
Inputs include the edge cases a statement mentions (empty list, zero, ...).
"""

from __future__ import annotations

import copy
import math
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

__all__ = ["FAMILIES", "Problem", "make_problem"]

Args = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """One generated problem: the function to write and its tests as ``(args, expected)``."""

    family: str
    name: str
    signature: str
    statement: str
    visible: list[tuple[Args, Any]]
    hidden: list[tuple[Args, Any]]


def _ints(rng: random.Random, n: int, lo: int = -20, hi: int = 20) -> list[int]:
    return [rng.randint(lo, hi) for _ in range(n)]


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def _sentence(rng: random.Random) -> str:
    return " ".join(_word(rng, rng.randint(1, 8)) for _ in range(rng.randint(0, 7)))


# Each family: (name, signature, statement template, solver(params) -> fn,
#               params(rng) -> dict, inputs(rng, params) -> args, edge inputs(params)).
Family = tuple[
    str,
    str,
    str,
    Callable[[dict[str, Any]], Callable[..., Any]],
    Callable[[random.Random], dict[str, Any]],
    Callable[[random.Random, dict[str, Any]], Args],
    Callable[[dict[str, Any]], list[Args]],
]


def _sum_multiples(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda n: sum(i for i in range(1, n) if i % p["a"] == 0 or i % p["b"] == 0)


def _count_letters(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda s: sum(1 for ch in s.lower() if ch in p["letters"])


def _rotate(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda xs, k: xs[k % len(xs) :] + xs[: k % len(xs)] if xs else []


def _caesar(p: dict[str, Any]) -> Callable[..., Any]:
    def shift(s: str) -> str:
        return "".join(chr((ord(c) - 97 + p["k"]) % 26 + 97) if "a" <= c <= "z" else c for c in s)

    return shift


def _run_length(p: dict[str, Any]) -> Callable[..., Any]:
    def encode(s: str) -> list[list[Any]]:
        out: list[list[Any]] = []
        for ch in s:
            if out and out[-1][0] == ch:
                out[-1][1] += 1
            else:
                out.append([ch, 1])
        return out

    return encode


def _digit_root(p: dict[str, Any]) -> Callable[..., Any]:
    def root(n: int) -> int:
        while n >= 10:
            n = sum(int(d) for d in str(n))
        return n

    return root


def _second_largest(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda xs: sorted(set(xs))[-2] if len(set(xs)) >= 2 else None


def _balanced(p: dict[str, Any]) -> Callable[..., Any]:
    def ok(s: str) -> bool:
        stack: list[str] = []
        pairs = {")": "(", "]": "[", "}": "{"}
        for ch in s:
            if ch in "([{":
                stack.append(ch)
            elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
                return False
        return not stack

    return ok


def _recurrence(p: dict[str, Any]) -> Callable[..., Any]:
    def term(n: int) -> int:
        a, b = p["a0"], p["a1"]
        for _ in range(n):
            a, b = b, b + p["c"] * a
        return int(a)

    return term


def _long_words(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda s: sum(1 for w in s.split() if len(w) > p["k"])


def _merge(p: dict[str, Any]) -> Callable[..., Any]:
    def merge(intervals: list[list[int]]) -> list[list[int]]:
        out: list[list[int]] = []
        for a, b in sorted(intervals):
            if out and a <= out[-1][1]:
                out[-1][1] = max(out[-1][1], b)
            else:
                out.append([a, b])
        return out

    return merge


def _chunk_sums(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda xs: [sum(xs[i : i + p["k"]]) for i in range(0, len(xs), p["k"])]


def _collatz(p: dict[str, Any]) -> Callable[..., Any]:
    def steps(n: int) -> int:
        count = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            count += 1
        return count

    return steps


def _dedupe(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda xs: list(dict.fromkeys(xs))


def _k_bits(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda lo, hi: sum(1 for i in range(lo, hi) if bin(i).count("1") == p["k"])


def _gcd_list(p: dict[str, Any]) -> Callable[..., Any]:
    return lambda xs: reduce(math.gcd, xs, 0)


def _longest_run(p: dict[str, Any]) -> Callable[..., Any]:
    def run(xs: list[int]) -> int:
        best = cur = 0
        for i, x in enumerate(xs):
            cur = cur + 1 if i and xs[i - 1] == x else 1
            best = max(best, cur)
        return best

    return run


def _letters_pick(rng: random.Random) -> dict[str, Any]:
    return {"letters": "".join(sorted(rng.sample("abcdefghijklmnopqrstuvwxyz", 3)))}


FAMILIES: list[Family] = [
    ("sum_multiples", "sum_multiples(n: int) -> int",
     "Return the sum of all positive integers below n that are divisible by {a} or by {b}. "
     "For n <= 1 the sum is 0.",
     _sum_multiples, lambda r: dict(zip("ab", r.sample(range(2, 8), 2), strict=True)),
     lambda r, p: (r.randint(2, 300),), lambda p: [(0,), (1,), (p["a"],)]),
    ("count_letters", "count_letters(s: str) -> int",
     "Return how many characters of s are one of the letters {letters_shown}, ignoring case.",
     _count_letters, _letters_pick,
     lambda r, p: (_word(r, r.randint(0, 25)) + r.choice(["", "A", "E!", " X"]),),
     lambda p: [("",), (p["letters"].upper(),)]),
    ("rotate_left", "rotate_left(xs: list[int], k: int) -> list[int]",
     "Return a new list: xs rotated left by k positions (k >= 0 may exceed len(xs)). "
     "An empty list gives an empty list.",
     _rotate, lambda r: {},
     lambda r, p: (_ints(r, r.randint(1, 8)), r.randint(0, 20)),
     lambda p: [([], 3), ([1], 5), ([1, 2, 3], 3)]),
    ("caesar", "caesar(s: str) -> str",
     "Shift every lowercase ASCII letter of s forward by {k} places in the alphabet, wrapping "
     "from 'z' to 'a'. Every other character stays as it is.",
     _caesar, lambda r: {"k": r.randint(1, 25)},
     lambda r, p: (_sentence(r) + r.choice(["", "!", " Z9"]),),
     lambda p: [("",), ("xyz",), ("Hello, World",)]),
    ("run_length", "run_length(s: str) -> list[list]",
     "Return the run-length encoding of s as a list of [character, count] pairs (each pair a "
     "list), in order. The empty string gives [].",
     _run_length, lambda r: {},
     lambda r, p: ("".join(r.choice("aab") * r.randint(1, 3) for _ in range(r.randint(1, 6))),),
     lambda p: [("",), ("a",), ("abba",)]),
    ("digit_root", "digit_root(n: int) -> int",
     "Given an integer n >= 0, replace it by the sum of its decimal digits until a single "
     "digit remains, and return that digit.",
     _digit_root, lambda r: {}, lambda r, p: (r.randint(0, 10**9),),
     lambda p: [(0,), (9,), (10,), (99999999999,)]),
    ("second_largest", "second_largest(xs: list[int]) -> int | None",
     "Return the second largest distinct value in xs, or None if xs has fewer than two "
     "distinct values.",
     _second_largest, lambda r: {}, lambda r, p: (_ints(r, r.randint(2, 9), -5, 5),),
     lambda p: [([],), ([3, 3, 3],), ([1, 2],), ([5, 5, 4],)]),
    ("is_balanced", "is_balanced(s: str) -> bool",
     "Return True if the brackets (), [] and {{}} in s are balanced and properly nested; "
     "all other characters are ignored.",
     _balanced, lambda r: {},
     lambda r, p: ("".join(r.choice("()[]{}a") for _ in range(r.randint(0, 10))),),
     lambda p: [("",), ("([]{{}})",), ("(]",), ("((",), (")(",)]),
    ("sequence_term", "sequence_term(n: int) -> int",
     "A sequence starts a(0) = {a0}, a(1) = {a1}, and continues a(n) = a(n-1) + {c} * a(n-2). "
     "Return a(n) for n >= 0.",
     _recurrence,
     lambda r: {"a0": r.randint(0, 3), "a1": r.randint(1, 4), "c": r.randint(1, 3)},
     lambda r, p: (r.randint(0, 30),), lambda p: [(0,), (1,), (2,)]),
    ("count_long_words", "count_long_words(s: str) -> int",
     "Return how many words of s (split on whitespace) have more than {k} characters.",
     _long_words, lambda r: {"k": r.randint(2, 5)}, lambda r, p: (_sentence(r),),
     lambda p: [("",), ("   ",)]),
    ("merge_intervals", "merge_intervals(intervals: list[list[int]]) -> list[list[int]]",
     "Merge overlapping closed intervals [a, b] with a <= b; intervals that touch, like "
     "[1, 2] and [2, 3], also merge. Return the merged intervals sorted by start, each as a "
     "list [a, b].",
     _merge, lambda r: {},
     lambda r, p: ([sorted(_ints(r, 2, 0, 20)) for _ in range(r.randint(1, 6))],),
     lambda p: [([],), ([[1, 2], [2, 3]],), ([[5, 6], [1, 10]],)]),
    ("chunk_sums", "chunk_sums(xs: list[int]) -> list[int]",
     "Split xs into consecutive chunks of {k} elements (the last chunk may be shorter) and "
     "return the list of the chunks' sums.",
     _chunk_sums, lambda r: {"k": r.randint(2, 4)}, lambda r, p: (_ints(r, r.randint(1, 11)),),
     lambda p: [([],), ([7],)]),
    ("collatz_steps", "collatz_steps(n: int) -> int",
     "Starting from n >= 1, repeatedly replace n by n // 2 if it is even and by 3 * n + 1 if "
     "it is odd. Return the number of replacements needed to reach 1.",
     _collatz, lambda r: {}, lambda r, p: (r.randint(1, 500),), lambda p: [(1,), (2,), (27,)]),
    ("dedupe", "dedupe(xs: list[int]) -> list[int]",
     "Return xs without repeated values, keeping the first occurrence of each value, in the "
     "original order.",
     _dedupe, lambda r: {}, lambda r, p: (_ints(r, r.randint(0, 10), 0, 5),),
     lambda p: [([],), ([1, 1, 1],)]),
    ("count_k_bits", "count_k_bits(lo: int, hi: int) -> int",
     "Return how many integers i with lo <= i < hi (0 <= lo) have exactly {k} ones in their "
     "binary representation.",
     _k_bits, lambda r: {"k": r.randint(1, 4)},
     lambda r, p: (lambda a: (a, a + r.randint(0, 200)))(r.randint(0, 100)),
     lambda p: [(0, 0), (5, 3), (0, 1)]),
    ("gcd_list", "gcd_list(xs: list[int]) -> int",
     "Return the greatest common divisor of the non-negative integers in xs; the gcd of an "
     "empty list is 0.",
     _gcd_list, lambda r: {},
     lambda r, p: ([r.randint(1, 12) * r.choice([6, 10, 15]) for _ in range(r.randint(1, 5))],),
     lambda p: [([],), ([0, 0],), ([7],)]),
    ("longest_run", "longest_run(xs: list[int]) -> int",
     "Return the length of the longest run of consecutive equal elements in xs (0 for an "
     "empty list).",
     _longest_run, lambda r: {}, lambda r, p: (_ints(r, r.randint(1, 12), 0, 2),),
     lambda p: [([],), ([4],)]),
]  # fmt: skip


def make_problem(rng: random.Random, family_index: int | None = None) -> Problem:
    """A problem of a random (or the given) family, with 3 visible and 10+ hidden tests."""
    family = FAMILIES[rng.randrange(len(FAMILIES)) if family_index is None else family_index]
    name, signature, template, solver, params_of, input_of, edges_of = family
    params = params_of(rng)
    shown = {**params}
    if "letters" in params:
        shown["letters_shown"] = ", ".join(f"'{c}'" for c in params["letters"])
    statement = template.format(**shown)
    fn = solver(params)
    seen: set[str] = set()
    cases: list[tuple[Args, Any]] = []
    for _ in range(40):
        args = input_of(rng, params)
        if repr(args) not in seen:
            seen.add(repr(args))
            cases.append((args, fn(*_copy(args))))
        if len(cases) == 11:
            break
    visible, random_hidden = cases[:3], cases[3:]
    edges = [(args, fn(*_copy(args))) for args in edges_of(params) if repr(args) not in seen]
    return Problem(
        family=name,
        name=name,
        signature=signature,
        statement=statement,
        visible=visible,
        hidden=random_hidden + edges,
    )


def _copy(args: Args) -> Args:
    # The reference solutions do not mutate, but a copy keeps the stored inputs safe anyway.
    return copy.deepcopy(args)
