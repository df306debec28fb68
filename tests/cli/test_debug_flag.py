"""An unexpected exception is one line and exit 1; ``--debug`` shows the traceback."""

from __future__ import annotations

import sys

import pytest

import reflectlab.cli.tasks as tasks_cli
from reflectlab.cli import main
from reflectlab.cli._app import options


def _boom() -> list[object]:
    raise RuntimeError("something broke")


def test_unexpected_error_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tasks_cli, "list_tasks", _boom)
    monkeypatch.setattr(sys, "argv", ["reflectlab", "tasks"])
    monkeypatch.setattr(options, "debug", False)
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err == ("error: RuntimeError: something broke (run with --debug for the traceback)\n")


def test_debug_re_raises_with_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks_cli, "list_tasks", _boom)
    monkeypatch.setattr(sys, "argv", ["reflectlab", "--debug", "tasks"])
    monkeypatch.setattr(options, "debug", False)
    with pytest.raises(RuntimeError, match="something broke"):
        main()


def test_bad_input_is_still_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["reflectlab", "strategies", "show", "nope"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("error: unknown strategy 'nope'")
