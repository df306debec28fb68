"""HumanEval: real problems scored in the sandbox, reply forms, visible-example checks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.task import HumanEvalTask, Sample, docstring_examples, extract_code, get_task
from support.data import SHARED_DATA, shared_data

DATA = SHARED_DATA / "humaneval"
# Two HumanEval prompts show an example their own canonical solution does not reproduce:
# median([-10, 4, 6, 1000, 10, 20]) is 8.0, not the 15.0 the docstring says (HumanEval/47),
# and bf("Earth", "Mercury") returns the tuple ("Venus",), shown as ("Venus") (HumanEval/148).
WRONG_DOCSTRING_EXAMPLES = {"HumanEval/47", "HumanEval/148"}


@pytest.fixture(scope="module")
def humaneval() -> HumanEvalTask:
    path = DATA / "HumanEval.jsonl.gz"
    if not path.exists():
        pytest.skip(f"{path} not present")
    task = get_task(f"humaneval:{path}")
    assert isinstance(task, HumanEvalTask)
    return task


def _by_id(task: HumanEvalTask, task_id: str) -> Sample:
    return next(s for s in task.samples() if s.id == task_id)


def _drop_last_line(code: str) -> str:
    return "\n".join(code.rstrip().split("\n")[:-1]) + "\n"


async def test_all_canonical_solutions_pass(humaneval: HumanEvalTask) -> None:
    samples = humaneval.samples()
    assert len(samples) == 164 and samples[0].id == "HumanEval/0"
    scores = await asyncio.gather(
        *(humaneval.score(s, s.target["canonical_solution"]) for s in samples)
    )
    failed = {s.id: sc.reason for s, sc in zip(samples, scores, strict=True) if not sc.correct}
    assert failed == {}


async def test_solutions_without_their_last_line_fail(humaneval: HumanEvalTask) -> None:
    samples = humaneval.samples()[::4]
    scores = await asyncio.gather(
        *(humaneval.score(s, _drop_last_line(s.target["canonical_solution"])) for s in samples)
    )
    passed = [s.id for s, sc in zip(samples, scores, strict=True) if sc.correct]
    assert passed == []
    # One-line solutions become empty replies; the rest fail their tests.
    assert {(sc.reason or "").split(":")[0] for sc in scores} == {"tests failed", "empty reply"}


async def test_chat_reply_forms_are_accepted(humaneval: HumanEvalTask) -> None:
    sample = _by_id(humaneval, "HumanEval/2")  # truncate_number(number: float) -> float
    fenced = (
        "Sure! Here is the function:\n\n```python\ndef truncate_number(number: float) -> float:"
        "\n    return number % 1.0\n```\nIt uses the modulo operator."
    )
    bare = "Here you go:\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n"
    completion = "    return number % 1.0\n"
    wrong = "```python\ndef truncate_number(number: float) -> float:\n    return number\n```"
    results = await asyncio.gather(
        *(humaneval.score(sample, r) for r in (fenced, bare, completion, wrong))
    )
    assert [r.correct for r in results] == [True, True, True, False]
    assert results[0].details["code_from"] == "fenced block"
    empty = await humaneval.score(sample, "   ")
    assert not empty.correct and empty.reason == "empty reply"
    # Extraction for voting: the same code in different wrappers votes together.
    assert humaneval.extract(sample, fenced).value == humaneval.extract(sample, bare).value


async def test_helpers_from_the_prompt_stay_available_to_a_full_definition(
    humaneval: HumanEvalTask,
) -> None:
    sample = _by_id(humaneval, "HumanEval/10")  # make_palindrome; prompt defines is_palindrome
    assert "def is_palindrome" in sample.input
    reply = (
        "```python\ndef make_palindrome(string: str) -> str:\n"
        "    for i in range(len(string) + 1):\n"
        "        if is_palindrome(string[i:]):\n"
        "            return string + string[:i][::-1]\n```"
    )
    assert (await humaneval.score(sample, reply)).correct


async def test_a_program_that_never_ends_is_stopped(humaneval: HumanEvalTask) -> None:
    path = shared_data("humaneval", "HumanEval.jsonl.gz")
    task = get_task(f"humaneval:{path}", n=1, timeout=2, cpu_seconds=1)
    score = await task.score(task.samples()[0], "    while True:\n        pass\n")
    assert not score.correct
    assert score.details["sandbox_reason"] in ("cpu", "timeout")


def test_visible_examples_are_taken_from_the_prompt(humaneval: HumanEvalTask) -> None:
    doctest_style = _by_id(humaneval, "HumanEval/0")
    assert docstring_examples(doctest_style.input, "has_close_elements") == [
        ("has_close_elements([1.0, 2.0, 3.0], 0.5)", "False"),
        ("has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)", "True"),
    ]
    arrow_style = _by_id(humaneval, "HumanEval/72")  # will_it_fly([1, 2], 5) ➞ False
    assert ("will_it_fly([1, 2], 5)", "False") in docstring_examples(
        arrow_style.input, "will_it_fly"
    )
    # "is_simple_power(1, 4) => true" is not Python; "tri(1) = 3" defines the sequence (a
    # single "=" is not read as an example at all, since such lines also state definitions).
    assert docstring_examples(_by_id(humaneval, "HumanEval/76").input, "is_simple_power") == []
    assert docstring_examples(_by_id(humaneval, "HumanEval/130").input, "tri") == []
    with_examples = [
        s for s in humaneval.samples() if docstring_examples(s.input, s.metadata["entry_point"])
    ]
    assert len(with_examples) >= 120


async def test_canonical_solutions_pass_their_visible_examples(humaneval: HumanEvalTask) -> None:
    """Examples are read correctly: canonical solutions pass them, except where the prompt
    itself is wrong. (Every fourth problem, plus the two known ones, to keep the test short.)"""
    samples = [
        s
        for i, s in enumerate(humaneval.samples())
        if i % 4 == 0 or s.id in WRONG_DOCSTRING_EXAMPLES
    ]
    checks = await asyncio.gather(
        *(humaneval.check(s, s.target["canonical_solution"]) for s in samples)
    )
    failing = {s.id: c.feedback for s, c in zip(samples, checks, strict=True) if not c.passed}
    assert set(failing) == WRONG_DOCSTRING_EXAMPLES
    assert (
        "median([-10, 4, 6, 1000, 10, 20]) returned 8.0, expected 15.0" in (failing["HumanEval/47"])
    )


async def test_check_feedback_names_failing_examples_and_errors(humaneval: HumanEvalTask) -> None:
    sample = _by_id(humaneval, "HumanEval/0")
    wrong = await humaneval.check(sample, "    return False\n")
    assert not wrong.passed
    assert "1 of 2 examples" in wrong.feedback
    assert "has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3) returned False" in (
        wrong.feedback
    )
    crash = await humaneval.check(sample, "    return numbers[99]\n")
    assert "raised IndexError" in crash.feedback
    broken = await humaneval.check(sample, "    return (\n")
    assert not broken.passed and "does not run" in broken.feedback
    assert "SyntaxError" in broken.feedback
    # The hidden tests never reach the check's feedback.
    assert "3.9" not in wrong.feedback


async def test_check_without_visible_examples_says_so(humaneval: HumanEvalTask) -> None:
    sample = next(
        s for s in humaneval.samples() if not docstring_examples(s.input, s.metadata["entry_point"])
    )
    result = await humaneval.check(sample, sample.target["canonical_solution"])
    assert result.passed and "none were tested" in result.feedback


def test_extract_code_modes() -> None:
    reply, how = extract_code("```py\nx = 1\n```\n```python\ndef f(a):\n    return a\n```", "f")
    assert reply is not None and reply.mode == "full" and how == "fenced block"
    assert reply.code.startswith("def f(a):")
    body, _ = extract_code("    return a + 1", "f")
    assert body is not None and body.mode == "completion"
    unterminated, _ = extract_code("```python\ndef f(a):\n    return a", "f")
    assert unterminated is not None and unterminated.code == "def f(a):\n    return a\n"
    assert extract_code("", "f") == (None, "empty reply")


def test_malformed_file(tmp_path: Path) -> None:
    good = {"task_id": "T/0", "prompt": "def f():\n", "entry_point": "f",
            "test": "def check(candidate):\n    pass\n"}  # fmt: skip
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "task_id": "T/1", "test": "x"}))
    with pytest.raises(InputError, match=r"he\.jsonl, line 2, field 'test': must define check"):
        get_task(f"humaneval:{path}")
    path.write_text(json.dumps(good) + "\n" + json.dumps(good))
    with pytest.raises(InputError, match="line 2, field 'task_id': duplicate"):
        get_task(f"humaneval:{path}")
    path.write_text(json.dumps({**good, "entry_point": "not a name"}))
    with pytest.raises(InputError, match="line 1, field 'entry_point'"):
        get_task(f"humaneval:{path}")


async def test_humaneval_example_samples_hostile_and_odd_completions() -> None:
    """HumanEval's own example samples: a shell command, a long sleep, reading stdin, and three
    indentations of the right answer. Only the right answers pass; none of them can hang."""
    problem, samples = DATA / "example_problem.jsonl", DATA / "example_samples.jsonl"
    if not (problem.exists() and samples.exists()):
        pytest.skip("HumanEval example files not present")
    task = get_task(f"humaneval:{problem}", timeout=2, cpu_seconds=1)
    sample = task.samples()[0]
    completions = [json.loads(line)["completion"] for line in samples.read_text().splitlines()]
    scores = await asyncio.gather(*(task.score(sample, c) for c in completions))
    assert [s.correct for s in scores] == [False, False, False, True, True, True]
    assert scores[1].details["sandbox_reason"] == "timeout"
    assert "EOFError" in (scores[2].reason or "")
