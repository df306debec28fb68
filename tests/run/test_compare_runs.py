"""compare_runs: the same strategies in two stored runs, paired by sample id."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reflectlab.errors import ConfigError
from reflectlab.run import compare_runs
from reflectlab.store import CheckpointRecord, ResultRecord, RunRecord, SampleRecord, Store


def add_run(
    store: Store,
    run_id: str,
    outcomes: dict[str, dict[str, bool | None]],
    *,
    model: str = "mock/m",
    task: str = "arith",
) -> None:
    """A finished run whose ``outcomes[strategy][sample_id]`` is correct, wrong, or ``None``
    for a sample that errored (a failed model call)."""
    ids = sorted({sid for per in outcomes.values() for sid in per})
    now = time.time()
    store.create_run(
        RunRecord(
            run_id=run_id, created_at=now, updated_at=now, status="finished", task=task,
            model=model, strategies=list(outcomes), n_samples=len(ids),
            n_expected=sum(len(v) for v in outcomes.values()), config={}, versions={},
        ),
        [SampleRecord(sample_id=sid, position=k, input=f"q {sid}", target=1)
         for k, sid in enumerate(ids)],
    )  # fmt: skip
    for strategy, per in outcomes.items():
        for sid, correct in per.items():
            errored = correct is None
            store.save_result(
                ResultRecord(
                    run_id=run_id, strategy=strategy, sample_id=sid,
                    final_response=None if errored else "1", final_correct=bool(correct),
                    stop_reason="model_error" if errored else "done",
                    error="ModelError: boom" if errored else None,
                    detail={"error_kind": "model_call"} if errored else {},
                    oracle_assisted="oracle" in strategy, calls=1,
                    checkpoints=[] if errored else [
                        CheckpointRecord(idx=0, round=0, response="1", correct=bool(correct))
                    ],
                )
            )  # fmt: skip


def test_pairs_by_sample_id_and_lists_the_changed_samples(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    add_run(
        store, "run-a",
        {"direct": {"s1": True, "s2": True, "s3": False, "s4": False, "s5": None},
         "self_refine": {"s1": True, "s2": False, "s3": False}},
    )  # fmt: skip
    add_run(
        store, "run-b",
        {"direct": {"s1": False, "s2": True, "s3": True, "s4": True, "s5": True, "s6": True},
         "cot": {"s1": True}},
        model="mock/other",
    )  # fmt: skip
    result = compare_runs(store, "run-a", "run-b")
    assert (result.run_a, result.run_b, result.model_b) == ("run-a", "run-b", "mock/other")
    assert [row.strategy for row in result.strategies] == ["direct"]
    assert result.strategies_only_in_a == ["self_refine"]
    assert result.strategies_only_in_b == ["cot"]
    row = result.strategies[0]
    assert row.n_shared == 5 and row.n_paired == 4  # s5 errored in A: left out, counted
    assert (row.errored_a, row.errored_b) == (1, 0)
    assert (row.only_in_a, row.only_in_b) == (0, 1)
    assert row.right_in_a_wrong_in_b == ["s1"]
    assert row.wrong_in_a_right_in_b == ["s3", "s4"]
    assert row.accuracy_a == pytest.approx(0.5) and row.accuracy_b == pytest.approx(0.75)
    c = row.comparison
    assert c is not None
    assert (c.b, c.c, c.n_paired) == (2, 1, 4)  # b: right in B only; c: right in A only
    assert c.diff == pytest.approx(0.25)
    assert c.errored_excluded == 1
    assert "[run-b]" in c.verdict and "[run-a]" in c.verdict


def test_one_holm_family_over_the_shared_strategies(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    ids = [f"s{k}" for k in range(12)]
    add_run(store, "a", {"direct": dict.fromkeys(ids, False), "cot": dict.fromkeys(ids, True)})
    add_run(store, "b", {"direct": dict.fromkeys(ids, True), "cot": dict.fromkeys(ids, True)})
    rows = {row.strategy: row for row in compare_runs(store, "a", "b").strategies}
    direct = rows["direct"].comparison
    assert direct is not None and direct.significant
    assert direct.p_holm == pytest.approx(min(1.0, 2 * direct.p_value))
    assert rows["cot"].right_in_a_wrong_in_b == rows["cot"].wrong_in_a_right_in_b == []


def test_refuses_runs_with_no_shared_strategy_or_sample(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    add_run(store, "a", {"direct": {"s1": True}})
    add_run(store, "b", {"cot": {"s1": True}})
    add_run(store, "c", {"direct": {"t1": True}}, task="knights")
    with pytest.raises(ConfigError, match="share no strategy"):
        compare_runs(store, "a", "b")
    with pytest.raises(ConfigError, match="share no sample ids"):
        compare_runs(store, "a", "c")
    with pytest.raises(ConfigError, match="both ids name run a"):
        compare_runs(store, "a", "a")
    with pytest.raises(ConfigError, match="no run 'zzz'"):
        compare_runs(store, "a", "zzz")


def test_a_strategy_whose_pairs_all_errored_has_no_comparison(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    add_run(store, "a", {"direct": {"s1": None, "s2": True}, "cot": {"s1": True}})
    add_run(store, "b", {"direct": {"s1": True, "s2": False}, "cot": {"s1": None}})
    rows = {row.strategy: row for row in compare_runs(store, "a", "b").strategies}
    assert rows["cot"].comparison is None and rows["cot"].errored_b == 1
    assert rows["direct"].right_in_a_wrong_in_b == ["s2"]
