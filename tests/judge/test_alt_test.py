"""Tests for the Alternative Annotator Test (Calderon, Reichart & Dror, ACL 2025)."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from scipy import stats

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge.alt_test import (
    EPSILON_PRESETS,
    alt_test,
    benjamini_yekutieli,
    by_thresholds,
    load_alt_test_inputs,
    one_sided_t_pvalue,
)

# ---------------------------------------------------------------- Benjamini-Yekutieli


def test_by_thresholds_match_hand_computation() -> None:
    # m = 4: sum 1/i = 25/12, threshold_k = (k/4) * 0.05 * 12/25 = 0.006 k
    assert by_thresholds(4, 0.05) == pytest.approx([0.006, 0.012, 0.018, 0.024])
    assert by_thresholds(1, 0.05) == pytest.approx([0.05])
    assert by_thresholds(0) == []


def test_by_is_step_up_and_returns_input_order() -> None:
    # sorted: 0.001 <= .006 yes, 0.013 > .012 no, 0.017 <= .018 yes, 0.5 no
    # -> the largest passing rank is 3, so ranks 1..3 are rejected (rank 2 included).
    p = [0.5, 0.017, 0.001, 0.013]
    assert benjamini_yekutieli(p, 0.05) == [False, True, True, True]


def test_by_is_not_benjamini_hochberg() -> None:
    # BH would reject 0.01 (threshold 0.0125); BY's threshold is 0.006.
    assert benjamini_yekutieli([0.01, 0.5, 0.6, 0.7], 0.05) == [False] * 4
    assert benjamini_yekutieli([0.006, 0.5, 0.6, 0.7], 0.05) == [True, False, False, False]


def test_by_with_equal_p_values_rejects_both() -> None:
    # m = 2: thresholds 0.05/1.5 * (1/2, 1) = 0.01667, 0.0333; both p=0.03 pass at rank 2.
    assert benjamini_yekutieli([0.03, 0.03], 0.05) == [True, True]


# ---------------------------------------------------------------- t-test


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.15, 0.2])
def test_t_pvalue_matches_scipy_ttest_1samp(seed: int, epsilon: float) -> None:
    rng = random.Random(seed)
    d = [rng.choice([-1.0, 0.0, 0.0, 1.0]) for _ in range(rng.randint(5, 80))]
    if len(set(d)) == 1:
        d[0] = 1.0 if d[0] != 1.0 else 0.0
    expected = stats.ttest_1samp(d, epsilon, alternative="less").pvalue
    assert one_sided_t_pvalue(d, epsilon) == pytest.approx(expected, rel=1e-12, abs=1e-300)


def test_t_pvalue_zero_variance_is_decided_explicitly() -> None:
    assert one_sided_t_pvalue([0.0] * 30, 0.2) == 0.0  # mean 0 < 0.2: t = -inf
    assert one_sided_t_pvalue([-1.0] * 30, 0.2) == 0.0
    assert one_sided_t_pvalue([1.0] * 30, 0.2) == 1.0  # mean 1 >= 0.2: nothing to reject
    assert one_sided_t_pvalue([0.0] * 30, 0.0) == 1.0  # mean == epsilon: H0 holds
    with pytest.raises(ConfigError):
        one_sided_t_pvalue([0.0], 0.2)


# ---------------------------------------------------------------- the procedure, by hand


def _three_humans() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    humans = {
        "h1": {"i1": "a", "i2": "b", "i3": "a"},
        "h2": {"i1": "a", "i2": "b", "i3": "b"},
        "h3": {"i1": "b", "i2": "b", "i3": "b"},
    }
    return humans, {"i1": "a", "i2": "a", "i3": "b"}


def test_hand_computed_small_case_with_ties() -> None:
    humans, llm = _three_humans()
    result = alt_test(humans, llm, epsilon=0.2, min_instances=3)
    by_name = {o.annotator: o for o in result.per_annotator}
    # h1: i1 R={a,b}: 0.5 vs 0.5 tie (W_f=W_h=1, d=0); i2 R={b,b}: LLM 0 < 1 (d=1);
    #     i3 R={b,b}: LLM 1 > 0 (d=-1).  d = [0, 1, -1], W_f = [1, 0, 1]
    # h2: i1 R={a,b} tie (0); i2 R={b,b} LLM loses (1); i3 R={a,b} tie (0). d = [0, 1, 0]
    # h3: i1 R={a,a}: LLM 1 > 0 (-1); i2 LLM loses (1); i3 R={a,b} tie (0). d = [-1, 1, 0]
    expected_d = {"h1": [0, 1, -1], "h2": [0, 1, 0], "h3": [-1, 1, 0]}
    for name, d in expected_d.items():
        outcome = by_name[name]
        mean = sum(d) / 3
        sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 2)
        t = (mean - 0.2) / (sd / math.sqrt(3))
        assert outcome.n == 3
        assert outcome.mean_d == pytest.approx(mean)
        assert outcome.advantage_rate == pytest.approx(2 / 3)
        assert outcome.p_value == pytest.approx(stats.t.cdf(t, df=2))
    assert by_name["h1"].human_rate == pytest.approx(2 / 3)
    assert by_name["h2"].human_rate == pytest.approx(1.0)
    assert result.advantage_probability == pytest.approx(2 / 3)
    assert result.winning_rate == 0.0 and not result.passed
    assert result.n_instances == 3


def test_neg_rmse_hand_computed() -> None:
    humans = {"h1": {"i1": 1, "i2": 5}, "h2": {"i1": 2, "i2": 5}, "h3": {"i1": 4, "i2": 3}}
    llm = {"i1": 2, "i2": 4}
    result = alt_test(humans, llm, metric="neg_rmse", min_instances=2, epsilon=0.1)
    h3 = next(o for o in result.per_annotator if o.annotator == "h3")
    # i1 R={1,2}: LLM 2 -> -sqrt((1+0)/2) = -0.707; h3 4 -> -sqrt((9+4)/2) = -2.55: LLM wins
    # i2 R={5,5}: LLM 4 -> -1; h3 3 -> -2: LLM wins.  d = [-1, -1], zero variance -> p = 0
    assert h3.mean_d == -1.0 and h3.advantage_rate == 1.0 and h3.p_value == 0.0
    with pytest.raises(ConfigError, match="numeric"):
        alt_test({"h1": {"i": "x"}, "h2": {"i": "y"}}, {"i": "x"}, metric="neg_rmse")


def test_drops_instances_and_skips_small_annotators() -> None:
    rng = random.Random(1)
    humans: dict[str, dict[str, str | None]] = {
        h: {f"i{k}": rng.choice("ab") for k in range(40)} for h in ("h1", "h2", "h3")
    }
    humans["small"] = {f"i{k}": rng.choice("ab") for k in range(10)}
    humans["h1"]["only_one"] = "a"  # a single human label: dropped
    humans["h2"]["i0"] = None  # null = not annotated
    llm: dict[str, str | None] = {f"i{k}": "a" for k in range(1, 40)}  # i0 has no LLM label
    result = alt_test(humans, llm, min_instances=30)
    assert result.n_dropped_few_humans == 1
    assert result.n_dropped_no_llm == 1
    assert result.n_instances == 39
    assert [(s.annotator, s.n) for s in result.skipped_annotators] == [("small", 9)]
    assert [o.annotator for o in result.per_annotator] == ["h1", "h2", "h3"]
    assert all(o.n == 39 for o in result.per_annotator)
    assert result.winning_rate == sum(o.rejected for o in result.per_annotator) / 3


def _simulated(seed: int, llm_kind: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Five annotators who are right 70% of the time on 100 four-class items."""
    rng = random.Random(seed)
    truth = {f"i{k}": rng.choice("abcd") for k in range(100)}
    humans = {
        f"h{a}": {
            i: t if rng.random() < 0.7 else rng.choice([c for c in "abcd" if c != t])
            for i, t in truth.items()
        }
        for a in range(5)
    }
    if llm_kind == "majority":
        llm = {i: Counter(h[i] for h in humans.values()).most_common(1)[0][0] for i in truth}
    else:
        llm = {i: rng.choice("abcd") for i in truth}
    return humans, llm


@pytest.mark.parametrize("seed", range(3))
def test_llm_identical_to_majority_passes(seed: int) -> None:
    result = alt_test(*_simulated(seed, "majority"), epsilon="expert")
    assert result.passed and result.winning_rate == 1.0
    assert result.advantage_probability > 0.9


@pytest.mark.parametrize("seed", range(3))
def test_random_llm_fails(seed: int) -> None:
    result = alt_test(*_simulated(seed, "random"), epsilon="expert")
    assert not result.passed and result.winning_rate == 0.0
    assert all(not o.rejected for o in result.per_annotator)


def test_result_fields_and_json() -> None:
    result = alt_test(*_simulated(0, "majority"), epsilon="crowd", q=0.05)
    dumped = json.loads(json.dumps(result.model_dump()))
    assert dumped["epsilon"] == EPSILON_PRESETS["crowd"] == 0.1
    assert dumped["q"] == 0.05 and dumped["metric"] == "accuracy"
    assert set(dumped["per_annotator"][0]) >= {
        "annotator", "n", "p_value", "rejected", "mean_d", "advantage_rate",
    }  # fmt: skip
    ranks = sorted(o["by_rank"] for o in dumped["per_annotator"])
    assert ranks == [1, 2, 3, 4, 5]


def test_bad_options() -> None:
    humans, llm = _three_humans()
    with pytest.raises(ConfigError, match="preset"):
        alt_test(humans, llm, epsilon="novice")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="q must"):
        alt_test(humans, llm, q=0.0)
    with pytest.raises(ConfigError, match="min_instances"):
        alt_test(humans, llm, min_instances=1)
    with pytest.raises(ConfigError, match="at least 30 usable"):
        alt_test(humans, llm)


# ---------------------------------------------------------------- loading files


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_flat_and_nested_llm_files(tmp_path: Path) -> None:
    humans = _write(tmp_path / "h.json", {"h1": {"i1": "a"}, "h2": {"i1": "b", "i2": None}})
    flat = _write(tmp_path / "flat.json", {"i1": "a", "i2": 3})
    got_humans, got_llm = load_alt_test_inputs(humans, flat)
    assert got_humans == {"h1": {"i1": "a"}, "h2": {"i1": "b", "i2": None}}
    assert got_llm == {"i1": "a", "i2": 3}
    nested = _write(tmp_path / "nested.json", {"gpt": {"i1": "a"}, "llama": {"i1": "b"}})
    assert load_alt_test_inputs(humans, nested, llm_name="llama")[1] == {"i1": "b"}
    with pytest.raises(InputError, match="2 LLMs"):
        load_alt_test_inputs(humans, nested)
    with pytest.raises(InputError, match="no LLM named"):
        load_alt_test_inputs(humans, nested, llm_name="claude")
    single = _write(tmp_path / "single.json", {"gpt": {"i1": "a"}})
    assert load_alt_test_inputs(humans, single)[1] == {"i1": "a"}


def test_load_errors_name_file_line_and_field(tmp_path: Path) -> None:
    llm = _write(tmp_path / "llm.json", {"i1": "a"})
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{\n  "h1": {"i1": "a"},\n  "h2": oops\n}', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.json, line 3: invalid JSON"):
        load_alt_test_inputs(bad_json, llm)
    not_nested = _write(tmp_path / "flat_humans.json", {"h1": "a"})
    with pytest.raises(InputError, match="field 'h1'") as info:
        load_alt_test_inputs(not_nested, llm)
    assert info.value.path == str(not_nested)
    bad_label = _write(tmp_path / "list_label.json", {"h1": {"i1": ["a"]}})
    with pytest.raises(InputError, match=r"field 'h1\.i1'.*got list"):
        load_alt_test_inputs(bad_label, llm)
    with pytest.raises(InputError, match="file not found"):
        load_alt_test_inputs(tmp_path / "missing.json", llm)
    humans = _write(tmp_path / "h.json", {"h1": {"i1": "a"}})
    with pytest.raises(InputError, match="expected a JSON object"):
        load_alt_test_inputs(humans, _write(tmp_path / "list.json", ["a"]))
