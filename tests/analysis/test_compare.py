"""Paired comparisons: McNemar counts, bootstrap interval, Holm, unequal sample sets, oracle."""

from __future__ import annotations

import re
from typing import Any

import pytest

from reflectlab.analysis import Outcome, compare, group_by_strategy, holm_adjust
from reflectlab.errors import ConfigError, InputError


def _outcomes(strategy: str, correct: list[bool], *, start: int = 0, **kw: Any) -> list[Outcome]:
    return [
        Outcome(strategy=strategy, sample_id=f"s{start + i}", correct_by_round=[ok],
                final_correct=ok, **kw)
        for i, ok in enumerate(correct)
    ]  # fmt: skip


# 20 samples. Against the baseline, "better" gains 8 and loses 2 (b=8, c=2);
# "same" agrees with the baseline everywhere except one gain (b=1, c=0).
BASE = [False] * 8 + [True] * 2 + [True] * 5 + [False] * 5
BETTER = [True] * 8 + [False] * 2 + [True] * 5 + [False] * 5
SAME = [True, *BASE[1:]]


def _groups(**extra: list[Outcome]) -> dict[str, list[Outcome]]:
    groups = {"direct": _outcomes("direct", BASE), "better": _outcomes("better", BETTER)}
    groups.update(extra)
    return groups


def test_counts_accuracies_and_exact_p_by_hand() -> None:
    (c,) = compare(_groups(), "direct")
    assert (c.strategy, c.baseline, c.n_paired) == ("better", "direct", 20)
    assert (c.b, c.c) == (8, 2)
    assert (c.accuracy, c.baseline_accuracy) == (13 / 20, 7 / 20)
    assert c.diff == pytest.approx(6 / 20)
    assert c.p_value == pytest.approx(112 / 1024)  # 2 * P(X <= 2 | 10, 1/2)
    assert c.p_holm == c.p_value  # a family of one
    assert not c.significant
    assert c.diff_ci_low < c.diff < c.diff_ci_high
    assert not c.sets_differ and not c.oracle_assisted


def test_verdict_sentence() -> None:
    (c,) = compare(_groups(), "direct")
    pattern = (
        r"better vs direct: \+30\.0 points, 95 % CI \[[+-]\d+\.\d, \+\d+\.\d\], "
        r"not significant \(Holm p=0\.11\)"
    )
    assert re.fullmatch(pattern, c.verdict), c.verdict


def test_no_discordant_pairs_says_the_test_cannot_tell() -> None:
    # n = 8, both strategies right on the same 3 samples: the bootstrap interval is
    # [+0.0, +0.0], which must not read as certainty.
    same = [True, True, True, False, False, False, False, False]
    groups = {"direct": _outcomes("direct", same), "self_refine": _outcomes("self_refine", same)}
    (c,) = compare(groups, "direct")
    assert (c.b, c.c, c.diff_ci_low, c.diff_ci_high) == (0, 0, 0.0, 0.0)
    assert "no discordant pairs (b = c = 0: on all n = 8 samples both were right" in c.verdict
    assert "n = 8" in c.verdict and "cannot tell them apart" in c.verdict
    assert "CI [+0.0, +0.0]" not in c.verdict
    assert c.verdict.endswith("not significant (Holm p=1)")


def test_holm_across_the_strategies_of_one_call() -> None:
    same = _outcomes("same", SAME)
    comps = compare(_groups(same=same), "direct")
    assert [c.strategy for c in comps] == ["better", "same"]
    raw = [c.p_value for c in comps]
    assert raw == pytest.approx([112 / 1024, 1.0])
    assert [c.p_holm for c in comps] == pytest.approx(holm_adjust(raw))
    assert comps[0].p_holm == pytest.approx(2 * 112 / 1024)


def test_significance_uses_the_holm_adjusted_p() -> None:
    # b=10, c=0: p = 2 / 1024 ~ 0.002, significant alone and after doubling
    strong = [True] * 10 + [False] * 10
    weak = [False] * 10 + [False] * 10
    groups = {"base": _outcomes("base", weak), "strong": _outcomes("strong", strong)}
    (c,) = compare(groups, "base")
    assert c.p_value == pytest.approx(2 / 1024)
    assert c.significant
    assert "significant (Holm p=0.002)" in c.verdict and "not significant" not in c.verdict
    # at alpha=0.001 the same evidence is not enough
    (strict,) = compare(groups, "base", alpha=0.001)
    assert not strict.significant


def test_a_raw_p_below_alpha_is_not_significant_after_holm() -> None:
    # b=6, c=0: raw p = 2 / 64 = 0.031; with a second comparison (p=1) Holm makes it 0.0625
    lucky = [True] * 6 + [False] * 14
    base = [False] * 20
    groups = {
        "base": _outcomes("base", base),
        "lucky": _outcomes("lucky", lucky),
        "flat": _outcomes("flat", base),
    }
    lucky_vs_base, _ = compare(groups, "base")
    assert lucky_vs_base.p_value == pytest.approx(2 / 64)
    assert lucky_vs_base.p_holm == pytest.approx(4 / 64)
    assert not lucky_vs_base.significant
    assert "not significant (Holm p=0.062)" in lucky_vs_base.verdict


def test_bootstrap_is_deterministic_and_independent_of_other_strategies() -> None:
    alone = compare(_groups(), "direct", seed=3)[0]
    again = compare(_groups(), "direct", seed=3)[0]
    with_other = compare(_groups(same=_outcomes("same", SAME)), "direct", seed=3)[0]
    assert (alone.diff_ci_low, alone.diff_ci_high) == (again.diff_ci_low, again.diff_ci_high)
    assert (alone.diff_ci_low, alone.diff_ci_high) == (
        with_other.diff_ci_low,
        with_other.diff_ci_high,
    )
    assert with_other.p_holm > alone.p_holm  # only Holm sees the other strategy


def test_mismatched_sample_sets_are_flagged_or_refused() -> None:
    # "partial" ran 15 of the 20 samples plus 2 the baseline never saw
    partial = _outcomes("partial", BETTER[:15]) + _outcomes("partial", [True, True], start=100)
    groups = _groups(partial=partial)
    (c,) = compare(groups, "direct", strategies=["partial"])
    assert (c.n_paired, c.only_in_strategy, c.only_in_baseline) == (15, 2, 5)
    assert c.sets_differ
    assert c.verdict.endswith(
        "sample sets differ: paired on 15, 2 only in partial, 5 only in direct"
    )
    # accuracies are computed on the paired samples only
    assert c.accuracy == pytest.approx(sum(BETTER[:15]) / 15)
    with pytest.raises(InputError, match="different samples"):
        compare(groups, "direct", strategies=["partial"], require_same_samples=True)
    disjoint = {"direct": _outcomes("direct", BASE), "other": _outcomes("x", BASE, start=50)}
    with pytest.raises(InputError, match="share no sample"):
        compare(disjoint, "direct")


def test_oracle_on_either_side_marks_the_comparison() -> None:
    oracle = _outcomes("reflexion", BETTER, oracle_assisted=True, feedback_kinds=["oracle"])
    (c,) = compare({"direct": _outcomes("direct", BASE), "reflexion": oracle}, "direct")
    assert c.oracle_assisted
    assert c.verdict.startswith("ORACLE-ASSISTED: reflexion vs direct")
    oracle_base = _outcomes("direct", BASE, feedback_kinds=["oracle"])
    (d,) = compare({"direct": oracle_base, "better": _outcomes("better", BETTER)}, "direct")
    assert d.oracle_assisted


def test_matched_baseline_budget_appears_in_the_verdict() -> None:
    matched = _outcomes("sc@better", BASE, baseline_of="better", budget_mode="equal-tokens")
    (c,) = compare({"sc@better": matched, "better": _outcomes("better", BETTER)}, "sc@better")
    assert c.budget_mode == "equal-tokens"
    assert c.verdict.startswith("better vs sc@better at equal tokens: +30.0 points")


def test_unknown_names_and_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="'cot'"):
        compare(_groups(), "cot")
    with pytest.raises(ConfigError, match="'nope'"):
        compare(_groups(), "direct", strategies=["nope"])
    with pytest.raises(ConfigError, match="itself"):
        compare(_groups(), "direct", strategies=["direct"])
    with pytest.raises(ConfigError, match="alpha"):
        compare(_groups(), "direct", alpha=1.5)


def test_group_by_strategy_keeps_order_and_refuses_duplicates() -> None:
    outs = _outcomes("b", [True]) + _outcomes("a", [True, False])
    assert list(group_by_strategy(outs)) == ["b", "a"]
    with pytest.raises(InputError, match="two outcomes"):
        group_by_strategy(outs + _outcomes("a", [False]))
