"""`reflectlab score` through the real CLI app, on real benchmark files where present."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError, InputError
from reflectlab.model import capture_calls
from support.data import SHARED_DATA, shared_data

runner = CliRunner()
DATA = SHARED_DATA


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_ifeval_gpt4_responses_reproduce_the_published_prompt_strict(tmp_path: Path) -> None:
    """IFEval's GPT-4 responses score 76.89 % prompt-level strict in the paper. The response
    file is IFEval's own ({prompt, response}, keyed by prompt), scored as shipped."""
    inputs = DATA / "ifeval" / "input_data.jsonl"
    gpt4 = DATA / "ifeval" / "input_response_data_gpt4_20231107_145030.jsonl"
    if not (inputs.exists() and gpt4.exists()):
        pytest.skip(f"IFEval data not present under {DATA / 'ifeval'} (read-only shared data)")
    out = tmp_path / "report.json"
    with capture_calls() as calls:
        result = runner.invoke(
            app,
            ["score", "--task", f"ifeval:{inputs}", "--responses", str(gpt4), "--json",
             "-o", str(out)],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert calls == []  # scoring never calls a model
    report = json.loads(result.stdout)
    assert report["n"] == 541 and len(report["per_item"]) == 541
    assert report["prompt_strict"] == pytest.approx(0.7689, abs=0.01)
    assert report["accuracy"] == report["prompt_strict"]
    assert report["correct"] == round(report["prompt_strict"] * 541)
    for name in ("instruction_strict", "prompt_loose", "instruction_loose"):
        assert report["prompt_strict"] <= report[name] <= 1
    item = report["per_item"][0]
    assert set(item) >= {"id", "correct", "score", "reason"}
    assert item["id"] == "1000"  # matched to input_data.jsonl's key by the prompt
    assert json.loads(out.read_text(encoding="utf-8")) == report  # -o/--output: the same JSON


def test_humaneval_completions_from_a_file(tmp_path: Path) -> None:
    path = DATA / "humaneval" / "HumanEval.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    with gzip.open(path, "rt") as fh:
        problems = [json.loads(line) for line, _ in zip(fh, range(3), strict=False)]
    rows = [
        {"id": problems[0]["task_id"], "response": problems[0]["canonical_solution"]},
        {"id": problems[1]["task_id"], "response": "    return []\n"},
        {"id": problems[2]["task_id"], "response": problems[2]["canonical_solution"]},
    ]
    responses = _write(tmp_path / "samples.jsonl", rows)
    result = runner.invoke(
        app, ["score", "-t", f"humaneval:{path}", "-r", str(responses), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n"], report["correct"]) == (3, 2)
    assert [i["correct"] for i in report["per_item"]] == [True, False, True]
    assert report["per_item"][1]["reason"].startswith("tests failed")
    assert "prompt_strict" not in report


def test_humaneval_samples_file_as_shipped_gives_pass_at_k(tmp_path: Path) -> None:
    """HumanEval's own samples format ({task_id, completion}, several per problem)."""
    path = DATA / "humaneval" / "HumanEval.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} not present (read-only shared data)")
    with gzip.open(path, "rt") as fh:
        problems = [json.loads(line) for line, _ in zip(fh, range(2), strict=False)]
    right = [{"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in problems]
    wrong = [{"task_id": p["task_id"], "completion": "    return None\n"} for p in problems]
    # Problem 0: 1 right of 2; problem 1: 2 right of 2.
    samples = _write(tmp_path / "samples.jsonl", [right[0], wrong[0], right[1], right[1]])
    result = runner.invoke(app, ["score", "-t", f"humaneval:{path}", "-r", str(samples), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n"], report["correct"], report["n_problems"]) == (4, 3, 2)
    assert report["pass@1"] == pytest.approx((0.5 + 1.0) / 2)
    assert "pass@10" not in report  # no problem has 10 samples
    plain = runner.invoke(app, ["score", "-t", f"humaneval:{path}", "-r", str(samples)])
    assert plain.exit_code == 0, plain.output
    assert "problems: 2   samples per problem: 2" in plain.stdout
    assert "pass@1: 75.00%" in plain.stdout


def test_humaneval_example_samples_give_its_published_pass_at_1() -> None:
    """human-eval's README: its example samples "should yield 0.5 pass@1" with its 3 s
    timeout (a shell command, a 10 s sleep and a read from stdin fail; three indentations
    of `return 1` pass)."""
    problem = shared_data("humaneval", "example_problem.jsonl")
    samples = shared_data("humaneval", "example_samples.jsonl")
    result = runner.invoke(
        app,
        ["score", "-t", f"humaneval:{problem}", "-r", str(samples), "--json",
         "--task-option", "timeout=3"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["n"], report["n_problems"], report["samples_per_problem"]) == (6, 1, [6, 6])
    assert report["pass@1"] == 0.5
    assert [i["correct"] for i in report["per_item"]] == [False] * 3 + [True] * 3


def test_task_options_are_long_only_and_o_means_output(tmp_path: Path) -> None:
    responses = _write(tmp_path / "r.jsonl", [{"id": 0, "response": "1"}])
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["score", "-t", "arith", "--task-option", "n=2", "-r", str(responses), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["n"] == 1
    help_text = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"}).stdout
    assert "-o, --output" in help_text and "--task-option" in help_text
    assert "-o, --task-option" not in help_text
    tasks = runner.invoke(app, ["tasks"], env={"COLUMNS": "200"}).stdout
    assert "--task-option KEY=VALUE" in tasks and "-o " not in tasks


def test_plain_output_with_task_options(tmp_path: Path) -> None:
    data = _write(tmp_path / "qa.jsonl", [{"q": "2+2?", "a": 4}, {"q": "3+3?", "a": 6}])
    responses = _write(tmp_path / "r.jsonl", [{"id": 0, "response": "Answer: 4"},
                                              {"id": 1, "response": "Answer: 7"}])  # fmt: skip
    result = runner.invoke(
        app,
        ["score", "--task", f"jsonl:{data}", "--responses", str(responses),
         "--task-option", "input_field=q", "--task-option", "target_field=a",
         "--task-option", "answer=numeric"],
        env={"COLUMNS": "160"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "n: 2   correct: 1   accuracy: 50.00%" in result.stdout
    assert "'7' != target '6'" in result.stdout


def test_errors_name_the_responses_line(tmp_path: Path) -> None:
    responses = _write(tmp_path / "r.jsonl", [{"id": 0, "response": "1"},
                                              {"id": 500, "response": "2"}])  # fmt: skip
    result = runner.invoke(app, ["score", "--task", "arith", "--responses", str(responses),
                                 "--task-option", "n=5"])  # fmt: skip
    assert isinstance(result.exception, InputError)
    assert "r.jsonl, line 2, field 'id': unknown id '500'" in str(result.exception)
    bad_option = runner.invoke(
        app, ["score", "-t", "arith", "-r", str(responses), "--task-option", "n"]
    )
    assert isinstance(bad_option.exception, ConfigError)
    assert "expected KEY=VALUE" in str(bad_option.exception)
