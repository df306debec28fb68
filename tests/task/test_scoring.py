"""Scoring existing replies: reading the responses file and the report."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.task import get_task, load_responses, score_report
from reflectlab.task._scoring import pass_at_k


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
    assert set(doc["per_item"][0]) == {"id", "correct", "score", "answer", "reason", "line"}
    assert [i.line for i in report.per_item] == [1, 2, 3]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "0", "response": "1"}', '{"id": "99", "response": "1"}'],
         r"line 2, field 'id': unknown id '99'"),
        (['{"id": "0", "response": "1"}', '{"id": 0, "response": "2"}'],
         r"line 2, field 'id': id '0' already answered on line 1"),
        (['{"response": "1"}'],
         r"line 1, field 'id': no id: expected a row \{\"id\", \"response\"\}, HumanEval's "
         r"\{\"task_id\", \"completion\"\} or IFEval's \{\"prompt\", \"response\"\}, got keys "
         r"\['response'\]"),
        (['{"id": null, "response": "1"}'], r"line 1, field 'id': must be a string or an integer"),
        (['{"id": "0", "completion": "1"}'],
         r"line 1, field 'response': missing: a row \{\"id\", \"response\"\} needs 'response' "
         r"\(expected a row .*got keys \['completion', 'id'\]\)"),
        (['{"task_id": "0", "completion": 1}'], r"line 1, field 'completion': must be a string"),
        (['{"id": "0", "response": "1"}', '{"task_id": "1", "completion": "1"}'],
         r"line 2: this row has \{\"task_id\", \"completion\"\} but line 1 has \{\"id\", "
         r"\"response\"\}: use one format per file"),
        (['{"prompt": "no such prompt", "response": "1"}'],
         r"line 1, field 'prompt': task 'arith' has no sample with this prompt"),
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


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    # Chen et al. 2021, eq. 1, against brute force: the share of k-subsets of the n samples
    # that hold at least one correct one.
    for n in range(1, 8):
        for c in range(n + 1):
            outcomes = [True] * c + [False] * (n - c)
            for k in range(1, n + 1):
                subsets = list(itertools.combinations(outcomes, k))
                expected = sum(any(s) for s in subsets) / len(subsets)
                assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12), (n, c, k)
    assert pass_at_k(200, 3, 100) == pytest.approx(1 - (100 * 99 * 98) / (200 * 199 * 198))
    with pytest.raises(ValueError):
        pass_at_k(5, 1, 6)


async def test_humaneval_format_rows_with_several_samples_give_pass_at_k(
    tmp_path: Path,
) -> None:
    task = get_task("arith", n=2)
    first, second = task.samples()
    rows = [json.dumps({"task_id": first.id, "completion": f"Answer: {first.target}"})]
    rows += [json.dumps({"task_id": first.id, "completion": "no idea"})] * 9
    rows += [json.dumps({"task_id": second.id, "completion": "no idea"})] * 10
    report = await score_report(task, load_responses(_write(tmp_path / "s.jsonl", rows), task))
    assert (report.n, report.correct, report.n_problems) == (20, 1, 2)
    assert report.samples_per_problem == (10, 10)
    # Problem 1: 1 of 10 right; problem 2: none. pass@1 = mean(0.1, 0), pass@10 = mean(1, 0).
    assert report.metrics == {"pass@1": pytest.approx(0.05), "pass@10": pytest.approx(0.5)}
    doc = report.to_json()
    assert doc["pass@1"] == pytest.approx(0.05) and "pass@100" not in doc
    assert doc["n_problems"] == 2 and [i["line"] for i in doc["per_item"]][:2] == [1, 2]


async def test_pass_at_k_only_where_every_problem_has_k_samples(tmp_path: Path) -> None:
    task = get_task("arith", n=2)
    first, second = task.samples()
    rows = [json.dumps({"task_id": first.id, "completion": "x"})] * 12
    rows += [json.dumps({"task_id": second.id, "completion": "x"})] * 3
    report = await score_report(task, load_responses(_write(tmp_path / "s.jsonl", rows), task))
    assert set(report.metrics) == {"pass@1"} and report.samples_per_problem == (3, 12)


async def test_ifeval_format_rows_are_matched_by_prompt(tmp_path: Path) -> None:
    task = get_task("arith", n=3)
    samples = task.samples()
    rows = [json.dumps({"prompt": s.input, "response": f"Answer: {s.target}"}) for s in samples]
    responses = load_responses(_write(tmp_path / "r.jsonl", rows[::-1]), task)
    assert [r.sample.id for r in responses] == [s.id for s in samples[::-1]]
    report = await score_report(task, responses)
    assert report.correct == 3 and report.metrics == {} and report.n_problems is None
    again = _write(tmp_path / "twice.jsonl", [rows[0], rows[0]])
    with pytest.raises(InputError, match=r"line 2, field 'prompt': id '0' already answered"):
        load_responses(again, task)
