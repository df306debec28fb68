"""`reflectlab run --config FILE.toml` (flags override the file) and `run -o FILE`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.errors import ConfigError
from reflectlab.run import RunConfig
from reflectlab.store import Store

runner = CliRunner()

CONFIG = """
task = "arith"
strategies = ["direct", "self_refine:max_rounds=1"]
model = "mock/m"
limit = 3
max-tokens = 32
baselines = "none"
seed = 4
task_options = { level = 1 }
"""


def test_config_file_gives_the_options_and_flags_override_it(tmp_path: Path) -> None:
    cfg = tmp_path / "exp.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    db, out = tmp_path / "r.db", tmp_path / "summary.json"
    result = runner.invoke(
        app, ["run", "--config", str(cfg), "--limit", "2", "-q", "--db", str(db), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text(encoding="utf-8"))
    config = RunConfig.model_validate(summary["config"])
    assert config.limit == 2  # the flag wins over the file's 3
    assert (config.max_tokens, config.seed, config.baselines) == (32, 4, "none")
    assert config.task_options == {"level": "1"}
    assert [s.display() for s in config.strategies] == ["direct", "self_refine:max_rounds=1"]
    assert config.config_file is not None
    assert config.config_file["path"] == str(cfg)
    assert config.config_file["content"]["limit"] == 3  # the file as read, not as overridden
    # stored with the run, so a resume rebuilds the same config (file content included)
    record = Store(db).get_run(summary["run_id"])
    assert record is not None
    assert RunConfig.model_validate(record.config).config_file == config.config_file
    assert {s["name"] for s in summary["strategies"]} == {"direct", "self_refine:max_rounds=1"}


def test_unknown_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "exp.toml"
    cfg.write_text('task = "arith"\nmodel = "mock/m"\nstrategy = "direct"\nmax_tokenz = 3\n')
    result = runner.invoke(app, ["run", "--config", str(cfg), "--db", str(tmp_path / "r.db")])
    assert isinstance(result.exception, ConfigError), result.output
    message = str(result.exception)
    assert str(cfg) in message and "'max_tokenz'" in message and "max_tokens" in message


def test_bad_toml_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("task = \n")
    for path, needle in ((cfg, "not valid TOML"), (tmp_path / "none.toml", "cannot read")):
        result = runner.invoke(app, ["run", "--config", str(path)])
        assert isinstance(result.exception, ConfigError), result.output
        assert str(path) in str(result.exception) and needle in str(result.exception)


def test_without_config_the_required_flags_are_still_required(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "--task", "arith", "--model", "mock/m"])
    assert result.exit_code == 2 and "--strategy" in result.output
