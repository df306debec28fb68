"""The generated code task: hidden tests in the sandbox, visible examples for the check."""

from __future__ import annotations

import asyncio
import re

from reflectlab.task import CodeTask, Sample, get_task
from reflectlab.task.builtin._code_problems import FAMILIES

# A correct solution per family, written from the statement alone. Parameters that the
# statement states ({a}, {k}, ...) are read back from the prompt text.
SOLUTIONS = {
    "sum_multiples": "def sum_multiples(n):\n    return sum(i for i in range(1, n) if i % {a} == 0"
    " or i % {b} == 0)\n",
    "count_letters": "def count_letters(s):\n    return sum(c in {letters!r} for c in s.lower())\n",
    "rotate_left": "def rotate_left(xs, k):\n    if not xs:\n        return []\n    k %= len(xs)\n"
    "    return xs[k:] + xs[:k]\n",
    "caesar": "def caesar(s):\n    return ''.join(chr((ord(c) - 97 + {k}) % 26 + 97) if 'a' <= c"
    " <= 'z' else c for c in s)\n",
    "run_length": "from itertools import groupby\ndef run_length(s):\n"
    "    return [[c, len(list(g))] for c, g in groupby(s)]\n",
    "digit_root": "def digit_root(n):\n    return 0 if n == 0 else 1 + (n - 1) % 9\n",
    "second_largest": "def second_largest(xs):\n    v = sorted(set(xs))\n"
    "    return v[-2] if len(v) > 1 else None\n",
    # (braces doubled: every solution goes through str.format)
    "is_balanced": "def is_balanced(s):\n    st = []\n    for c in s:\n        if c in '([{{':\n"
    "            st.append(c)\n        elif c in ')]}}':\n"
    "            if not st or '([{{'[')]}}'.index(c)] != st.pop():\n                return False\n"
    "    return not st\n",
    "sequence_term": "def sequence_term(n):\n    a, b = {a0}, {a1}\n    for _ in range(n):\n"
    "        a, b = b, b + {c} * a\n    return a\n",
    "count_long_words": "def count_long_words(s):\n"
    "    return sum(len(w) > {k} for w in s.split())\n",
    "merge_intervals": "def merge_intervals(iv):\n    out = []\n    for a, b in sorted(iv):\n"
    "        if out and a <= out[-1][1]:\n            out[-1][1] = max(out[-1][1], b)\n"
    "        else:\n            out.append([a, b])\n    return out\n",
    "chunk_sums": "def chunk_sums(xs):\n    return [sum(xs[i:i + {k}]) for i in range(0, len(xs),"
    " {k})]\n",
    "collatz_steps": "def collatz_steps(n):\n    c = 0\n    while n != 1:\n"
    "        n = n // 2 if n % 2 == 0 else 3 * n + 1\n        c += 1\n    return c\n",
    "dedupe": "def dedupe(xs):\n    out = []\n    for x in xs:\n        if x not in out:\n"
    "            out.append(x)\n    return out\n",
    "count_k_bits": "def count_k_bits(lo, hi):\n    return sum(bin(i).count('1') == {k} for i in"
    " range(lo, hi))\n",
    "gcd_list": "import math\ndef gcd_list(xs):\n    return math.gcd(*xs) if xs else 0\n",
    "longest_run": "def longest_run(xs):\n    best = cur = 0\n    for i, x in enumerate(xs):\n"
    "        cur = cur + 1 if i and xs[i - 1] == x else 1\n        best = max(best, cur)\n"
    "    return best\n",
}


def _params(sample: Sample) -> dict[str, object]:
    text = sample.input
    found: dict[str, object] = {}
    if m := re.search(r"divisible by (\d+) or by (\d+)", text):
        found.update(a=int(m[1]), b=int(m[2]))
    if m := re.search(r"letters ('.', '.', '.')", text):
        found["letters"] = "".join(re.findall(r"'(.)'", m[1]))
    if m := re.search(r"forward by (\d+) places|more than (\d+) characters|chunks of (\d+)|"
                      r"exactly (\d+) ones", text):  # fmt: skip
        found["k"] = int(next(g for g in m.groups() if g))
    if m := re.search(r"a\(0\) = (\d+), a\(1\) = (\d+).*?\+ (\d+) \*", text):
        found.update(a0=int(m[1]), a1=int(m[2]), c=int(m[3]))
    return found


def _solution(sample: Sample) -> str:
    return SOLUTIONS[sample.metadata["family"]].format(**_params(sample))


def test_items_cover_every_family_and_hide_their_tests() -> None:
    task = get_task("code", seed=1, n=len(FAMILIES))
    assert isinstance(task, CodeTask)
    assert {s.metadata["family"] for s in task.samples()} == set(SOLUTIONS)
    for sample in task.samples():
        tests = sample.target["tests"]
        assert len(tests) >= 10 and tests[:3] == sample.metadata["visible"]
        prompt = task.format_prompt(sample)
        assert all(f"{call} == {want}" in prompt for call, want in tests[:3])
        assert not any(call in prompt for call, _ in tests[3:])
    assert task.samples() == get_task("code", seed=1, n=len(FAMILIES)).samples()


async def test_correct_solutions_pass_and_off_by_one_fails() -> None:
    task = get_task("code", seed=2, n=len(FAMILIES))
    samples = task.samples()
    replies = [f"Here it is:\n```python\n{_solution(s)}```" for s in samples]
    scores = await asyncio.gather(
        *(task.score(s, r) for s, r in zip(samples, replies, strict=True))
    )
    assert {s.metadata["family"]: sc.reason for s, sc in zip(samples, scores, strict=True)
            if not sc.correct} == {}  # fmt: skip
    collatz = next(s for s in samples if s.metadata["family"] == "collatz_steps")
    off_by_one = _solution(collatz).replace("c = 0", "c = 1")
    score = await task.score(collatz, off_by_one)
    assert not score.correct and score.value == 0.0
    assert "tests fail, e.g. collatz_steps(" in (score.reason or "")


async def test_check_runs_only_the_visible_examples() -> None:
    task = get_task("code", seed=2, n=len(FAMILIES))
    sample = next(s for s in task.samples() if s.metadata["family"] == "second_largest")
    # Right on the visible examples (lists with two distinct values), wrong on the edge cases.
    partial = "def second_largest(xs):\n    return sorted(set(xs))[-2]\n"
    check = await task.check(sample, partial)
    assert check is not None  # the code task has a label-free check
    assert check.passed and check.feedback == "All 3 examples pass."
    score = await task.score(sample, partial)
    assert not score.correct and "raised IndexError" in (score.reason or "")
    wrong = await task.check(sample, "def second_largest(xs):\n    return max(xs)\n")
    assert wrong is not None
    assert not wrong.passed and wrong.feedback.startswith("3 of 3 examples fail:")
    assert "second_largest(" in wrong.feedback and "expected" in wrong.feedback


async def test_replies_without_runnable_code() -> None:
    task = get_task("code", n=1)
    sample = task.samples()[0]
    assert (await task.score(sample, "")).reason == "empty reply"
    broken = await task.score(sample, "```python\ndef f(:\n```")
    assert not broken.correct and "does not run" in (broken.reason or "")
    assert "SyntaxError" in (broken.reason or "")
    check = await task.check(sample, "import sys\nsys.exit(0)\n")
    assert check is not None
    assert not check.passed  # exiting early cannot fake a pass
