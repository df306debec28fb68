"""Code execution feedback: real sandbox runs of small programs, verdicts and clipped output."""

from __future__ import annotations

from typing import Any

import pytest

from reflectlab.errors import ConfigError
from reflectlab.feedback import (
    CodeExecutionFeedback,
    FeedbackRequest,
    extract_python_code,
)
from reflectlab.feedback._execution import clip
from support.numbers import make_ctx


async def run(
    code: str | None, *, timeout_s: float = 10.0, **options: Any
) -> tuple[str, str, dict[str, Any]]:
    source = CodeExecutionFeedback.with_timeout(timeout_s, **options)
    fb = await source(make_ctx([]), FeedbackRequest(response="Answer: 5", round=1, code=code))
    assert fb.kind == "tool"
    assert fb.round == 1
    return fb.text, fb.verdict, fb.details


async def test_output_is_the_feedback_and_no_marker_means_unknown() -> None:
    text, verdict, details = await run("print(2+3)")
    assert "finished normally" in text
    assert "Output:\n5" in text
    assert verdict == "unknown"
    assert details["reason"] == "ok"


@pytest.mark.parametrize(
    ("code", "verdict"),
    [
        ("print('VERDICT: PASS')", "correct"),
        ("print('VERDICT: FAIL')", "incorrect"),
        ("print('VERDICT: PASS')\nprint('verdict: fail')", "incorrect"),  # the last one wins
        ("print('VERDICT: FAIL')\nraise SystemExit(1)", "incorrect"),
        ("print('VERDICT: PASS')\nraise RuntimeError('x')", "unknown"),  # contradiction
        ("assert 2 + 2 == 5, 'sum is off'", "incorrect"),  # a failed check
    ],
)
async def test_verdict_from_marker_or_failed_assertion(code: str, verdict: str) -> None:
    assert (await run(code))[1] == verdict


async def test_a_crashing_program_is_unknown_with_its_error_shown() -> None:
    text, verdict, details = await run("x = 1\nraise ValueError('boom')")
    assert verdict == "unknown"
    assert "failed (exit status 1)" in text
    assert "ValueError: boom" in text
    assert details["reason"] == "error"


async def test_exit_mode_uses_the_exit_status() -> None:
    assert (await run("print('fine')", verdict="exit"))[1] == "correct"
    assert (await run("raise ValueError('x')", verdict="exit"))[1] == "incorrect"


async def test_a_program_that_loops_forever_is_stopped_and_unknown() -> None:
    text, verdict, details = await run("while True:\n    pass", timeout_s=1, verdict="exit")
    assert details["reason"] in ("timeout", "cpu")
    assert "stopped" in text
    assert verdict == "unknown"


async def test_long_output_is_clipped_keeping_start_and_end() -> None:
    text, _, _ = await run("print('START' + 'x' * 20000 + 'END')", max_chars=500)
    assert len(text) < 800
    assert "START" in text and "END" in text and "characters omitted" in text


async def test_missing_code_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"request\.code"):
        await run(None)


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="timeout_s"):
        CodeExecutionFeedback.with_timeout(0)
    with pytest.raises(ConfigError, match="verdict"):
        CodeExecutionFeedback(verdict="maybe")  # type: ignore[arg-type]


def test_clip_keeps_short_text_and_the_tail_of_errors() -> None:
    assert clip("short", 100) == "short"
    clipped = clip("a" * 1000 + "LAST LINE", 100, keep_tail=0.8)
    assert clipped.endswith("LAST LINE") and len(clipped) < 160


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("Here:\n```python\nprint(1)\n```\nDone.", "print(1)"),
        ("```py\na = 1\n```\ntext\n```python\nprint(a)\n```", "a = 1\n\nprint(a)"),
        ("```\nprint(2)\n```", "print(2)"),
        ("```text\nnot code\n```\n```python\nprint(3)\n```", "print(3)"),
        ("I would compute 2+3 in my head.", None),
        ("```python\n\n```", None),
    ],
)
def test_extract_python_code(reply: str, code: str | None) -> None:
    assert extract_python_code(reply) == code


@pytest.mark.parametrize(
    ("code", "mode"),
    [
        ("print('VERDICT: PASS')\nimport sys\nsys.exit(0)\nassert 2 + 2 == 5", "marker"),
        ("print('VERDICT: PASS')\nimport os\nos._exit(0)\nassert 2 + 2 == 5", "marker"),
        ("import sys\nsys.exit(0)\nassert 2 + 2 == 5", "exit"),
        ("raise SystemExit\nassert 2 + 2 == 5", "exit"),
        ("import os\nos._exit(0)\nassert 2 + 2 == 5", "exit"),
        (
            "import os, threading, time\nthreading.Thread(target=os._exit, args=(0,)).start()\n"
            "time.sleep(5)\nassert 2 + 2 == 5",
            "exit",
        ),
        (
            "import os, signal, time\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\n"
            "signal.alarm(1)\ntime.sleep(5)\nassert 2 + 2 == 5",
            "exit",
        ),
        ("import atexit, os\natexit.register(lambda: os._exit(0))\nassert 2 + 2 == 5", "exit"),
        ("import os, sys\nsys.excepthook = lambda *e: os._exit(0)\nassert 2 + 2 == 5", "exit"),
        ("import os\nif os.fork():\n    os._exit(0)\nassert 2 + 2 == 5", "exit"),
    ],
)
async def test_leaving_early_is_never_correct(code: str, mode: str) -> None:
    text, verdict, details = await run(code, verdict=mode)
    assert verdict != "correct", (text, details)
    assert details["completed"] is False


async def test_the_program_runs_as_main_and_its_traceback_is_its_own() -> None:
    _, verdict, details = await run("if __name__ == '__main__':\n    print('VERDICT: PASS')")
    assert (verdict, details["completed"]) == ("correct", True)
    text, _, _ = await run("x = 1\nraise ValueError('boom')")
    assert 'File "program.py", line 2, in <module>' in text
    assert "_run" not in text and "main.py" not in text


def test_a_file_named_like_the_program_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"program\.py"):
        CodeExecutionFeedback(files={"program.py": "print(1)"})
