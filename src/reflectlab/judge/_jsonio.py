"""Reading user JSON / JSONL files with errors that name the file, line and field (private)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from reflectlab.errors import InputError


def load_json(path: str | Path) -> Any:
    """Parse one JSON document; a missing file or bad JSON raises :class:`InputError`."""
    text = _read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno) from exc


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed_object)`` for each non-blank line (1-based numbers)."""
    text = _read_text(path)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield number, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", path=str(path), line=number) from exc


def require_object(
    value: Any,
    *,
    path: str | Path,
    line: int | None = None,
    field: str | None = None,
    what: str = "a JSON object",
) -> Mapping[str, Any]:
    """Return ``value`` if it is a JSON object, else raise :class:`InputError`."""
    if not isinstance(value, dict):
        raise InputError(
            f"expected {what}, got {type(value).__name__}", path=str(path), line=line, field=field
        )
    return value


def require_str(
    record: Mapping[str, Any],
    key: str,
    *,
    path: str | Path,
    line: int | None = None,
    prefix: str = "",
) -> str:
    """``record[key]`` as a string; a missing key or a non-string raises :class:`InputError`."""
    if key not in record:
        raise InputError(f"{prefix}missing field", path=str(path), line=line, field=key)
    value = record[key]
    if not isinstance(value, str):
        raise InputError(
            f"{prefix}expected a string, got {type(value).__name__}",
            path=str(path),
            line=line,
            field=key,
        )
    return value


def _read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError("file not found", path=str(path)) from exc
    except IsADirectoryError as exc:
        raise InputError("is a directory, expected a file", path=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc.reason}", path=str(path)) from exc
