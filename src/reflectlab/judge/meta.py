"""Meta-evaluation of a pairwise judge against gold labels: run it, or read its verdicts.

- :func:`judge_pairs` runs a :class:`~reflectlab.judge.protocols.PairwiseJudge` (both orders)
  on labelled pairs and returns :class:`~reflectlab.judge.formats.PairwiseVerdicts`.
- :func:`read_pairs` reads labelled pairs: LLMBar ``dataset.json``, JudgeBench pair ``.jsonl``,
  or our JSONL ``{"id", "instruction", "response_a", "response_b", "label": "A"|"B"}``.
- :func:`read_verdicts` reads verdicts: LLMBar ``result.json``, JudgeBench output ``.jsonl``
  (via :mod:`reflectlab.judge.formats`), or the JSONL written by ``reflectlab judge --protocol
  pairwise`` (``id``, ``original``, ``swapped``), joined with the pairs' labels by ``id``.
- :func:`meta_eval_report`: :func:`~reflectlab.judge.formats.pairwise_meta_eval` plus a
  headline accuracy under the benchmark's own rule and Cohen's kappa.

Headline accuracy rules: LLMBar reports the mean accuracy over the two orders (its "Acc.");
JudgeBench a net vote over the two orders (ties and missing verdicts vote 0); for our JSONL,
the protocol's own rule: a pair is correct only when both orders name the gold response.
``kappa_vs_gold`` compares each pair's both-orders verdict (the agreed label, else
``inconsistent``; ``unparsed`` if an order has no verdict) with gold; ``kappa_orders`` the
original-order verdicts with the swapped ones (chance-corrected positional agreement) over the
pairs with both orders parsed.

Unparsed verdicts are counted, never guessed, and a number with no parsed data behind it is
``None`` (JSON null, "n/a" in the table) next to its count. Positional agreement follows our rule
(pairs with both orders parsed) unless ``unparsed_agree=True``: LLMBar's ``evaluate.py`` counts
a pair unparsed in both orders as agreeing, and only the reproduction of LLMBar's own
``result.json`` files (``reflectlab meta-eval --format llmbar --verdicts``) uses that rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._gather import gather_limited
from reflectlab.judge._jsonio import iter_jsonl, require_object, require_str
from reflectlab.judge._pairwise import Gold, PairwiseExample, PairwiseVerdicts, Winner
from reflectlab.judge.formats import (
    PairwiseMetaEval,
    pairwise_meta_eval,
    read_judgebench_pairs,
    read_llmbar_dataset,
    read_pairwise_verdicts,
)
from reflectlab.judge.metrics import CohenKappaResult, cohen_kappa
from reflectlab.judge.protocols import PairwiseJudge, PairwiseJudgment

__all__ = [
    "MetaEvalReport",
    "PairsFormat",
    "judge_pairs",
    "meta_eval_report",
    "read_pairs",
    "read_verdicts",
]

PairsFormat = Literal["llmbar", "judgebench", "jsonl"]
_FORMATS = ("llmbar", "judgebench", "jsonl")
_RULES = {
    "llmbar": "mean accuracy over the two orders (LLMBar Acc.)",
    "judgebench": "net vote over the two orders (JudgeBench)",
    "jsonl": "correct in both orders (a verdict counts only when both orders agree)",
}
_AGREE_RULES = {
    False: "over pairs with both orders parsed",
    True: "LLMBar rule: a pair unparsed in both orders counts as agreeing",
}
_WINNERS: dict[str, Winner] = {"A": "A", "B": "B", "tie": "tie", "C": "tie"}


class MetaEvalReport(FrozenResult):
    """Headline numbers plus the full :class:`PairwiseMetaEval` and kappa details."""

    format: PairsFormat
    n: int
    accuracy: float | None
    accuracy_rule: str
    positional_agreement: float | None
    positional_agreement_rule: str
    kappa_vs_gold: float | None
    kappa_orders: float | None
    n_verdicts: int
    unparsed_verdicts: int
    n_both_parsed: int
    meta: PairwiseMetaEval
    kappa_vs_gold_detail: CohenKappaResult | None
    kappa_orders_detail: CohenKappaResult | None


def read_pairs(path: str | Path, fmt: PairsFormat) -> list[PairwiseExample]:
    """Labelled pairs in ``fmt`` (see the module docstring)."""
    _check_format(fmt)
    if fmt == "llmbar":
        return read_llmbar_dataset(path)
    if fmt == "judgebench":
        return read_judgebench_pairs(path)
    pairs: list[PairwiseExample] = []
    seen: set[str] = set()
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        pair_id = _id(record, path, line)
        if pair_id in seen:
            raise InputError(f"duplicate id {pair_id!r}", path=str(path), line=line, field="id")
        seen.add(pair_id)
        label = record.get("label")
        if label not in ("A", "B"):
            raise InputError(
                f"expected 'A' or 'B', got {label!r}", path=str(path), line=line, field="label"
            )
        pairs.append(
            PairwiseExample(
                id=pair_id,
                prompt=require_str(record, "instruction", path=path, line=line),
                response_a=require_str(record, "response_a", path=path, line=line),
                response_b=require_str(record, "response_b", path=path, line=line),
                gold="A" if label == "A" else "B",
            )
        )
    if not pairs:
        raise InputError("no pairs (the file is empty)", path=str(path))
    return pairs


def read_verdicts(
    path: str | Path, fmt: PairsFormat, pairs: Sequence[PairwiseExample] | None = None
) -> list[PairwiseVerdicts]:
    """Verdicts in both orders. For ``llmbar``/``judgebench`` the file carries the gold
    labels; ``pairs``, if given, must agree with them. ``jsonl`` needs ``pairs`` for gold."""
    _check_format(fmt)
    if fmt != "jsonl":
        verdicts = read_pairwise_verdicts(path, fmt)
        if pairs is not None:
            gold = {p.id: p.gold for p in pairs}
            for v in verdicts:
                if gold.get(v.id, v.gold) != v.gold or v.id not in gold:
                    raise InputError(
                        f"pair {v.id!r} is not in the pairs file, or its gold label differs",
                        path=str(path),
                        field="id",
                    )
        return verdicts
    if pairs is None:
        raise ConfigError("jsonl verdicts carry no gold labels: give the pairs file too")
    gold = {p.id: p.gold for p in pairs}
    verdicts = []
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        pair_id = _id(record, path, line)
        if pair_id not in gold:
            raise InputError(
                f"id {pair_id!r} is not in the pairs file", path=str(path), line=line, field="id"
            )
        verdicts.append(
            PairwiseVerdicts(
                id=pair_id,
                gold=gold[pair_id],
                original=_order(record, "original", path, line),
                swapped=_order(record, "swapped", path, line),
            )
        )
    if not verdicts:
        raise InputError("no verdicts (the file is empty)", path=str(path))
    return verdicts


async def judge_pairs(
    judge: PairwiseJudge, pairs: Sequence[PairwiseExample], *, concurrency: int = 8
) -> list[tuple[PairwiseVerdicts, PairwiseJudgment]]:
    """Run ``judge`` on every pair (both orders); verdicts with their judgments."""
    if not pairs:
        raise ConfigError("judge_pairs needs at least one pair")
    judgments = await gather_limited(
        [partial(judge.judge, p.prompt, p.response_a, p.response_b) for p in pairs], concurrency
    )
    return [
        (j.to_pairwise_verdicts(p.id, p.gold), j) for p, j in zip(pairs, judgments, strict=True)
    ]


def meta_eval_report(
    verdicts: Sequence[PairwiseVerdicts], fmt: PairsFormat, *, unparsed_agree: bool = False
) -> MetaEvalReport:
    """Accuracy under ``fmt``'s rule, positional agreement and kappa (module docstring).

    ``unparsed_agree=True``: LLMBar's positional-agreement rule, for its own files only."""
    _check_format(fmt)
    meta = pairwise_meta_eval(verdicts, unparsed_agree=unparsed_agree)
    accuracy = {
        "llmbar": meta.accuracy_average,
        "judgebench": meta.net_vote_accuracy,
        "jsonl": meta.accuracy_both,
    }[fmt]
    vs_gold = orders = None
    if meta.n_both_parsed:
        gold: list[Gold] = [v.gold for v in verdicts]
        vs_gold = cohen_kappa([_final(v) for v in verdicts], list(gold))
        paired = [
            v
            for v in verdicts
            if unparsed_agree or (v.original is not None and v.swapped is not None)
        ]
        orders = cohen_kappa(
            [v.original or "unparsed" for v in paired], [v.swapped or "unparsed" for v in paired]
        )
    return MetaEvalReport(
        format=fmt,
        n=meta.n,
        accuracy=accuracy,
        accuracy_rule=_RULES[fmt],
        positional_agreement=meta.positional_agreement,
        positional_agreement_rule=_AGREE_RULES[unparsed_agree],
        kappa_vs_gold=None if vs_gold is None else vs_gold.kappa,
        kappa_orders=None if orders is None else orders.kappa,
        n_verdicts=2 * meta.n,
        unparsed_verdicts=meta.unparsed,
        n_both_parsed=meta.n_both_parsed,
        meta=meta,
        kappa_vs_gold_detail=vs_gold,
        kappa_orders_detail=orders,
    )


def _final(v: PairwiseVerdicts) -> str:
    if v.original is None or v.swapped is None:
        return "unparsed"
    return v.original if v.original == v.swapped else "inconsistent"


def _check_format(fmt: str) -> None:
    if fmt not in _FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; use llmbar, judgebench or jsonl")


def _id(record: Mapping[str, Any], path: str | Path, line: int) -> str:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(
            f"expected a string or integer id, got {value!r}", path=str(path), line=line, field="id"
        )
    return str(value)


def _order(record: Mapping[str, Any], key: str, path: str | Path, line: int) -> Winner | None:
    """``"A"``/``"B"``/``"tie"``/null, or an object with a ``verdict`` (as ``judge`` writes)."""
    if key not in record:
        raise InputError("missing field", path=str(path), line=line, field=key)
    value = record[key]
    field = key
    if isinstance(value, dict):
        value, field = value.get("verdict"), f"{key}.verdict"
    if value is None:
        return None
    if isinstance(value, str) and value in _WINNERS:
        return _WINNERS[value]
    raise InputError(
        f"expected 'A', 'B', 'tie' or null, got {value!r}", path=str(path), line=line, field=field
    )
