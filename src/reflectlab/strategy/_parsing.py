"""Parsers for structured model replies: lists (constraints, perspectives) and JSON objects
(a judge's decision).

Small models wrap JSON in Markdown fences, add a sentence before it, or number a list with
"1)" instead of "1.". These parsers accept those variants and nothing looser: they never guess.
A reply they cannot read gives an empty result (``[]`` or ``None``), so the calling strategy
can take its documented fallback and count it, rather than raise or act on a misreading.
"""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.S)
_ITEM = re.compile(r"^\s*(?:\(?\d{1,3}[.):]|[-*•])\s+(.+?)\s*$")


def _candidates(text: str, opening: str, closing: str) -> list[str]:
    """Texts that may hold one JSON value: fenced blocks, the whole reply, and the span from
    the first ``opening`` to the last ``closing`` bracket."""
    found = [m.group(1).strip() for m in _FENCE.finditer(text)]
    found.append(text.strip())
    start, end = text.find(opening), text.rfind(closing)
    if 0 <= start < end:
        found.append(text[start : end + 1])
    return found


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object found in ``text`` (fenced or bare), or ``None``.

    >>> parse_json_object('Sure:\\n```json\\n{"a": 1}\\n```')
    {'a': 1}
    """
    for candidate in _candidates(text, "{", "}"):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _json_list(text: str) -> list[str] | None:
    for candidate in _candidates(text, "[", "]"):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, list) and value:
            items = [
                str(v.get("constraint") or v.get("text") or "") if isinstance(v, dict) else str(v)
                for v in value
            ]
            return [i.strip() for i in items if i.strip()]
    return None


def parse_list(text: str) -> list[str]:
    """Items of a numbered or bulleted list, or of a JSON array of strings; ``[]`` if none.

    Duplicates are dropped (first occurrence kept); order is preserved.

    >>> parse_list("Constraints:\\n1. Use fewer than 50 words.\\n2) No commas.")
    ['Use fewer than 50 words.', 'No commas.']
    """
    # List markers first: a constraint may itself quote a JSON array ('1. Use the words ["a"]').
    items = [m.group(1) for line in text.splitlines() if (m := _ITEM.match(line))]
    if not items:
        items = _json_list(text) or []
    seen: set[str] = set()
    unique = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def field(obj: dict[str, Any], name: str) -> str:
    """``obj[name]`` as a stripped string, matching the key case- and space-insensitively
    (judges write "debate_answer", "Debate Answer", "debate answer"); ``""`` if absent."""
    want = re.sub(r"[\s_]+", "", name).casefold()
    for key, value in obj.items():
        if re.sub(r"[\s_]+", "", str(key)).casefold() == want:
            return "" if value is None else str(value).strip()
    return ""
