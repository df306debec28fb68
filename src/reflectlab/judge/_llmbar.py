"""Readers for LLMBar files (Zeng et al., ICLR 2024; github.com/princeton-nlp/LLMBar) (private).

Layout: ``Dataset/<subset>/dataset.json`` and, per evaluator and protocol,
``Dataset/<subset>/evaluators/<model>/<protocol>/{result.json,statistics.json}``.

- ``dataset.json``: a list of ``{"input", "output_1", "output_2", "label": 1|2}``.
- ``result.json``: the same records plus ``"results"``, a list of steps; the last step holds
  ``{"swap = False": {"winner": "1"|"2"|null, ...}, "swap = True": {...}}``. Earlier steps
  are auxiliary generations (metrics, reference answers, the first Swap round). The
  ``swap = True`` winner is already mapped back to the original numbering by ``evaluate.py``.
- ``statistics.json``: ``correct_False``/``correct_True`` (accuracy with the outputs in the
  original / swapped order), ``correct_average`` (their mean, the paper's Acc.),
  ``correct_both``, ``equal`` (positional agreement, the paper's Agr.), all as strings like
  ``"95 / 100 = 95.0%"``; and ``kappa_*`` floats, which are NOT Cohen's kappa against gold:
  ``evaluate.py`` maps the judge's ``"1"`` to 1 and ``"2"`` to 0 while gold stays 1/2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reflectlab.errors import InputError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._jsonio import load_json, require_object, require_str
from reflectlab.judge._pairwise import Gold, PairwiseExample, PairwiseVerdicts, Winner

_FRACTION = re.compile(r"^(\d+) / (\d+) = (-?[0-9.e+-]+|nan|inf)%$")
_PERCENT = re.compile(r"^(-?[0-9.e+-]+|nan|inf)%$")
_COUNT_FIELDS = ("correct_False", "correct_True", "correct_both", "equal")
_WINNERS: dict[str, Winner] = {"1": "A", "2": "B"}


class LLMBarStatistics(FrozenResult):
    """A parsed ``statistics.json``. Counts are out of ``n``; ``raw`` keeps every field
    verbatim (including the invalid ``kappa_*`` values, see the module docstring)."""

    n: int
    correct_false: int
    correct_true: int
    correct_both: int
    equal: int
    correct_average_percent: float
    raw: dict[str, str | float]


def read_llmbar_dataset(path: str | Path) -> list[PairwiseExample]:
    """Read an LLMBar ``dataset.json`` (or a ``result.json``, ignoring its ``results``).

    Ids are the record positions (``"0"``, ``"1"``, ...); ``gold`` is ``"A"`` for label 1.
    """
    records = _records(path)
    return [
        PairwiseExample(
            id=str(index),
            prompt=require_str(record, "input", path=path, prefix=f"record {index}: "),
            response_a=require_str(record, "output_1", path=path, prefix=f"record {index}: "),
            response_b=require_str(record, "output_2", path=path, prefix=f"record {index}: "),
            gold=_gold(record, index, path),
        )
        for index, record in enumerate(records)
    ]


def read_llmbar_result(path: str | Path) -> list[PairwiseVerdicts]:
    """Read an evaluator's ``result.json``: the final step's verdict in both orders."""
    verdicts = []
    for index, record in enumerate(_records(path)):
        steps = record.get("results")
        if not isinstance(steps, list) or not steps:
            raise InputError(
                f"record {index}: expected a non-empty list", path=str(path), field="results"
            )
        final = require_object(
            steps[-1], path=path, field="results[-1]", what=f"record {index}: an object"
        )
        verdicts.append(
            PairwiseVerdicts(
                id=str(index),
                gold=_gold(record, index, path),
                original=_winner(final, "swap = False", index, path),
                swapped=_winner(final, "swap = True", index, path),
            )
        )
    return verdicts


def read_llmbar_statistics(path: str | Path) -> LLMBarStatistics:
    """Parse an evaluator's ``statistics.json`` into counts (strings kept in ``raw``)."""
    raw = require_object(load_json(path), path=path)
    counts: dict[str, int] = {}
    totals: set[int] = set()
    for key in _COUNT_FIELDS:
        value = raw.get(key)
        match = _FRACTION.match(value) if isinstance(value, str) else None
        if match is None:
            raise InputError(
                f"expected a string like '95 / 100 = 95.0%', got {value!r}",
                path=str(path),
                field=key,
            )
        counts[key] = int(match.group(1))
        totals.add(int(match.group(2)))
    if len(totals) != 1:
        raise InputError(f"the fields disagree on the item count: {sorted(totals)}", path=str(path))
    average = raw.get("correct_average")
    match = _PERCENT.match(average) if isinstance(average, str) else None
    if match is None:
        raise InputError(
            f"expected a string like '95.5%', got {average!r}",
            path=str(path),
            field="correct_average",
        )
    kept: dict[str, str | float] = {}
    for key, value in raw.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InputError(
                f"expected a string or number, got {type(value).__name__}",
                path=str(path),
                field=key,
            )
        kept[key] = value
    return LLMBarStatistics(
        n=totals.pop(),
        correct_false=counts["correct_False"],
        correct_true=counts["correct_True"],
        correct_both=counts["correct_both"],
        equal=counts["equal"],
        correct_average_percent=float(match.group(1)),
        raw=kept,
    )


def _records(path: str | Path) -> list[dict[str, Any]]:
    data = load_json(path)
    if not isinstance(data, list):
        raise InputError(
            f"expected a JSON list of records, got {type(data).__name__}", path=str(path)
        )
    for index, record in enumerate(data):
        require_object(record, path=path, what=f"record {index} to be an object")
    return data


def _gold(record: Mapping[str, Any], index: int, path: str | Path) -> Gold:
    label = record.get("label")
    if label == 1 and not isinstance(label, bool):
        return "A"
    if label == 2:
        return "B"
    raise InputError(
        f"record {index}: expected 1 or 2, got {label!r}", path=str(path), field="label"
    )


def _winner(final: Mapping[str, Any], key: str, index: int, path: str | Path) -> Winner | None:
    side = final.get(key)
    if not isinstance(side, dict) or "winner" not in side:
        raise InputError(
            f"record {index}: expected an object with a 'winner'",
            path=str(path),
            field=f"results[-1][{key!r}]",
        )
    winner = side["winner"]
    if winner is None:
        return None
    if isinstance(winner, str) and winner in _WINNERS:
        return _WINNERS[winner]
    raise InputError(
        f"record {index}: expected winner '1', '2' or null, got {winner!r}",
        path=str(path),
        field=f"results[-1][{key!r}].winner",
    )
