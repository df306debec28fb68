"""Per-strategy and whole-run summaries: totals, failures counted, provenance, JSON shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from reflectlab.analysis import Outcome, summarize_run, summarize_strategy
from reflectlab.errors import ConfigError, InputError


def _o(strategy: str, sid: str, rounds: list[bool], **kw: Any) -> Outcome:
    kw.setdefault("final_correct", rounds[-1] if rounds else False)
    kw.setdefault("has_answer", bool(rounds))
    return Outcome(strategy=strategy, sample_id=sid, correct_by_round=rounds, **kw)


def _refine_outcomes() -> list[Outcome]:
    usage = {"calls": 3, "prompt_tokens": 100, "completion_tokens": 20, "cached_tokens": 60}
    return [
        _o("self_refine", "1", [False, True], cost_usd=0.01, wall_s=1.5,
           feedback_kinds=["intrinsic"], stop_reason="verdict correct", **usage),
        _o("self_refine", "2", [True], cost_usd=0.01, wall_s=0.5, cache_hits=1,
           feedback_kinds=["intrinsic"], stop_reason="verdict correct", **usage),
        _o("self_refine", "3", [], cost_usd=0.0, wall_s=0.1, calls=1,
           stop_reason="model_error", error="ProviderUnavailableError: refused"),
        _o("self_refine", "4", [True, False], cost_usd=0.02, wall_s=2.0,
           feedback_kinds=["tool", "intrinsic"], stop_reason="completed", **usage),
    ]  # fmt: skip


def test_strategy_summary_totals_and_failures() -> None:
    s = summarize_strategy(_refine_outcomes())
    assert (s.name, s.n, s.correct, s.accuracy) == ("self_refine", 4, 2, 0.5)
    assert s.ci_low < 0.5 < s.ci_high
    assert s.accuracy_by_round == [0.5, 0.5]
    assert (s.flips_by_round[0].right_wrong, s.flips_by_round[0].wrong_right) == (1, 1)
    assert (s.calls, s.cache_hits) == (10, 1)
    assert (s.prompt_tokens, s.completion_tokens, s.cached_tokens) == (300, 60, 180)
    assert s.total_tokens == 360 and s.tokens_per_sample == 90.0
    assert s.cost_usd == pytest.approx(0.04)
    assert s.cost_per_correct == pytest.approx(0.02)
    assert s.wall_s == pytest.approx(4.1)
    # the unanswered, errored sample stays in the denominator and is counted
    assert (s.no_answer, s.errors) == (1, 1)
    assert s.stop_reasons == {"verdict correct": 2, "model_error": 1, "completed": 1}
    assert s.feedback_kinds == ["intrinsic", "tool"]
    assert (s.oracle_assisted, s.provenance) == (False, "intrinsic+tool")


def test_zero_correct_has_no_cost_per_correct() -> None:
    s = summarize_strategy([_o("cot", "1", [False], cost_usd=0.5)])
    assert s.correct == 0
    assert s.cost_per_correct is None
    assert s.provenance == "none"


def test_oracle_feedback_marks_the_summary_even_without_the_flag() -> None:
    outs = [
        _o("reflexion", "1", [False, True], feedback_kinds=["oracle"]),
        _o("reflexion", "2", [True]),
    ]
    s = summarize_strategy(outs)
    assert s.oracle_assisted
    assert s.provenance == "ORACLE-ASSISTED"
    flagged = summarize_strategy([_o("x", "1", [True], oracle_assisted=True)])
    assert flagged.provenance == "ORACLE-ASSISTED"


def test_duplicate_samples_are_refused_not_double_counted() -> None:
    with pytest.raises(InputError, match="'7'") as info:
        summarize_strategy([_o("cot", "7", [True]), _o("cot", "7", [False])])
    assert info.value.field == "sample_id"


def test_mixed_strategies_or_configurations_are_refused() -> None:
    with pytest.raises(InputError, match="group_by_strategy"):
        summarize_strategy([_o("a", "1", [True]), _o("b", "1", [True])])
    mixed = [
        _o("sc@sr", "1", [True], baseline_of="sr", budget_mode="equal-calls"),
        _o("sc@sr", "2", [True], baseline_of="sr", budget_mode="equal-tokens"),
    ]
    with pytest.raises(InputError, match="budget_mode"):
        summarize_strategy(mixed)
    with pytest.raises(InputError, match="no outcomes"):
        summarize_strategy([])


def test_outcome_rejects_bad_records_naming_the_field() -> None:
    with pytest.raises(ValidationError, match="has_answer"):
        Outcome(strategy="s", sample_id="1", final_correct=True, has_answer=False)
    with pytest.raises(ValidationError, match="calls"):
        Outcome(strategy="s", sample_id="1", final_correct=False, calls=-1)
    with pytest.raises(ValidationError, match="cost_usd"):
        Outcome(strategy="s", sample_id="1", final_correct=False, cost_usd=float("nan"))
    with pytest.raises(ValidationError, match="prompt_token"):
        Outcome.model_validate(
            {"strategy": "s", "sample_id": "1", "final_correct": False, "prompt_token": 3}
        )


def _run() -> list[Outcome]:
    outs = []
    for i in range(12):
        sid = f"q{i}"
        outs.append(_o("direct", sid, [i < 6]))
        outs.append(_o("self_refine", sid, [i < 6, i < 8], feedback_kinds=["intrinsic"]))
        outs.append(
            _o("self_consistency@self_refine", sid, [i < 7],
               baseline_of="self_refine", budget_mode="equal-calls")
        )  # fmt: skip
    return outs


def test_run_summary_compares_with_direct_and_with_matched_baselines() -> None:
    run = summarize_run(_run())
    assert run.baseline == "direct"
    assert [s.name for s in run.strategies] == [
        "direct",
        "self_refine",
        "self_consistency@self_refine",
    ]
    pairs = [(c.strategy, c.baseline) for c in run.comparisons]
    # the matched baseline is compared with its strategy only, not with direct
    assert pairs == [("self_refine", "direct"), ("self_refine", "self_consistency@self_refine")]
    matched = run.comparisons[1]
    assert matched.budget_mode == "equal-calls"
    assert "at equal calls" in matched.verdict
    # one Holm family: two comparisons, the smaller raw p doubled
    p = sorted(c.p_value for c in run.comparisons)
    assert min(c.p_holm for c in run.comparisons) == pytest.approx(min(1.0, 2 * p[0]))
    assert not run.oracle_assisted


def test_run_summary_is_the_json_the_cli_prints() -> None:
    data = json.loads(json.dumps(summarize_run(_run()).model_dump()))
    strategy = data["strategies"][1]
    for key in (
        "name", "n", "correct", "accuracy", "ci_low", "ci_high", "accuracy_by_round",
        "flips_by_round", "calls", "prompt_tokens", "completion_tokens", "cached_tokens",
        "cost_usd", "feedback_kinds", "oracle_assisted",
    ):  # fmt: skip
        assert key in strategy
    assert strategy["accuracy_by_round"] == [0.5, pytest.approx(8 / 12)]
    assert strategy["flips_by_round"][0]["wrong_right"] == 2
    assert data["comparisons"][0]["b"] == 2 and data["comparisons"][0]["c"] == 0
    assert data["comparisons"][0]["sets_differ"] is False


def test_run_summary_baseline_choice() -> None:
    no_direct = [o for o in _run() if o.strategy != "direct"]
    run = summarize_run(no_direct)
    assert run.baseline is None
    assert [(c.strategy, c.baseline) for c in run.comparisons] == [
        ("self_refine", "self_consistency@self_refine")
    ]
    chosen = summarize_run(_run(), baseline="self_refine")
    assert [(c.strategy, c.baseline) for c in chosen.comparisons] == [
        ("direct", "self_refine"),
        ("self_refine", "self_consistency@self_refine"),
    ]
    with pytest.raises(ConfigError, match="'cot' is not in this run"):
        summarize_run(_run(), baseline="cot")
