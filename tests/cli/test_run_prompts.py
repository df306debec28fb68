"""`reflectlab run --prompts FILE.toml`: per-strategy template overrides, stored with the run."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.run import RunConfig
from reflectlab.store import Store

runner = CliRunner()
ARGS = ["run", "--task", "arith", "--model", "mock/m", "--limit", "1", "--baselines", "none"]


def test_prompts_file_overrides_are_applied_and_hashed(tmp_path: Path) -> None:
    prompts = tmp_path / "p.toml"
    prompts.write_text('[retry]\nVERIFY_PROMPT = "Right? Correct: yes or no."\n', "utf-8")
    db, out = tmp_path / "r.db", tmp_path / "s.json"
    strategy = ["--strategy", "retry:max_rounds=1", "-q", "--db", str(db), "-o", str(out)]
    result = runner.invoke(app, [*ARGS, *strategy, "--prompts", str(prompts)])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text(encoding="utf-8"))
    config = RunConfig.model_validate(summary["config"])
    (spec,) = config.strategies
    assert spec.params["prompts"] == {"VERIFY_PROMPT": "Right? Correct: yes or no."}
    assert spec.display() == "retry:max_rounds=1:prompts=p.toml"
    record = Store(db).get_run(summary["run_id"])
    assert record is not None
    versions = record.versions["strategies"][spec.display()]
    assert list(versions["prompt_overrides"]) == ["VERIFY_PROMPT"]


def test_an_unknown_template_is_bad_input_naming_file_and_key(tmp_path: Path) -> None:
    prompts = tmp_path / "p.toml"
    prompts.write_text('[retry]\nVERIFY = "x"\n', "utf-8")
    result = runner.invoke(
        app,
        [*ARGS, "--strategy", "retry", "--db", str(tmp_path / "r.db"), "--prompts", str(prompts)],
    )
    assert isinstance(result.exception, ConfigError), result.output  # exit 2 in the real CLI
    assert "[retry] VERIFY" in str(result.exception) and str(prompts) in str(result.exception)
