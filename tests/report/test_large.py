"""A large run (5,000 samples x 5 strategies, ~55,000 calls) inserted through the store API:
the report still renders, stays bounded in size, and ships data, not 25,000 rows of markup."""

from __future__ import annotations

import json

from reflectlab.model import CallEvent, ChatMessage, GenerateConfig, Usage
from reflectlab.report import render_report, report_data
from reflectlab.report._traces import FLAG_RIGHT_TO_WRONG
from reflectlab.store import CheckpointRecord, ResultRecord, RunRecord, SampleRecord, Store

N_SAMPLES = 5000
# strategy -> (calls per sample, rounds)
STRATEGIES = {
    "direct": (1, 1),
    "cot": (1, 1),
    "self_refine": (3, 2),
    "self_consistency@self_refine": (3, 1),
    "retry@self_refine": (3, 2),
}
CRITIQUE = (
    "Review your answer above. Give specific, actionable feedback: check each step for "
    "mistakes and say exactly what is wrong and how to fix it."
)


def question(i: int) -> str:
    a, b, c = 17 + i % 89, 3 + i % 23, 2 + i % 7
    return (
        f"Question {i}: A shop sells {a} boxes of pencils on Monday and {b} more boxes on "
        f"Tuesday than on Monday. Each box holds {c} pencils. How many pencils did the shop "
        "sell over the two days? Think step by step."
    )


def reply(i: int, k: int, right: bool) -> str:
    a, b, c = 17 + i % 89, 3 + i % 23, 2 + i % 7
    total = (2 * a + b) * c
    shown = total if right else total + 1 + (i + k) % 9
    return (
        f"On Monday the shop sold {a} boxes and on Tuesday {a + b} boxes, {2 * a + b} in all. "
        f"With {c} pencils per box that is {2 * a + b} x {c} pencils (attempt {k}).\n"
        f"Answer: {shown}"
    )


def fill(store: Store) -> str:
    run_id = "large-run"
    store.create_run(
        RunRecord(
            run_id=run_id,
            created_at=0.0,
            updated_at=0.0,
            status="completed",
            task="pencils",
            model="mock/big",
            strategies=["direct", "cot", "self_refine"],
            n_samples=N_SAMPLES,
            n_expected=N_SAMPLES * len(STRATEGIES),
            config={"task": "pencils", "model": "mock/big", "seed": 7, "baselines": "equal-calls"},
            versions={"reflectlab": "test"},
        ),
        [
            SampleRecord(sample_id=f"s{i}", position=i, input=question(i), target=str(i))
            for i in range(N_SAMPLES)
        ],
    )
    for i in range(N_SAMPLES):
        for strategy, (n_calls, rounds) in STRATEGIES.items():
            # self_refine breaks every 7th right answer and fixes every 5th wrong one.
            draft_right = i % 3 != 0
            final_right = (draft_right and i % 7 != 0) or (not draft_right and i % 5 == 0)
            messages = [ChatMessage(role="user", content=question(i))]
            ids, replies = [], []
            for k in range(n_calls):
                right = draft_right if k == 0 else final_right
                text = (
                    reply(i, k, right) if k != 1 or rounds == 1 else "It looks wrong. [[INCORRECT]]"
                )
                event = CallEvent(
                    call_id=f"{strategy}-{i}-{k}",
                    model="mock/big",
                    role="draft" if k == 0 else ("feedback" if k == 1 else "refine"),
                    round=0 if k == 0 else 1,
                    request_hash=f"h{strategy}{i}{k}",
                    messages=list(messages),
                    config=GenerateConfig(),
                    choices=[text],
                    usage=Usage(prompt_tokens=40 * (k + 1), completion_tokens=30),
                    latency_s=0.25,
                    tags={"run_id": run_id, "sample_id": f"s{i}", "strategy": strategy},
                )
                store.record_call(event)
                ids.append(event.call_id)
                replies.append(text)
                if rounds > 1:
                    messages += [
                        ChatMessage(role="assistant", content=text),
                        ChatMessage(
                            role="user", content=CRITIQUE if k == 0 else "Feedback: fix it."
                        ),
                    ]
            checkpoints = [
                CheckpointRecord(
                    idx=0, round=0, response=replies[0], correct=draft_right, answer="1", calls=1
                )
            ]
            if rounds > 1:
                checkpoints.append(
                    CheckpointRecord(
                        idx=1,
                        round=1,
                        response=replies[-1],
                        correct=final_right,
                        answer="2",
                        calls=n_calls,
                    )
                )
            store.save_result(
                ResultRecord(
                    run_id=run_id,
                    strategy=strategy,
                    sample_id=f"s{i}",
                    baseline_of="self_refine" if "@" in strategy else None,
                    budget_mode="equal-calls" if "@" in strategy else None,
                    final_response=replies[-1],
                    final_correct=checkpoints[-1].correct,
                    final_answer=checkpoints[-1].answer,
                    stop_reason="completed",
                    calls=n_calls,
                    prompt_tokens=40 * n_calls,
                    completion_tokens=30 * n_calls,
                    feedback_kinds=["intrinsic"] if rounds > 1 else [],
                    detail={"call_ids": ids, "feedback": []},
                    checkpoints=checkpoints,
                )
            )
    return run_id


def test_large_run_renders_bounded_and_lazy() -> None:
    store = Store(":memory:")
    run_id = fill(store)
    html = render_report(store, run_id)
    # ~60 MB of logged calls become a file a browser opens at once: repeated prompts are
    # stored once per block and every block is compressed.
    assert len(html.encode()) < 4_000_000
    # Data, not markup: the only table rows are the summary's; the 25,000 results are paged
    # by the viewer from the index.
    assert html.count("<tr") < 100
    data = report_data(html)
    index = data["index"]
    assert len(index["rows"]) == N_SAMPLES * len(STRATEGIES)
    assert len(index["samples"]) == N_SAMPLES
    # Traces come in many small blocks; opening one sample decodes one of them.
    assert len(data["chunks"]) >= 10
    for chunk in data["chunks"]:
        assert len(json.dumps(chunk).encode()) < 2_000_000
    # Flags the filters use: self_refine broke the right drafts of every 7th question.
    refine = index["strategies"].index("self_refine")
    broke = [r for r in index["rows"] if r[0] == refine and r[3] & FLAG_RIGHT_TO_WRONG]
    assert len(broke) == sum(1 for i in range(N_SAMPLES) if i % 3 != 0 and i % 7 == 0)
    # The last sample's trace is all there, in order.
    retry = index["strategies"].index("retry@self_refine")
    row = next(r for r in index["rows"] if r[:2] == [retry, N_SAMPLES - 1])
    chunk = data["chunks"][row[7]]
    trace = chunk["results"][f"{retry}:{N_SAMPLES - 1}"]
    calls = [st for st in trace["steps"] if st["t"] == "call"]
    assert [c["role"] for c in calls] == ["draft", "feedback", "refine"]
    assert chunk["strings"][calls[2]["msgs"][0][1]] == question(N_SAMPLES - 1)
    assert [st["t"] for st in trace["steps"]] == ["call", "cp", "call", "call", "cp"]
