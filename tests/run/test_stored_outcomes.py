"""The summary of a stored run reads a few columns, not whole records: the outcomes it builds
are exactly those built from the full results (rounds, errors, unscored, baselines)."""

from __future__ import annotations

from pathlib import Path

from reflectlab.run import RunConfig, StrategySpec, start_run, summarize_stored_run
from reflectlab.run._summary import outcome_from_result, stored_outcomes
from reflectlab.store import CheckpointRecord, ResultRecord, Store


async def test_outcomes_from_columns_equal_outcomes_from_records(tmp_path: Path) -> None:
    cfg = RunConfig(
        task="arith",
        model="mock/m",
        limit=6,
        max_rounds=2,
        strategies=[StrategySpec(name="direct"), StrategySpec(name="self_refine")],
    )
    with Store(tmp_path / "r.db") as store:
        run_id = await start_run(cfg, store)
        ids = [s.sample_id for s in store.run_samples(run_id)]
        # an errored sample (old-style: kind from the stop reason), an unscored one, and one
        # whose checkpoints repeat a round (the last of the round counts)
        store.save_result(
            ResultRecord(
                run_id=run_id,
                strategy="odd",
                sample_id=ids[0],
                final_response=None,
                final_correct=False,
                stop_reason="model_error",
                error="RateLimitError: slow down",
            )
        )
        store.save_result(
            ResultRecord(
                run_id=run_id,
                strategy="odd",
                sample_id=ids[1],
                final_response="hi",
                final_correct=False,
                stop_reason="completed",
                feedback_kinds=["critic", "tool"],
                detail={"unscored": True, "error_kind": None},
            )
        )
        store.save_result(
            ResultRecord(
                run_id=run_id,
                strategy="odd",
                sample_id=ids[2],
                final_response="2",
                final_correct=True,
                stop_reason="completed",
                checkpoints=[
                    CheckpointRecord(idx=0, round=0, response="1", correct=False),
                    CheckpointRecord(idx=1, round=1, response="3", correct=False),
                    CheckpointRecord(idx=2, round=1, response="2", correct=True),
                ],
            )
        )
        expected = [outcome_from_result(r).model_dump() for r in store.results(run_id)]
        got = [o.model_dump() for o in stored_outcomes(store, run_id)]
        assert len(got) == 6 * 5 + 3  # direct, self_refine and its 3 baselines; 3 odd ones
        assert got == expected
        assert {o["error_kind"] for o in got if o["strategy"] == "odd"} == {None, "RateLimitError"}
        _, summary = summarize_stored_run(store, run_id)
        assert [s.name for s in summary.strategies][:2] == ["direct", "self_refine"]
