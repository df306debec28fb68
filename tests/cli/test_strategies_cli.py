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
    assert reflexion["parameters"] == {
        "max_rounds": 3,
        "feedback": "intrinsic",
        "memory_size": 3,
        "temperature": 0.7,
    }
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
    assert "Reflexion" in result.stdout
    # parameters moved to `strategies show NAME` (the list stays one line per strategy)
    assert "reflectlab strategies show NAME" in result.stdout


def test_show_gives_each_parameter_with_its_allowed_values() -> None:
    result = runner.invoke(app, ["strategies", "show", "self_refine"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "'intrinsic' | 'critic' | 'tool' | 'oracle'" in rows["feedback"]
    assert "int (>= 0, <= 50)" in rows["max_rounds"]
    assert "e.g. --strategy self_refine:max_rounds=3:feedback=intrinsic" in result.stdout
    doc = json.loads(runner.invoke(app, ["strategies", "show", "self_refine", "--json"]).stdout)
    assert doc["parameters"]["max_rounds"] == 3
    assert doc["parameter_types"]["feedback"] == "'intrinsic' | 'critic' | 'tool' | 'oracle'"
    listing = runner.invoke(app, ["strategies"]).stdout
    assert "reflectlab strategies show NAME" in listing


def test_show_of_an_unknown_strategy_names_the_known_ones() -> None:
    result = runner.invoke(app, ["strategies", "show", "self_refin"])
    assert result.exit_code != 0
    assert "unknown strategy 'self_refin'" in str(result.exception)
    assert "self_refine" in str(result.exception)


def test_show_lists_every_prompt_template_with_its_text() -> None:
    result = runner.invoke(app, ["strategies", "show", "reflexion"])
    assert result.exit_code == 0, result.output
    assert "[reflexion]" in result.stdout
    assert "REFLECT_PROMPT  (overridable)" in result.stdout
    assert "advanced reasoning agent" in result.stdout
    data = json.loads(runner.invoke(app, ["strategies", "show", "progco", "--json"]).stdout)
    assert "PROGVE_PROMPT" in data["prompt_templates"]
    assert "PROGVE_PROMPT" in data["overridable_prompts"]
    assert "HARNESS" in data["overridable_prompts"]  # every template is, since issue 11
