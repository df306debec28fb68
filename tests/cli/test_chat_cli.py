"""`reflectlab chat`, `cache` and `--version` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from reflectlab import __version__
from reflectlab.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_chat_json_twice_is_served_from_cache(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    args = ["chat", "-m", "mock/echo", "--max-tokens", "5", "--json", "--db", db, "What is 2+3?"]
    first = json.loads(runner.invoke(app, args).stdout)
    second = json.loads(runner.invoke(app, args).stdout)
    assert first["from_cache"] is False and second["from_cache"] is True
    assert first["text"] == second["text"]
    assert first["usage"]["prompt_tokens"] == 3
    stats = json.loads(runner.invoke(app, ["cache", "stats", "--json", "--db", db]).stdout)
    assert stats["entries"] == 1 and stats["hits"] == 1
    cleared = runner.invoke(app, ["cache", "clear", "--db", db])
    assert "deleted 1" in cleared.stdout
    third = json.loads(runner.invoke(app, args).stdout)
    assert third["from_cache"] is False


def test_chat_plain_prints_reply_and_system_message(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "chat",
            "-m",
            "mock/echo",
            "--system",
            "be brief",
            "--db",
            str(tmp_path / "r.db"),
            "hello",
        ],
    )
    assert result.exit_code == 0 and result.stdout.startswith("mock reply")


def test_bad_model_name_is_one_clear_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reflectlab",
            "chat",
            "-m",
            "nomodel",
            "--db",
            str(tmp_path / "r.db"),
            "hi",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "error:" in proc.stderr and "provider/model" in proc.stderr
    assert "Traceback" not in proc.stderr
