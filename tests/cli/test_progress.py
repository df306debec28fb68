"""Progress when stderr is not a terminal (a log file, CI, nohup): plain lines, not a bar."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reflectlab.cli import app
from reflectlab.cli._runview import PlainProgress, format_elapsed, run_with_progress
from reflectlab.store import ResultRecord, RunRecord

runner = CliRunner()


def _run(n_expected: int, n_done: int = 0) -> RunRecord:
    return RunRecord(
        run_id="20260101-ab12", created_at=0, updated_at=0, status="running", task="arith",
        model="mock/m", strategies=["direct"], n_samples=n_expected, n_expected=n_expected,
        config={}, versions={}, n_done=n_done,
    )  # fmt: skip


def _result(correct: bool, error: str | None = None) -> ResultRecord:
    return ResultRecord(
        run_id="20260101-ab12", strategy="direct", sample_id="s", final_response="x",
        final_correct=correct, stop_reason="done", error=error, prompt_tokens=10,
        completion_tokens=5,
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_every_tenth_and_every_interval() -> None:
    lines: list[str] = []
    clock = Clock()
    plain = PlainProgress(lines.append, every_s=30, every_fraction=0.1, clock=clock)
    plain.on_start(_run(800))
    assert lines == ["run 20260101-ab12: 0/800 results (0%), 0 errors, tok 0, elapsed 0s"]
    for k in range(79):  # 79 results: below a tenth, and no time passes
        plain.on_result(_result(k % 2 == 0, error="boom" if k < 3 else None))
    assert len(lines) == 1
    clock.now += 130
    plain.on_result(_result(False))  # the 80th: a tenth done
    assert lines[-1] == (
        "run 20260101-ab12: 80/800 results (10%), 3 errors, acc 0.50, tok 1,200, elapsed 2m10s"
    )
    plain.on_result(_result(True))
    assert len(lines) == 2
    clock.now += 30  # no new tenth, but 30 s since the last line
    plain.on_result(_result(True))
    assert len(lines) == 3 and lines[-1].startswith("run 20260101-ab12: 82/800 results (10%)")
    plain.finish()
    assert len(lines) == 3  # nothing new to say
    plain.on_result(_result(True))
    plain.finish()
    assert len(lines) == 4 and "83/800 results" in lines[-1]


def test_a_resumed_run_counts_from_what_was_done() -> None:
    lines: list[str] = []
    plain = PlainProgress(lines.append, clock=Clock())
    plain.on_start(_run(10, n_done=4))
    plain.on_result(_result(True))
    assert [line.split(": ")[1].split(",")[0] for line in lines] == [
        "4/10 results (40%)", "5/10 results (50%)",
    ]  # fmt: skip


def test_elapsed_format() -> None:
    assert [format_elapsed(s) for s in (0, 59.9, 130, 3600 + 5 * 60 + 7)] == [
        "0s", "59s", "2m10s", "1h05m",
    ]  # fmt: skip


def test_run_without_a_terminal_prints_plain_progress_to_stderr(tmp_path: Path) -> None:
    # CliRunner's stdout and stderr are not terminals, as in a log file or CI.
    args = ["run", "--task", "arith", "--strategy", "direct", "--model", "mock/m"]
    args += ["--limit", "20", "--baselines", "none", "--db", str(tmp_path / "r.db")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("run ")]
    assert re.fullmatch(r"run \S+: 0/20 results \(0%\), 0 errors, tok 0, elapsed \d+s", lines[0])
    assert re.fullmatch(
        r"run \S+: 20/20 results \(100%\), 0 errors, acc \d\.\d\d, tok [\d,]+, elapsed \d+s",
        lines[-1],
    )
    done = [int(line.split(": ")[1].split("/")[0]) for line in lines]
    assert done == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]  # the start, then every tenth
    assert "━" not in result.stderr  # no bar drawn into a log


def test_ctrl_c_without_a_terminal_prints_the_last_line_and_the_resume_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def start(
        on_result: Callable[[ResultRecord], None], on_start: Callable[[RunRecord], None]
    ) -> str:
        on_start(_run(4))
        on_result(_result(True))
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as info:
        run_with_progress(start, quiet=False)
    assert info.value.code == 130
    err = capsys.readouterr().err
    assert "run 20260101-ab12: 1/4 results (25%), 0 errors, acc 1.00" in err
    assert err.rstrip().endswith("Continue with: reflectlab resume 20260101-ab12")


def test_quiet_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    async def start(
        on_result: Callable[[ResultRecord], None], on_start: Callable[[RunRecord], None]
    ) -> str:
        on_start(_run(1))
        on_result(_result(True))
        return "20260101-ab12"

    assert run_with_progress(start, quiet=True) == "20260101-ab12"
    assert capsys.readouterr().err == ""
