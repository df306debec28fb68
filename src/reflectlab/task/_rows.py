"""Reading user files row by row, each row with the line (or row) number errors will name.

Every problem is an :class:`~reflectlab.errors.InputError` naming the file and line, raised
while the task is loaded, before any model is called: a bad row must never crash a run half-way
or be dropped silently. Blank JSONL lines are skipped but still counted, so reported line
numbers match what an editor shows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from reflectlab.errors import ConfigError, InputError

__all__ = ["read_csv", "read_hf_dataset", "read_jsonl", "read_text", "require_field"]

Row = dict[str, Any]


def read_text(path: Path) -> str:
    """The whole file as UTF-8 text (``.gz`` files are decompressed)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=str(path)) from None
    except (OSError, EOFError) as error:
        raise InputError(f"cannot read: {error}", path=str(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", path=str(path)) from None


def read_jsonl(path: Path) -> Iterator[tuple[int, Row]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file (or ``.gz``)."""
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"not valid JSON: {error.msg}", path=str(path), line=number) from None
        if not isinstance(row, dict):
            raise InputError(
                f"expected a JSON object, got {type(row).__name__}", path=str(path), line=number
            )
        yield number, row


def read_csv(path: Path, *, delimiter: str = ",") -> Iterator[tuple[int, Row]]:
    """``(line number, row)`` for each record of a CSV file with a header line.

    The line number is the record's first physical line (a quoted field may span lines).
    """
    reader = csv.reader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None or not any(h.strip() for h in header):
            raise InputError("empty file: expected a header line", path=str(path), line=1)
        header = [h.strip() for h in header]
        duplicates = sorted({h for h in header if header.count(h) > 1})
        if duplicates:
            raise InputError(
                f"duplicate column {duplicates[0]!r} in the header", path=str(path), line=1
            )
        start = reader.line_num + 1
        for values in reader:
            number, start = start, reader.line_num + 1
            if not values or not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise InputError(
                    f"has {len(values)} fields but the header has {len(header)}",
                    path=str(path),
                    line=number,
                )
            yield number, dict(zip(header, values, strict=True))
    except csv.Error as error:
        raise InputError(f"malformed CSV: {error}", path=str(path), line=reader.line_num) from None


_HF_BUILDERS = {
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".jsonl": "json",
    ".json": "json",
    ".csv": "csv",
}


def read_hf_dataset(path: Path, *, split: str = "train") -> Iterator[tuple[int, Row]]:
    """``(row number, row)`` of a local file read with Hugging Face ``datasets``.

    Only local files: the builder is chosen from the suffix (parquet, arrow, json/jsonl, csv).
    Row numbers start at 1 and stand in for line numbers in errors.
    """
    builder = _HF_BUILDERS.get(path.suffix.lower())
    if builder is None:
        raise ConfigError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
            f"expected one of {', '.join(sorted(_HF_BUILDERS))}"
        )
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError:
        raise ConfigError(
            f"reading {path.name} needs the Hugging Face datasets package: pip install datasets"
        ) from None
    try:
        data = datasets.load_dataset(builder, data_files={split: str(path)}, split=split)
    except Exception as error:  # datasets raises many unrelated types for a bad file
        raise InputError(f"datasets could not read the file: {error}", path=str(path)) from None
    for index, row in enumerate(data, start=1):
        if not isinstance(row, dict):
            raise InputError("expected a record", path=str(path), line=index)
        yield index, row


def require_field(
    row: Row, field: str, *, path: Path, line: int, kind: type | tuple[type, ...] = str
) -> Any:
    """``row[field]``, which must exist and be of ``kind`` (a string must be non-blank)."""
    if field not in row or row[field] is None:
        present = ", ".join(sorted(map(str, row))) or "none"
        raise InputError(
            f"missing (fields present: {present})", path=str(path), line=line, field=field
        )
    value = row[field]
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(
            f"must be {names}, got {type(value).__name__}", path=str(path), line=line, field=field
        )
    if isinstance(value, str) and not value.strip():
        raise InputError("must not be empty", path=str(path), line=line, field=field)
    return value
