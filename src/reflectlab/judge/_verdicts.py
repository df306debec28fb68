"""Turning a judge's reply into a verdict: tolerant about form, strict about ambiguity (private).

Accepted forms, in any reply:

- double-bracket markers, as MT-Bench asks for (Zheng et al., NeurIPS 2023): ``[[A]]``,
  ``[[B]]``, ``[[C]]`` (tie; ``[[tie]]`` too), ratings ``[[7]]`` / ``Rating: [[7.5]]``,
  ``[[YES]]`` / ``[[NO]]``, ``[[CORRECT]]`` / ``[[INCORRECT]]``;
- JSON objects, bare or in a fenced block: ``{"verdict": "A"}``, ``{"score": 7}``,
  ``{"answer": "yes"}``, ``{"correct": false}``.

Every candidate verdict in the reply is collected. Exactly one distinct value is the verdict;
none, or several different ones, give ``None`` with a ``parse_error`` saying why. Like
Arena-Hard's and JudgeBench's parsers (and unlike MT-Bench's, which takes the first of
``[[A]]``, ``[[B]]``, ``[[C]]`` it finds, in that fixed order) we never pick one of two
conflicting verdicts. Two kinds of marker are not verdicts and are skipped: one followed by
"if" (an echo of the format instruction, ``"[[A]]" if assistant A is better``) and one
after "for example" (an echo of ``for example: "Rating: [[5]]"``). A rating outside the scale
is unparseable, not clipped.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from reflectlab.judge._base import FrozenResult

PairVerdict = Literal["A", "B", "tie"]
"""A pairwise verdict in the positions the judge was shown."""
Correctness = Literal["correct", "incorrect"]

T = TypeVar("T")

_MARKER = re.compile(r"\[\[\s*([^\[\]\n]{1,40}?)\s*\]\]")
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_FIRST_WORD = re.compile(r"^\W*(yes|no)\b", re.I)
_EXAMPLE_BEFORE = re.compile(r"(for example|e\.g\.|such as)\W{0,12}(rating\W{0,4})?$", re.I)
_IF_AFTER = re.compile(r"^[\"'”’]?\s*if\b", re.I)

_PAIR_KEYS = ("verdict", "winner", "decision", "choice", "better", "preference")
_RATING_KEYS = ("score", "rating", "grade")
_ANSWER_KEYS = ("answer", "verdict", "result")
_CORRECT_KEYS = ("verdict", "correct", "is_correct", "correctness")


class ParsedPair(FrozenResult):
    """A pairwise verdict (shown positions) or ``None`` with the reason."""

    verdict: PairVerdict | None
    parse_error: str | None = None


class ParsedRating(FrozenResult):
    """A rating on the judge's scale or ``None`` with the reason."""

    rating: float | None
    parse_error: str | None = None


class ParsedAnswer(FrozenResult):
    """A yes/no answer (``True`` = yes) or ``None`` with the reason."""

    answer: bool | None
    parse_error: str | None = None


class ParsedCorrectness(FrozenResult):
    """A correct/incorrect verdict or ``None`` with the reason."""

    verdict: Correctness | None
    parse_error: str | None = None


def parse_pairwise_verdict(text: str, *, allow_tie: bool = True) -> ParsedPair:
    """``[[A]]`` / ``[[B]]`` / ``[[C]]`` or ``{"verdict": "A"}`` -> ``"A"``/``"B"``/``"tie"``.

    With ``allow_tie=False`` a tie is unparseable (the judge was told not to give one).

    >>> parse_pairwise_verdict("B is more accurate. [[B]]").verdict
    'B'
    >>> parse_pairwise_verdict("[[A]] ... on reflection [[B]]").parse_error
    'conflicting verdicts: A, B'
    """
    found: list[PairVerdict] = _collect(text, _pair_value, _PAIR_KEYS)
    verdict, error = _single(found, "no verdict found (expected [[A]], [[B]] or [[C]])")
    if verdict == "tie" and not allow_tie:
        return ParsedPair(verdict=None, parse_error="a tie was not allowed")
    return ParsedPair(verdict=verdict, parse_error=error)


def parse_rating(text: str, *, scale: tuple[float, float] = (1, 10)) -> ParsedRating:
    """``[[7]]``, ``Rating: [[7.5]]`` or ``{"score": 7}`` -> ``7.0``; out of ``scale`` -> None.

    >>> parse_rating("Solid answer. Rating: [[8]]").rating
    8.0
    >>> parse_rating("[[11]]").parse_error
    'rating 11 is outside the scale 1-10'
    """
    found: list[float] = _collect(text, _rating_value, _RATING_KEYS)
    rating, error = _single(found, "no rating found (expected [[rating]], e.g. [[7]])")
    if rating is None:
        return ParsedRating(rating=None, parse_error=error)
    low, high = scale
    if not low <= rating <= high:
        return ParsedRating(
            rating=None,
            parse_error=f"rating {_fmt(rating)} is outside the scale {_fmt(low)}-{_fmt(high)}",
        )
    return ParsedRating(rating=rating)


def parse_yes_no(text: str) -> ParsedAnswer:
    """``[[YES]]`` / ``[[NO]]``, ``{"answer": "yes"}``, or a reply whose first word is yes/no.

    >>> parse_yes_no("No. The response ignores the word limit.").answer
    False
    """
    found: list[bool] = _collect(text, _yes_no_value, _ANSWER_KEYS)
    if not found:
        match = _FIRST_WORD.match(text)
        if match:
            found = [match.group(1).lower() == "yes"]
    answer, error = _single(found, "no answer found (expected [[YES]] or [[NO]])")
    return ParsedAnswer(answer=answer, parse_error=error)


def parse_correctness(text: str) -> ParsedCorrectness:
    """``[[CORRECT]]`` / ``[[INCORRECT]]`` or ``{"correct": true}`` / ``{"verdict": "incorrect"}``.

    >>> parse_correctness("Step 2 is wrong, so [[INCORRECT]]").verdict
    'incorrect'
    """
    found: list[Correctness] = _collect(text, _correct_value, _CORRECT_KEYS)
    verdict, error = _single(found, "no verdict found (expected [[CORRECT]] or [[INCORRECT]])")
    return ParsedCorrectness(verdict=verdict, parse_error=error)


# ------------------------------------------------------------------------------ collecting


def _collect(text: str, convert: Callable[[Any], T | None], keys: tuple[str, ...]) -> list[T]:
    """Every candidate verdict in ``text``: markers first, then JSON values under ``keys``."""
    found: list[T] = []
    for match in _MARKER.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if _IF_AFTER.match(after) or _EXAMPLE_BEFORE.search(before.rstrip(" \"'“‘:")[-40:]):
            continue
        value = convert(match.group(1))
        if value is not None:
            found.append(value)
    for obj in _json_objects(text):
        lowered = {str(k).lower(): v for k, v in obj.items()}
        for key in keys:
            if key in lowered:
                value = convert(lowered[key])
                if value is not None:
                    found.append(value)
                break
    return found


def _single(found: Sequence[T], missing: str) -> tuple[T | None, str | None]:
    distinct: list[T] = []
    for value in found:
        if value not in distinct:
            distinct.append(value)
    if not distinct:
        return None, missing
    if len(distinct) > 1:
        shown = ", ".join(_fmt(v) if isinstance(v, float) else str(v) for v in distinct)
        return None, f"conflicting verdicts: {shown}"
    return distinct[0], None


def _json_objects(text: str) -> Iterable[Mapping[str, Any]]:
    """JSON objects in fenced blocks, then bare ones anywhere in the text."""
    decoder = json.JSONDecoder()
    spans = [m.group(1) for m in _FENCE.finditer(text)]
    spans.append(_FENCE.sub(" ", text))
    for span in spans:
        index = span.find("{")
        while index != -1:
            try:
                obj, end = decoder.raw_decode(span, index)
            except json.JSONDecodeError:
                index = span.find("{", index + 1)
                continue
            if isinstance(obj, dict):
                yield obj
            index = span.find("{", end)


# ------------------------------------------------------------------------------ converters


def _pair_value(raw: Any) -> PairVerdict | None:
    if not isinstance(raw, str):
        return None
    token = raw.strip().strip("\"'").upper()
    for prefix in ("ASSISTANT ", "RESPONSE ", "OUTPUT "):
        token = token.removeprefix(prefix)
    if token in ("A", "B"):
        return "A" if token == "A" else "B"
    if token in ("C", "TIE", "A=B"):
        return "tie"
    return None


def _rating_value(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str) and _NUMBER.match(raw.strip()):
        value = float(raw.strip())
    else:
        return None
    return value if math.isfinite(value) else None


def _yes_no_value(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        token = raw.strip().strip("\"'.!").lower()
        if token in ("yes", "no"):
            return token == "yes"
    return None


def _correct_value(raw: Any) -> Correctness | None:
    if isinstance(raw, bool):
        return "correct" if raw else "incorrect"
    if isinstance(raw, str):
        token = raw.strip().strip("\"'.!").lower()
        if token in ("correct", "incorrect"):
            return "correct" if token == "correct" else "incorrect"
    return None


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
