"""`reflectlab tasks` through the real CLI app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reflectlab.cli import app

runner = CliRunner()


def test_tasks_json_lists_builtin_and_file_tasks() -> None:
    result = runner.invoke(app, ["tasks", "--json"])
    assert result.exit_code == 0, result.output
    infos = {info["name"]: info for info in json.loads(result.stdout)}
    assert {"arith", "knights", "constraints", "code", "gsm8k", "humaneval", "ifeval",
            "jsonl", "csv", "hf"} <= set(infos)  # fmt: skip
    assert infos["humaneval"]["usage"] == "humaneval:PATH/HumanEval.jsonl.gz"
    assert infos["knights"]["answer_kind"] == "assignment"
    assert "input_field" in infos["jsonl"]["options"]
    assert all(info["description"] for info in infos.values())


def test_tasks_table() -> None:
    result = runner.invoke(app, ["tasks"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "gsm8k:PATH/test.jsonl" in result.stdout
    assert "knights" in result.stdout and "--task-option KEY=VALUE" in result.stdout
