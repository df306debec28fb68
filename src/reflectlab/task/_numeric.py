"""Numeric answers: pulling the final number out of a free-form reply, and normalising it.

Replies to math word problems end in many ways: ``#### 18`` (GSM8K's own format),
``Answer: $18``, ``The answer is 18.``, ``\\boxed{18}``, ``A: 18`` (GSM8K's released model
solutions), or just a last sentence that contains the number. Extraction prefers an explicit
final answer, in this order: the last ``\\boxed{...}``, the last ``####``, the last
``answer is`` / ``Answer:`` / ``A:`` marker; and only then falls back to the last number in the
reply. Calculator annotations (``<<16-3=13>>``, in GSM8K solutions) are removed first, since
they repeat intermediate results.

Normalisation makes equal quantities compare equal as strings (majority voting keys on the
string): thousands separators, ``$``, ``%``, a unicode minus and trailing zeros go
(``"$1,000.50"`` -> ``"1000.5"``, ``"18.00"`` -> ``"18"``); a fraction ``3/4`` becomes
``0.75``, and one without a finite decimal form stays ``p/q`` in lowest terms.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from reflectlab.task._base import Extracted

__all__ = ["extract_number", "normalize_number", "parse_number"]

_CALC_ANNOTATION = re.compile(r"<<[^<>]*>>")
# A number not glued to a preceding word or number ("5-3" yields 5 and 3, not -3).
_NUMBER = re.compile(
    r"(?<![\w./])(?P<sign>[-\u2212+])?\s?\$?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?:\s?/\s?(?P<den>\d+)(?![\d.]))?"
)
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?\d+)\s*\}\s*\{\s*(\d+)\s*\}")
_HASHES = re.compile(r"####")
_ANSWER_MARKER = re.compile(
    r"\banswer\b(?:\s+to\s+the\s+question)?\s*(?:\*\*|__)?\s*(?:is\b|was\b|:|=)\s*:?"
    r"|^\s*(?:\*\*|__)?A(?:\*\*|__)?\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


def parse_number(text: str) -> Fraction | None:
    """The first number in ``text`` as an exact fraction, or ``None``.

    >>> parse_number("$1,234.50 in total")
    Fraction(2469, 2)
    """
    match = _NUMBER.search(text)
    return None if match is None else _to_fraction(match)


def normalize_number(value: Fraction | int | float | str) -> str:
    """The canonical string of a number: ``"18"``, ``"0.75"``, ``"-3.5"``, ``"1/3"``.

    Raises ``ValueError`` for a string that holds no number.

    >>> normalize_number("18.00"), normalize_number(Fraction(3, 4)), normalize_number("1,000")
    ('18', '0.75', '1000')
    """
    if isinstance(value, str):
        parsed = parse_number(value)
        if parsed is None:
            raise ValueError(f"no number in {value!r}")
        value = parsed
    elif isinstance(value, float):
        value = Fraction(Decimal(repr(value)))
    frac = Fraction(value)
    if frac.denominator == 1:
        return str(frac.numerator)
    # A terminating decimal exists iff the reduced denominator has no prime factor but 2 and 5.
    den = frac.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return f"{frac.numerator}/{frac.denominator}"
    text = format(Decimal(frac.numerator) / Decimal(frac.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def extract_number(response: str) -> Extracted:
    """The final numeric answer of a reply, normalised; see the module docstring for the order.

    >>> extract_number("9 * 2 = 18, so she makes $18.\\n#### 18").value
    '18'
    >>> extract_number("The answer is $1,000.00.").value
    '1000'
    >>> extract_number("I cannot tell.").reason
    'no number in the reply'
    """
    text = _CALC_ANNOTATION.sub("", response).replace("{,}", ",")
    text = _LATEX_FRAC.sub(r"\1/\2", text)
    for where, region in _explicit_regions(text):
        match = _NUMBER.search(region)
        if match is not None:
            return Extracted(value=normalize_number(_to_fraction(match)), reason=where)
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return Extracted(value=None, reason="no number in the reply")
    return Extracted(value=normalize_number(_to_fraction(numbers[-1])), reason="last number")


def _explicit_regions(text: str) -> list[tuple[str, str]]:
    """Candidate answer texts from explicit markers, strongest first."""
    regions: list[tuple[str, str]] = []
    boxed = list(_BOXED.finditer(text))
    if boxed:
        regions.append(("boxed", _brace_content(text, boxed[-1].end())))
    hashes = list(_HASHES.finditer(text))
    if hashes:
        regions.append(("####", _rest_of_line(text, hashes[-1].end())))
    markers = list(_ANSWER_MARKER.finditer(text))
    if markers:
        regions.append(("answer marker", _rest_of_line(text, markers[-1].end())))
    return regions


def _rest_of_line(text: str, start: int) -> str:
    rest = text[start:].lstrip(" \t*_:")
    # An answer given on the next line ("Answer:\n18") counts; a whole further paragraph not.
    if rest.startswith("\n"):
        rest = rest.lstrip("\n")
    return rest.split("\n", 1)[0]


def _brace_content(text: str, start: int) -> str:
    depth = 1
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
    return text[start:]


def _to_fraction(match: re.Match[str]) -> Fraction:
    digits = match.group("num").replace(",", "")
    try:
        value = Fraction(Decimal(digits))
    except InvalidOperation:  # pragma: no cover - the regex only admits decimal digits
        raise ValueError(f"not a number: {digits!r}") from None
    den = match.group("den")
    if den is not None and int(den) != 0:
        value /= int(den)
    if match.group("sign") in ("-", "\u2212"):
        value = -value
    return value
