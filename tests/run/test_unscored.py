"""Results without a gold answer (proxied chat requests) show no accuracy, never 0.00."""

from __future__ import annotations

import time
from pathlib import Path

from reflectlab.analysis import render_summary
from reflectlab.run import summarize_stored_run, summary_json
from reflectlab.store import ResultRecord, RunRecord, Store


def test_an_unscored_run_has_no_accuracy_and_no_comparison(tmp_path: Path) -> None:
    store = Store(tmp_path / "r.db")
    now = time.time()
    store.create_run(
        RunRecord(run_id="serve-1", created_at=now, updated_at=now, status="completed",
                  task="chat", model="openai/m", strategies=["self_refine", "passthrough"],
                  n_samples=0, n_expected=2, config={}, versions={}),
        [],
    )  # fmt: skip
    for strategy, trace in (("self_refine", "t1"), ("passthrough", "t2")):
        store.save_result(
            ResultRecord(run_id="serve-1", strategy=strategy, sample_id=trace,
                         final_response="hello", final_correct=False, stop_reason="completed",
                         detail={"unscored": True})
        )  # fmt: skip
    run, summary = summarize_stored_run(store, "serve-1")
    assert summary.comparisons == []  # nothing shared, nothing scored: nothing to compare
    data = summary_json(run, summary)
    for row in data["strategies"]:
        assert row["scored"] is False
        assert row["accuracy"] is None and row["ci_low"] is None and row["correct"] is None
    text = " ".join(str(t.columns[3]._cells) for t in render_summary(summary)[:1])
    assert "n/a (unscored)" in text and "0.00" not in text

    from reflectlab.report import render_report

    html = render_report(store, "serve-1")
    assert "n/a (unscored)" in html and "no gold answers to score against" in html
