"""``knights``: knights-and-knaves puzzles with a unique solution, generated from a seed.

Every inhabitant is a knight (always tells the truth) or a knave (always lies); each makes one
statement about the others. A puzzle has 3-7 people (``people`` option to fix the number) and
exactly one consistent assignment, found by brute force over all 2^n assignments: the generator
draws a hidden assignment, gives each person a statement whose truth matches their type, then
swaps statements for ones that rule out more assignments until a single one is left. Statements
are stored as data in ``metadata["statements"]`` so the solution can be re-checked.

The answer format is one line, ``Answer: Alice: knight, Bob: knave, ...``; the parser is
tolerant of other common ways to say it ("Alice is a knight", "Knights: Alice, Carol").

There is no label-free :meth:`check`: a consistency checker of a proposed assignment would
decide correctness exactly (solutions are unique), so it would be the gold label in disguise.
Verifying against the puzzle belongs to the oracle feedback source, where it is flagged.
"""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

from pydantic import Field

from reflectlab.task._base import Extracted, Sample, SampleView, Score, Task
from reflectlab.task._options import TaskOptions

__all__ = ["KnightsOptions", "KnightsTask", "generate_knights", "parse_assignment", "solve"]

NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Hank", "Iris", "Jack"]
Claim = dict[str, Any]

INTRO = (
    "On an island, every inhabitant is either a knight, who always tells the truth, or a knave, "
    "who always lies. You meet {n} inhabitants: {names}.\n"
)
PROMPT_SUFFIX = (
    "Who is a knight and who is a knave? Reason it out, then finish with one line that names "
    "every inhabitant, in the form 'Answer: {example}'."
)


class KnightsOptions(TaskOptions):
    n: int = Field(default=100, ge=1)
    #: Number of inhabitants per puzzle (3-7); ``None``: drawn per puzzle.
    people: int | None = Field(default=None, ge=3, le=7)


def _kind(is_knight: bool) -> str:
    return "knight" if is_knight else "knave"


def evaluate(claim: Claim, assignment: tuple[bool, ...]) -> bool:
    """Whether ``claim`` is true when ``assignment[i]`` says person ``i`` is a knight."""
    op = claim["op"]
    if op == "count":
        return sum(assignment) == int(claim["count"])
    if op == "implies":
        (a, ka), (b, kb) = claim["if"], claim["then"]
        premise = assignment[int(a)] == (ka == "knight")
        return not premise or assignment[int(b)] == (kb == "knight")
    want = claim.get("kind") == "knight"
    if op == "is":
        return assignment[int(claim["who"])] == want
    x, y = (assignment[int(i)] for i in claim["who"])
    if op == "both":
        return x == want and y == want
    if op == "either":
        return x == want or y == want
    if op == "same":
        return x == y
    if op == "different":
        return x != y
    raise ValueError(f"unknown claim {claim!r}")


def render(claim: Claim, names: list[str]) -> str:
    op = claim["op"]
    if op == "count":
        k = claim["count"]
        return (
            f"Exactly {k} of the {claim['of']} of us {'is a knight' if k == 1 else 'are knights'}."
        )
    if op == "implies":
        (a, ka), (b, kb) = claim["if"], claim["then"]
        return f"If {names[a]} is a {ka}, then {names[b]} is a {kb}."
    who, kind = claim["who"], claim.get("kind")
    if op == "is":
        return f"{names[who]} is a {kind}."
    a, b = names[who[0]], names[who[1]]
    return {
        "both": f"{a} and {b} are both {kind}s.",
        "either": f"At least one of {a} and {b} is a {kind}.",
        "same": f"{a} and {b} are the same kind.",
        "different": f"{a} and {b} are different kinds.",
    }[op]


def solve(statements: list[Claim]) -> list[tuple[bool, ...]]:
    """Every consistent assignment: each person's statement is true iff they are a knight."""
    n = len(statements)
    return [
        assignment
        for assignment in itertools.product((True, False), repeat=n)
        if all(evaluate(statements[i], assignment) == assignment[i] for i in range(n))
    ]


def _random_claim(rng: random.Random, speaker: int, n: int) -> Claim:
    others = [j for j in range(n) if j != speaker]
    op = rng.choice(["is", "is", "both", "either", "same", "different", "implies", "count"])
    kind = rng.choice(["knight", "knave"])
    if op == "is" or len(others) < 2:
        return {"op": "is", "who": rng.choice(others), "kind": kind}
    a, b = rng.sample(others, 2)
    if op == "count":
        return {"op": "count", "count": rng.randint(0, n), "of": n}
    if op == "implies":
        return {"op": "implies", "if": [a, kind], "then": [b, rng.choice(["knight", "knave"])]}
    if op in ("same", "different"):
        return {"op": op, "who": [a, b]}
    return {"op": op, "who": [a, b], "kind": kind}


def _claim_for(rng: random.Random, speaker: int, truth: tuple[bool, ...]) -> Claim:
    """A random claim that is true iff the speaker is a knight (so ``truth`` stays consistent)."""
    while True:
        claim = _random_claim(rng, speaker, len(truth))
        if evaluate(claim, truth) == truth[speaker]:
            return claim


def generate_knights(seed: int, index: int, people: int | None = None) -> Sample:
    """Puzzle ``index`` of ``seed`` (see the module docstring)."""
    rng = random.Random(f"knights:{seed}:{index}:{people}")
    n = people or rng.randint(3, 7)
    names = NAMES[:n]
    while True:
        truth = tuple(rng.random() < 0.5 for _ in range(n))
        statements = [_claim_for(rng, i, truth) for i in range(n)]
        for _ in range(60):
            count = len(solve(statements))
            if count == 1:
                break
            i = rng.randrange(n)
            options = [_claim_for(rng, i, truth) for _ in range(6)]
            statements[i] = min(
                options, key=lambda c: len(solve([*statements[:i], c, *statements[i + 1 :]]))
            )
        if len(solve(statements)) == 1:
            break
    lines = "\n".join(f'- {names[i]} says: "{render(c, names)}"' for i, c in enumerate(statements))
    question = INTRO.format(n=n, names=", ".join(names)) + lines
    return Sample(
        id=str(index),
        input=question,
        target=_format(names, truth),
        metadata={"names": names, "statements": statements},
    )


def _format(names: list[str], assignment: tuple[bool, ...] | list[bool]) -> str:
    return ", ".join(f"{name}: {_kind(k)}" for name, k in zip(names, assignment, strict=True))


_ANSWER = re.compile(r"\banswer\b\s*(?:\*\*|__)?\s*(?:is\b|:)", re.IGNORECASE)
# Between a name and its kind: "Alice: knight", "Alice is a knave", "**Alice** - Knight",
# "Alice (knight)". Not "," or ";": "Knights: Alice, Carol; Knaves: Bob" must not read
# "Carol; Knaves" as Carol being a knave.
_SEP = (
    r"[*_]{0,2}\s*(?:is\s+|was\s+|are\s+|=|:|-|–|—|→|->|\()?\s*[*_]{0,2}\s*"
    r"(?:an?\s+|the\s+)?[*_]{0,2}"
)


def parse_assignment(response: str, names: list[str]) -> Extracted:
    """The assignment a reply states, as ``"Alice: knight, Bob: knave, ..."`` in ``names``
    order. Looks after the last ``Answer:`` if there is one (else the whole reply, the last
    statement about each person winning); accepts ``Alice: knight``, ``Alice is a knave``,
    ``Alice - Knight``, and lists such as ``Knights: Alice, Carol`` or ``Bob and Eve are
    knaves``."""
    markers = list(_ANSWER.finditer(response))
    region = response[markers[-1].end() :] if markers else response
    found: dict[str, tuple[int, bool]] = {}  # name -> (position, is knight)
    name_alt = "|".join(re.escape(n) for n in names)
    for match in re.finditer(rf"\b({name_alt})\b{_SEP}(knight|knave)s?\b", region, re.IGNORECASE):
        name = next(n for n in names if n.lower() == match.group(1).lower())
        found[name] = (match.start(), match.group(2).lower() == "knight")
    group_patterns = [
        # "Knights: Alice, Carol" / "the knights are Alice and Carol"
        rf"\b(knight|knave)s?\b\s*(?:are|:|=|-)\s*((?:(?:{name_alt})(?:\s*,\s*|\s+and\s+|\s*&\s*)?)+)",
        # "Alice and Carol are knights"
        rf"((?:(?:{name_alt})(?:\s*,\s*|\s+and\s+|\s*&\s*)?)+)\s+are\s+(?:both\s+|all\s+)?(knight|knave)s\b",
    ]
    for k, pattern in enumerate(group_patterns):
        for match in re.finditer(pattern, region, re.IGNORECASE):
            kind, members = (match.group(1), match.group(2)) if k == 0 else match.group(2, 1)
            for name in re.findall(name_alt, members, re.IGNORECASE):
                canonical = next(n for n in names if n.lower() == name.lower())
                if canonical not in found or found[canonical][0] < match.start():
                    found[canonical] = (match.start(), kind.lower() == "knight")
    missing = [n for n in names if n not in found]
    if missing:
        return Extracted(value=None, reason="no verdict for " + ", ".join(missing))
    return Extracted(value=_format(names, [found[n][1] for n in names]))


class KnightsTask(Task):
    """Generated knights-and-knaves puzzles (see the module docstring)."""

    name = "knights"
    answer_kind = "assignment"
    default_max_tokens = 600

    def __init__(self, options: KnightsOptions | None = None) -> None:
        self.options = options or KnightsOptions()
        self._samples = [
            generate_knights(self.options.seed, i, self.options.people)
            for i in range(self.options.n)
        ]

    def samples(self) -> list[Sample]:
        return self._samples

    # Names and statements are the puzzle as the prompt states it; the solution is the target.
    public_metadata = frozenset({"names", "statements"})

    def format_prompt(self, sample: SampleView) -> str:
        names = sample.metadata["names"]
        example = f"{names[0]}: knight, {names[1]}: knave, ..."
        return f"{sample.input}\n\n{PROMPT_SUFFIX.format(example=example)}"

    def extract(self, sample: SampleView, response: str) -> Extracted:
        return parse_assignment(response, sample.metadata["names"])

    async def score(self, sample: Sample, response: str) -> Score:
        extracted = self.extract(sample, response)
        if extracted.value is None:
            return Score(correct=False, reason=extracted.reason)
        got = dict(part.split(": ") for part in extracted.value.split(", "))
        want = dict(part.split(": ") for part in str(sample.target).split(", "))
        wrong = [name for name in want if got.get(name) != want[name]]
        return Score(
            correct=not wrong,
            value=float(not wrong),
            answer=extracted.value,
            reason=None if not wrong else "wrong about " + ", ".join(wrong),
            details={"people": len(want), "wrong": len(wrong)},
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), **self.options.model_dump()}
