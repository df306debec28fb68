"""Tests for reflectlab.judge.metrics: hand-computed values and degenerate cases."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pytest
from scipy import stats

from reflectlab.errors import ConfigError
from reflectlab.judge.metrics import (
    accuracy,
    cohen_kappa,
    critic_evaluation,
    kendall,
    krippendorff_alpha,
    label_index,
    spearman,
)
from support.data import SHARED_DATA

DATA = SHARED_DATA


# ---------------------------------------------------------------- accuracy


def test_accuracy_counts_none_as_wrong() -> None:
    result = accuracy(["A", None, "B", "B"], ["A", "A", "B", "A"])
    assert result.model_dump() == {"accuracy": 0.5, "correct": 2, "n": 4, "missing": 1}


def test_accuracy_with_no_parsed_prediction_is_none() -> None:
    result = accuracy([None, None], ["A", "B"])
    assert (result.accuracy, result.correct, result.missing) == (None, 0, 2)


def test_critic_evaluation_with_one_parsed_verdict_keeps_the_convention() -> None:
    r = critic_evaluation([False, False, True], [None, True, None])
    assert (r.tp, r.fn, r.tn, r.unparsed, r.recall, r.note) == (1, 1, 1, 2, 0.5, None)


def test_accuracy_rejects_mismatched_or_empty_input() -> None:
    with pytest.raises(ConfigError, match="2 items"):
        accuracy(["A", "B"], ["A"])
    with pytest.raises(ConfigError, match="at least one"):
        accuracy([], [])


# ---------------------------------------------------------------- Cohen's kappa


def test_kappa_hand_computed_two_by_two() -> None:
    # confusion [[20, 5], [10, 15]]: p_o = 35/50 = 0.7, p_e = (25*30 + 25*20)/2500 = 0.5
    a = ["y"] * 25 + ["n"] * 25
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    result = cohen_kappa(a, b)
    assert result.observed_agreement == pytest.approx(0.7)
    assert result.expected_agreement == pytest.approx(0.5)
    assert result.kappa == pytest.approx(0.4)
    assert result.labels == ["n", "y"]
    assert result.confusion == [[15, 10], [5, 20]]


def test_kappa_uses_one_shared_label_index() -> None:
    # Per-rater indexing (B->0, C->1 for rater a; A->0, B->1 for rater b) would call this
    # perfect agreement. The raters never agree: p_o = 0, p_e = (2*2)/16, kappa = -1/3.
    result = cohen_kappa(["B", "C", "B", "C"], ["A", "B", "A", "B"])
    assert result.labels == ["A", "B", "C"]
    assert result.observed_agreement == 0.0
    assert result.expected_agreement == pytest.approx(0.25)
    assert result.kappa == pytest.approx(-1 / 3)


def test_kappa_numeric_labels_sort_numerically() -> None:
    assert label_index([10, 2], [1]) == [1, 2, 10]
    assert cohen_kappa([1, 2, 10], [1, 2, 10]).kappa == pytest.approx(1.0)


def test_kappa_degenerate_single_shared_label_is_undefined() -> None:
    result = cohen_kappa(["A"] * 5, ["A"] * 5)
    assert result.kappa is None
    assert result.expected_agreement == 1.0
    assert result.observed_agreement == 1.0
    assert result.note is not None and "undefined" in result.note
    json.dumps(result.model_dump())  # None, not NaN: valid JSON


def test_kappa_single_but_different_labels_is_zero() -> None:
    result = cohen_kappa(["A"] * 4, ["B"] * 4)
    assert result.kappa == 0.0
    assert result.note is None


def test_kappa_rejects_type_clash_and_none() -> None:
    with pytest.raises(ConfigError, match="different types"):
        cohen_kappa([1, 2], ["1", "2"])
    with pytest.raises(ConfigError, match="None"):
        with_none: list[Any] = ["A", None]
        cohen_kappa(with_none, ["A", "B"])


# ---------------------------------------------------------------- Krippendorff's alpha


def test_alpha_nominal_hand_computed() -> None:
    # Units (a,a), (a,b), (b,b), (b,b): o_ab = o_ba = 1, n_a = 3, n_b = 5, n = 8.
    # D_o = 2/8, D_e = 2*3*5/(8*7) = 30/56, alpha = 1 - (2/8)/(30/56) = 16/30.
    ratings = {"r1": {"u1": "a", "u2": "a", "u3": "b", "u4": "b"},
               "r2": {"u1": "a", "u2": "b", "u3": "b", "u4": "b"}}  # fmt: skip
    result = krippendorff_alpha(ratings)
    assert result.alpha == pytest.approx(16 / 30)
    assert (result.n_raters, result.n_units, result.n_values) == (2, 4, 8)


def test_alpha_missing_values_krippendorff_example() -> None:
    # The reliability data of Krippendorff's "Computing Krippendorff's alpha-reliability"
    # (2011), 3 coders x 15 units with gaps; published alphas 0.691 nominal, 0.811 interval.
    rows = {
        "A": [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
        "B": [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
        "C": [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
    }
    ratings = {coder: {f"u{j:02d}": v for j, v in enumerate(vals)} for coder, vals in rows.items()}
    nominal = krippendorff_alpha(ratings, level="nominal")
    interval = krippendorff_alpha(ratings, level="interval")
    assert nominal.alpha == pytest.approx(0.691, abs=5e-4)
    assert interval.alpha == pytest.approx(0.811, abs=5e-4)
    # Nominal ignores the label values themselves: renaming the labels changes nothing.
    renamed = {c: {u: None if v is None else f"L{v}" for u, v in by_u.items()}
               for c, by_u in ratings.items()}  # fmt: skip
    assert krippendorff_alpha(renamed).alpha == pytest.approx(nominal.alpha)


def test_alpha_ordinal_text_labels_with_value_order() -> None:
    numeric = {"r1": {"a": 1, "b": 2, "c": 3, "d": 3}, "r2": {"a": 1, "b": 3, "c": 3, "d": 2}}
    names = {1: "low", 2: "mid", 3: "high"}
    text = {r: {u: names[v] for u, v in by_u.items()} for r, by_u in numeric.items()}
    expected = krippendorff_alpha(numeric, level="ordinal").alpha
    got = krippendorff_alpha(text, level="ordinal", value_order=["low", "mid", "high"]).alpha
    assert got == pytest.approx(expected)
    with pytest.raises(ConfigError, match="value_order"):
        krippendorff_alpha(text, level="ordinal")
    with pytest.raises(ConfigError, match="numeric"):
        krippendorff_alpha(text, level="interval")


def test_alpha_degenerate_and_unpairable() -> None:
    same = krippendorff_alpha({"r1": {"a": "x", "b": "x"}, "r2": {"a": "x", "b": "x"}})
    assert same.alpha is None and same.note is not None
    with pytest.raises(ConfigError, match="no unit"):
        krippendorff_alpha({"r1": {"a": "x"}, "r2": {"b": "y"}})


# ---------------------------------------------------------------- rank correlations


def test_spearman_and_kendall_match_scipy_and_drop_none() -> None:
    x = [1.0, 2.0, 3.0, None, 5.0, 6.0, 2.0]
    y = [2.0, 1.0, 4.0, 3.0, None, 7.0, 2.0]
    xs, ys = [1.0, 2.0, 3.0, 6.0, 2.0], [2.0, 1.0, 4.0, 7.0, 2.0]
    rho = spearman(x, y)
    assert (rho.n, rho.n_dropped) == (5, 2)
    assert rho.statistic == pytest.approx(stats.spearmanr(xs, ys).statistic)
    assert rho.p_value == pytest.approx(stats.spearmanr(xs, ys).pvalue)
    tau = kendall(x, y)
    assert tau.method == "kendall_b"
    assert tau.statistic == pytest.approx(stats.kendalltau(xs, ys).statistic)
    tau_c = kendall(x, y, variant="c")
    assert tau_c.statistic == pytest.approx(stats.kendalltau(xs, ys, variant="c").statistic)


def test_correlation_of_constant_scores_is_undefined() -> None:
    result = spearman([3.0, 3.0, 3.0], [1.0, 2.0, 3.0])
    assert result.statistic is None and result.p_value is None
    assert result.note is not None
    with pytest.raises(ConfigError, match="two complete pairs"):
        kendall([1.0, None], [1.0, 2.0])


# ---------------------------------------------------------------- critic evaluation


def test_critic_evaluation_hand_counts() -> None:
    is_correct = [False, False, False, True, True, True, True, False]
    flagged = [True, True, False, True, False, False, None, None]
    r = critic_evaluation(is_correct, flagged)
    # wrong: flagged, flagged, missed, missed(None) -> tp 2, fn 2; correct: 1 flagged -> fp 1
    assert (r.tp, r.fp, r.fn, r.tn, r.unparsed) == (2, 1, 2, 3, 2)
    assert (r.n_wrong, r.n_correct) == (4, 4)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(0.5)
    assert r.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert r.false_positive_rate == pytest.approx(0.25)
    assert r.accuracy == pytest.approx(5 / 8)


def test_critic_evaluation_zero_denominators_are_none() -> None:
    r = critic_evaluation([True, True], [False, False])
    assert r.precision is None and r.recall is None and r.f1 is None
    assert r.false_positive_rate == 0.0
    assert json.loads(json.dumps(r.model_dump()))["precision"] is None


def test_critic_evaluation_on_real_gsm8k_solutions() -> None:
    """A final-answer string-match critic on GPT-3 175B solutions (Cobbe et al., 2021)."""
    path = DATA / "gsm8k" / "example_model_solutions.jsonl"
    if not path.exists():
        pytest.skip(f"GSM8K example solutions not found at {path}")

    def final(text: str) -> str | None:
        found = re.findall(r"A: *(.*)\s*$", text.strip())
        return found[-1].strip() if found else None

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    is_correct = [row["175b_finetuning"]["is_correct"] for row in rows]
    flagged = [
        final(row["175b_finetuning"]["solution"]) != final(row["ground_truth"]) for row in rows
    ]
    r = critic_evaluation(is_correct, flagged)
    assert r.n == 1319
    # Every wrong solution has a different final answer (recall 1); one correct solution
    # writes its answer differently from the reference and is a false positive.
    assert (r.tp, r.fp, r.fn, r.tn) == (861, 1, 0, 457)
    assert r.recall == 1.0
    assert r.false_positive_rate == pytest.approx(1 / 458)
    assert math.isclose(r.precision or 0.0, 861 / 862)
    assert np.isclose(r.f1 or 0.0, 2 * 861 / (2 * 861 + 1))
