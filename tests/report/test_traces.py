"""The trace data on hand-made results: step order, call lookup, flags, chunking."""

from __future__ import annotations

from typing import Any

from reflectlab.report import build_trace_payload, decode_block
from reflectlab.report._traces import (
    FLAG_CORRECT,
    FLAG_ERROR,
    FLAG_NO_ANSWER,
    FLAG_RIGHT_TO_WRONG,
    FLAG_WRONG_TO_RIGHT,
    encode_block,
    round_trajectory,
)
from reflectlab.store import CheckpointRecord, ResultRecord, SampleRecord


def event(
    call_id: str, role: str, rnd: int, reply: str, strategy: str = "s", **kw: Any
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "model": "mock/m",
        "role": role,
        "round": rnd,
        "messages": [{"role": "user", "content": f"prompt of {call_id}"}],
        "choices": [reply],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2},
        "started_at": float(len(call_id)),
        "tags": {"strategy": strategy, "sample_id": "a"},
        **kw,
    }


def cp(idx: int, rnd: int, correct: bool, calls: int) -> CheckpointRecord:
    return CheckpointRecord(
        idx=idx, round=rnd, response=f"answer {idx}", correct=correct, calls=calls
    )


def result(strategy: str = "s", **kw: Any) -> ResultRecord:
    values: dict[str, Any] = {
        "run_id": "r",
        "strategy": strategy,
        "sample_id": "a",
        "final_response": "answer",
        "final_correct": True,
        "stop_reason": "completed",
    }
    values.update(kw)
    return ResultRecord.model_validate(values)


def decode(payload: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return decode_block(payload.index), [decode_block(c) for c in payload.chunks]


SAMPLE = [SampleRecord(sample_id="a", position=0, input="What?", target={"gold": 3})]


def test_tool_feedback_sits_before_the_call_that_reads_it() -> None:
    calls = [
        event("c1", "draft", 0, "draft"),
        event("c2", "refine", 1, "second"),
        event("c3", "critique", 2, "It is wrong."),
        event("c4", "refine", 2, "third"),
    ]
    r = result(
        checkpoints=[cp(0, 0, True, 1), cp(1, 1, False, 2), cp(2, 2, True, 4)],
        detail={
            "call_ids": ["c1", "c2", "c3", "c4"],
            "feedback": [
                {"kind": "tool", "source": "unit-tests", "text": "2 of 3 failed", "round": 1},
                {"kind": "critic", "source": "critic:m", "text": "It is wrong.", "round": 2},
            ],
        },
    )
    _, (chunk,) = decode(build_trace_payload(SAMPLE, [r], lambda sid: calls, ["s"]))
    steps = chunk["results"]["0:0"]["steps"]
    order = [(st["t"], st.get("role"), st.get("round")) for st in steps]
    assert order == [
        ("call", "draft", 0),
        ("cp", None, 0),
        ("fb", None, None),  # tool feedback of round 1, read by the round-1 refine
        ("call", "refine", 1),
        ("cp", None, 1),
        ("call", "critique", 2),  # the critic's reply is the feedback: attached, not repeated
        ("call", "refine", 2),
        ("cp", None, 2),
    ]
    assert steps[2]["fb"] == 0 and steps[5]["fb"] == [1]
    assert chunk["samples"]["0"]["target"] == {"gold": 3}


def test_calls_are_found_by_id_or_by_tag_and_missing_ones_counted() -> None:
    calls = [
        event("x1", "draft", 0, "one", strategy="t"),
        event("x2", "draft", 0, "two", strategy="u"),
    ]
    by_id = result("t", detail={"call_ids": ["x1", "gone"]}, checkpoints=[cp(0, 0, True, 1)])
    by_tag = result("u", detail={}, checkpoints=[cp(0, 0, True, 1)])
    _, (chunk,) = decode(
        build_trace_payload(SAMPLE, [by_id, by_tag], lambda sid: calls, ["t", "u"])
    )
    t, u = chunk["results"]["0:0"], chunk["results"]["1:0"]
    assert t["missing"] == 1 and [chunk["strings"][k] for k in t["steps"][0]["out"]] == ["one"]
    assert "missing" not in u and [chunk["strings"][k] for k in u["steps"][0]["out"]] == ["two"]


def test_flags_follow_the_rounds() -> None:
    assert round_trajectory([cp(1, 1, False, 2), cp(0, 0, True, 1), cp(2, 1, True, 3)]) == "11"
    results = [
        result("a", checkpoints=[cp(0, 0, True, 1), cp(1, 1, False, 2), cp(2, 2, True, 3)]),
        result("b", final_correct=False, checkpoints=[cp(0, 0, True, 1), cp(1, 1, False, 2)]),
        result("c", final_response=None, final_correct=False, error="BudgetExceeded: max_calls"),
    ]
    index, _ = decode(build_trace_payload(SAMPLE, results, lambda sid: [], ["a", "b", "c"]))
    flags = {index["strategies"][row[0]]: (row[2], row[3]) for row in index["rows"]}
    assert flags["a"] == ("101", FLAG_CORRECT | FLAG_RIGHT_TO_WRONG | FLAG_WRONG_TO_RIGHT)
    assert flags["b"] == ("10", FLAG_RIGHT_TO_WRONG)
    assert flags["c"] == ("", FLAG_NO_ANSWER | FLAG_ERROR)


def test_chunks_split_by_size_and_keep_a_sample_whole() -> None:
    samples = [
        SampleRecord(sample_id=f"q{i}", position=i, input=f"{i} " + "x" * 500) for i in range(40)
    ]
    results = [
        result(s, sample_id=f"q{i}", checkpoints=[cp(0, 0, True, 0)])
        for i in range(40)
        for s in ("a", "b")
    ]
    payload = build_trace_payload(samples, results, lambda sid: [], ["a", "b"], chunk_bytes=2000)
    index, chunks = decode(payload)
    assert len(chunks) > 5 and payload.n_results == 80
    for row in index["rows"]:
        assert f"{row[0]}:{row[1]}" in chunks[row[7]]["results"]
    # both strategies of a sample land in the same block
    assert all(index["rows"][k][7] == index["rows"][k + 1][7] for k in range(0, 80, 2))
    assert decode_block(encode_block({"ü": [1, None]})) == {"ü": [1, None]}
    assert encode_block({"a": 1}) == encode_block({"a": 1})  # no timestamp inside
