"""Scoring existing replies: reading the responses file and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.task import get_task, load_responses, score_report


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


async def test_report_counts_correct_replies_in_input_order(tmp_path: Path) -> None:
    task = get_task("arith", n=3)
    samples = task.samples()
    rows = [
        json.dumps({"id": 2, "response": f"Answer: {samples[2].target}"}),
        json.dumps({"id": "0", "response": "I do not know"}),
        json.dumps({"id": "1", "response": f"Answer: {samples[1].target}"}),
    ]
    responses = load_responses(_write(tmp_path / "r.jsonl", rows), task)
    report = await score_report(task, responses)
    assert (report.n, report.correct) == (3, 2)
    assert report.accuracy == pytest.approx(2 / 3)
    assert [(i.id, i.correct, i.reason) for i in report.per_item] == [
        ("2", True, None),
        ("0", False, "no number in the reply"),
        ("1", True, None),
    ]
    assert report.metrics == {}
    doc = report.to_json()
    assert set(doc) == {"task", "n", "correct", "accuracy", "per_item"}
    assert set(doc["per_item"][0]) == {"id", "correct", "score", "answer", "reason"}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "0", "response": "1"}', '{"id": "99", "response": "1"}'],
         r"line 2, field 'id': unknown id '99'"),
        (['{"id": "0", "response": "1"}', '{"id": 0, "response": "2"}'],
         r"line 2, field 'id': id '0' already answered on line 1"),
        (['{"response": "1"}'], r"line 1, field 'id': must be a string or an integer"),
        (['{"id": "0", "response": null}'], r"line 1, field 'response': must be a string"),
        (['{"id": "0", "response": "1"}', "oops"], r"line 2: not valid JSON"),
        ([""], r"no responses"),
    ],
)  # fmt: skip
def test_bad_responses_files_name_the_line(tmp_path: Path, lines: list[str], message: str) -> None:
    path = _write(tmp_path / "r.jsonl", lines)
    with pytest.raises(InputError, match=message) as info:
        load_responses(path, get_task("arith", n=2))
    assert str(path) in str(info.value)
