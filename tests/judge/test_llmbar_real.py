"""Recompute LLMBar's published statistics from its real GPT-4 evaluator outputs.

LLMBar (Zeng et al., ICLR 2024) ships, per evaluator and protocol, the raw verdicts
(``result.json``) and the numbers in its paper (``statistics.json``). Our readers and
:func:`pairwise_meta_eval` must reproduce ``correct_average`` (accuracy averaged over both
orders), ``correct_both`` and ``equal`` (positional agreement) exactly, string for string.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.judge.formats import (
    llmbar_statistics_strings,
    pairwise_meta_eval,
    read_llmbar_dataset,
    read_llmbar_result,
    read_llmbar_statistics,
)
from reflectlab.judge.metrics import cohen_kappa
from support.data import SHARED_DATA

LLMBAR = SHARED_DATA / "llmbar" / "Dataset"

pytestmark = pytest.mark.skipif(
    not LLMBAR.is_dir(), reason=f"LLMBar data not found at {LLMBAR} (read-only shared data)"
)


def _gpt4_results() -> list[Path]:
    return sorted(LLMBAR.glob("**/evaluators/GPT-4/*/result.json"))


def test_all_gpt4_statistics_are_reproduced_exactly() -> None:
    results = _gpt4_results()
    # 5 LLMBar subsets (Natural + 4 Adversarial) x 15 GPT-4 protocols.
    assert len(results) == 75
    matched = []
    for result_path in results:
        meta = pairwise_meta_eval(read_llmbar_result(result_path), unparsed_agree=True)
        statistics_path = result_path.with_name("statistics.json")
        published = read_llmbar_statistics(statistics_path)
        ours = llmbar_statistics_strings(meta)
        where = result_path.relative_to(LLMBAR)
        for field in ("correct_average", "correct_both", "equal", "correct_False", "correct_True"):
            assert ours[field] == published.raw[field], f"{where}: {field}"
        assert (meta.n, meta.correct_both, meta.equal) == (
            published.n, published.correct_both, published.equal,
        )  # fmt: skip
        assert meta.accuracy_average is not None
        assert meta.accuracy_average * 100 == published.correct_average_percent
        matched.append(where)
    assert len(matched) == 75


def test_unparsed_verdicts_count_as_positional_agreement() -> None:
    # GPT-4 refused one Manual item under the few-shot protocols (winner null in both
    # orders); LLMBar's `equal` counts that pair as agreeing, and so does its rule here
    # (explicit: unparsed_agree=True). Our own rule leaves that pair out of the agreement.
    path = LLMBAR / "LLMBar/Adversarial/Manual/evaluators/GPT-4/Vanilla_1shot/result.json"
    meta = pairwise_meta_eval(read_llmbar_result(path), unparsed_agree=True)
    assert (meta.unparsed, meta.both_unparsed, meta.equal) == (2, 1, 40)
    assert llmbar_statistics_strings(meta)["equal"] == "40 / 46 = 86.95652173913044%"
    ours = pairwise_meta_eval(read_llmbar_result(path))
    assert (ours.equal, ours.n_both_parsed, ours.positional_agreement) == (39, 45, 39 / 45)


def test_every_statistics_file_parses_and_is_self_consistent() -> None:
    files = sorted(LLMBAR.glob("**/statistics.json"))
    assert len(files) == 499
    for path in files:
        stats = read_llmbar_statistics(path)
        average = (stats.correct_false + stats.correct_true) / 2 / stats.n * 100
        assert f"{average}%" == stats.raw["correct_average"], path


def test_dataset_sizes_match_the_readme() -> None:
    sizes = {
        "LLMBar/Natural": 100,
        "LLMBar/Adversarial/Neighbor": 134,
        "LLMBar/Adversarial/GPTInst": 92,
        "LLMBar/Adversarial/GPTOut": 47,
        "LLMBar/Adversarial/Manual": 46,
        "Processed/FairEval": 66,
        "Processed/MT-Bench": 200,
    }
    for subset, n in sizes.items():
        assert len(read_llmbar_dataset(LLMBAR / subset / "dataset.json")) == n


def test_published_kappa_is_the_mislabelled_one() -> None:
    """LLMBar's kappa_False maps the judge's "1"->1, "2"->0 against gold 1/2. Our kappa,
    fed that same mapping, reproduces the published value; with consistent labels it is the
    real agreement with gold."""
    path = LLMBAR / "LLMBar/Natural/evaluators/GPT-4/Vanilla/result.json"
    records = json.loads(path.read_text(encoding="utf-8"))
    published = read_llmbar_statistics(path.with_name("statistics.json")).raw["kappa_False"]
    winners = [r["results"][-1]["swap = False"]["winner"] for r in records]
    gold = [r["label"] for r in records]
    buggy = cohen_kappa([1 if w == "1" else 0 for w in winners], gold).kappa
    assert buggy == pytest.approx(published, abs=1e-12)
    verdicts = read_llmbar_result(path)
    real = cohen_kappa([v.original or "none" for v in verdicts], [v.gold for v in verdicts])
    assert real.observed_agreement == 0.95
    assert real.kappa is not None and real.kappa > 0.85 > float(published) + 0.5
