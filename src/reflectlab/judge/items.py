"""Items to judge, and reading them from JSONL with errors that name the file, line and field.

- pointwise (and checklist, checkeval): ``{"id", "instruction", "response"[, "reference"]}``
  (for checkeval, ``instruction`` is the article or conversation judged against, and
  ``reference`` the Topical-Chat fact)
- pairwise (and self-taught, self-taught-plan):
  ``{"id", "instruction", "response_a", "response_b"[, "reference"]}``
- reference-guided: either shape, ``reference`` required; every line must have the same shape.

``id`` is a string or an integer (kept as its string) and must be unique. Blank lines are
skipped. Every line is checked before anything is returned, so a malformed file fails before
a single model call is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._jsonio import iter_jsonl, require_object, require_str

__all__ = ["JUDGE_PROTOCOLS", "JudgeProtocol", "PairwiseItem", "PointwiseItem", "read_judge_items"]

JudgeProtocol = Literal[
    "pointwise",
    "pairwise",
    "reference",
    "checklist",
    "self-taught",
    "self-taught-plan",
    "checkeval",
]
JUDGE_PROTOCOLS: tuple[JudgeProtocol, ...] = (
    "pointwise",
    "pairwise",
    "reference",
    "checklist",
    "self-taught",
    "self-taught-plan",
    "checkeval",
)


class PointwiseItem(FrozenResult):
    """One response to rate."""

    id: str = ""
    instruction: str
    response: str
    reference: str | None = None


class PairwiseItem(FrozenResult):
    """Two responses to the same instruction, to compare."""

    id: str = ""
    instruction: str
    response_a: str
    response_b: str
    reference: str | None = None


def read_judge_items(
    path: str | Path, protocol: JudgeProtocol
) -> list[PointwiseItem] | list[PairwiseItem]:
    """Read and validate every line of a JSONL file of items for ``protocol``."""
    if protocol not in JUDGE_PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; use {', '.join(JUDGE_PROTOCOLS)}")
    pointwise: list[PointwiseItem] = []
    pairwise: list[PairwiseItem] = []
    seen: dict[str, int] = {}
    shape: str | None = None
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        item_id = _id(record, path, line)
        if item_id in seen:
            raise InputError(
                f"duplicate id {item_id!r} (first on line {seen[item_id]})",
                path=str(path),
                line=line,
                field="id",
            )
        seen[item_id] = line
        kind = _shape(record, protocol, path, line)
        if shape is not None and kind != shape:
            raise InputError(
                f"a {kind} item in a file of {shape} items; use one shape per file",
                path=str(path),
                line=line,
                field="response" if kind == "pointwise" else "response_a",
            )
        shape = kind
        instruction = require_str(record, "instruction", path=path, line=line)
        reference = _reference(record, protocol == "reference", path, line)
        if kind == "pointwise":
            pointwise.append(
                PointwiseItem(
                    id=item_id,
                    instruction=instruction,
                    response=require_str(record, "response", path=path, line=line),
                    reference=reference,
                )
            )
        else:
            pairwise.append(
                PairwiseItem(
                    id=item_id,
                    instruction=instruction,
                    response_a=require_str(record, "response_a", path=path, line=line),
                    response_b=require_str(record, "response_b", path=path, line=line),
                    reference=reference,
                )
            )
    if not seen:
        raise InputError("no items (the file is empty)", path=str(path))
    return pointwise if shape == "pointwise" else pairwise


def _id(record: Mapping[str, Any], path: str | Path, line: int) -> str:
    if "id" not in record:
        raise InputError("missing field", path=str(path), line=line, field="id")
    value = record["id"]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(
            f"expected a string or integer, got {type(value).__name__}",
            path=str(path),
            line=line,
            field="id",
        )
    return str(value)


def _shape(
    record: Mapping[str, Any], protocol: JudgeProtocol, path: str | Path, line: int
) -> Literal["pointwise", "pairwise"]:
    if protocol in ("pointwise", "checklist", "checkeval"):
        return "pointwise"
    if protocol in ("pairwise", "self-taught", "self-taught-plan"):
        return "pairwise"
    if "response" in record:
        return "pointwise"
    if "response_a" in record or "response_b" in record:
        return "pairwise"
    raise InputError(
        "missing field: a reference-guided item needs 'response' (pointwise) or "
        "'response_a' and 'response_b' (pairwise)",
        path=str(path),
        line=line,
        field="response",
    )


def _reference(
    record: Mapping[str, Any], required: bool, path: str | Path, line: int
) -> str | None:
    if record.get("reference") is None:
        if required:
            raise InputError(
                "missing field (the reference protocol needs a reference answer)",
                path=str(path),
                line=line,
                field="reference",
            )
        return None
    return require_str(record, "reference", path=path, line=line)
