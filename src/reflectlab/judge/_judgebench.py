"""Readers for JudgeBench files (Tan et al., ICLR 2025; github.com/ScalerLab/JudgeBench) (private).

- Pair files (``data/*.jsonl``): one object per line with ``pair_id``, ``question``,
  ``response_A``, ``response_B`` and ``label`` ``"A>B"`` or ``"B>A"`` (optional ``source``).
- Judge output files (``outputs/*.jsonl``): the pair plus ``judgments``, a list of two games.
  Game 1 shows (A, B); game 2 shows (B, A), so its ``decision`` names positions in the SWAPPED
  order: ``"A>B"`` there means the original B won. We flip it back, as JudgeBench's own
  ``flip_judgment`` does. A game is an object with ``decision`` (``"A>B"``, ``"B>A"``,
  ``"A=B"`` or null) or null when the judge call failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reflectlab.errors import InputError
from reflectlab.judge._jsonio import iter_jsonl, require_object, require_str
from reflectlab.judge._pairwise import Gold, PairwiseExample, PairwiseVerdicts, Winner

_DECISIONS: dict[str, Winner] = {
    "A>B": "A",
    "A>>B": "A",
    "B>A": "B",
    "B>>A": "B",
    "A=B": "tie",
    "B=A": "tie",
}
_FLIP: dict[Winner, Winner] = {"A": "B", "B": "A", "tie": "tie"}


def parse_judgebench_decision(decision: str | None, *, swapped: bool = False) -> Winner | None:
    """``"A>B"`` -> ``"A"``, ``"B>A"`` -> ``"B"``, ``"A=B"`` -> ``"tie"``, ``None`` -> ``None``.

    With ``swapped=True`` (the second game, responses shown as (B, A)) the result is mapped
    back to the original positions. Unknown strings raise ``ValueError``.
    """
    if decision is None:
        return None
    winner = _DECISIONS.get(decision.strip())
    if winner is None:
        raise ValueError(f"unknown JudgeBench decision {decision!r}")
    return _FLIP[winner] if swapped else winner


def read_judgebench_pairs(path: str | Path) -> list[PairwiseExample]:
    """Read a JudgeBench pair file (JSONL). Ids are ``pair_id``."""
    pairs = []
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        pairs.append(
            PairwiseExample(
                id=require_str(record, "pair_id", path=path, line=line),
                prompt=require_str(record, "question", path=path, line=line),
                response_a=require_str(record, "response_A", path=path, line=line),
                response_b=require_str(record, "response_B", path=path, line=line),
                gold=_gold(record, path, line),
                source=record.get("source") if isinstance(record.get("source"), str) else None,
            )
        )
    return pairs


def read_judgebench_judgments(path: str | Path) -> list[PairwiseVerdicts]:
    """Read a JudgeBench judge output file (JSONL) with both games per pair.

    Requires exactly two ``judgments`` per line: the two-order meta-evaluation is undefined
    for single-game files (``run_judge.py --single_game``).
    """
    verdicts = []
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        games = record.get("judgments")
        if not isinstance(games, list) or len(games) != 2:
            found = len(games) if isinstance(games, list) else type(games).__name__
            raise InputError(
                f"expected a list of 2 games (both orders), got {found}; single-game files "
                "cannot be meta-evaluated in both orders",
                path=str(path),
                line=line,
                field="judgments",
            )
        verdicts.append(
            PairwiseVerdicts(
                id=require_str(record, "pair_id", path=path, line=line),
                gold=_gold(record, path, line),
                original=_game(games[0], 0, path, line),
                swapped=_game(games[1], 1, path, line),
            )
        )
    return verdicts


def _gold(record: Mapping[str, Any], path: str | Path, line: int) -> Gold:
    label = record.get("label")
    if label == "A>B":
        return "A"
    if label == "B>A":
        return "B"
    raise InputError(
        f"expected 'A>B' or 'B>A', got {label!r}", path=str(path), line=line, field="label"
    )


def _game(game: Any, index: int, path: str | Path, line: int) -> Winner | None:
    if game is None:
        return None
    field = f"judgments[{index}].decision"
    if not isinstance(game, dict) or "decision" not in game:
        raise InputError(
            "expected null or an object with a 'decision'",
            path=str(path),
            line=line,
            field=f"judgments[{index}]",
        )
    decision = game["decision"]
    if decision is not None and not isinstance(decision, str):
        raise InputError(
            f"expected a string or null, got {type(decision).__name__}",
            path=str(path),
            line=line,
            field=field,
        )
    try:
        return parse_judgebench_decision(decision, swapped=index == 1)
    except ValueError as exc:
        raise InputError(
            f"{exc}; expected 'A>B', 'B>A', 'A=B' or null",
            path=str(path),
            line=line,
            field=field,
        ) from exc
