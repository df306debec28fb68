"""``reflectlab strategies``: the registry as JSON and as a table."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reflectlab.cli import app

runner = CliRunner()


def test_json_lists_paper_feedback_parameters_and_baseline_flag() -> None:
    result = runner.invoke(app, ["strategies", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {"best_of_n", "critic", "direct", "progco", "reflexion", "retry"} <= set(rows)
    reflexion = rows["reflexion"]
    assert reflexion["paper"].startswith("Shinn et al.")
    assert reflexion["year"] == 2023
    assert "oracle" in reflexion["feedback_kinds"]
    assert reflexion["parameters"] == {"max_rounds": 3, "feedback": "intrinsic", "memory_size": 3}
    assert reflexion["baseline"] is False
    assert rows["retry"]["baseline"] is True
    assert rows["progco"]["feedback_kinds"] == ["tool"]
    assert rows["critic"]["parameters"]["use_tool"] is True
    assert rows["direct"]["year"] is None


def test_table_names_every_strategy() -> None:
    result = runner.invoke(app, ["strategies"])
    assert result.exit_code == 0, result.output
    for name in ("best_of_n", "critic", "progco", "reflexion", "retry"):
        assert name in result.stdout
    assert "Shinn" in result.stdout
    assert "memory_size=3" in result.stdout
