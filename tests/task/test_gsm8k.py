"""GSM8K loading from the real test file, scoring and malformed files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.task import GSM8KTask, get_task
from support.data import SHARED_DATA

TEST_FILE = SHARED_DATA / "gsm8k" / "test.jsonl"


@pytest.fixture(scope="module")
def gsm8k() -> GSM8KTask:
    if not TEST_FILE.exists():
        pytest.skip(f"{TEST_FILE} not present")
    task = get_task(f"gsm8k:{TEST_FILE}")
    assert isinstance(task, GSM8KTask)
    return task


def test_real_test_set_ids_targets_and_prompt(gsm8k: GSM8KTask) -> None:
    samples = gsm8k.samples()
    assert len(samples) == 1319
    assert [s.id for s in samples[:3]] == ["0", "1", "2"]
    assert samples[0].input.startswith("Janet’s ducks lay 16 eggs per day.")
    assert [s.target for s in samples[:3]] == ["18", "3", "70000"]
    # The worked solution is kept for reference but is not part of the prompt.
    assert "16 - 3 - 4" in samples[0].metadata["solution"]
    prompt = gsm8k.format_prompt(samples[0])
    assert prompt.startswith(samples[0].input) and "Answer: <number>" in prompt
    assert "####" not in prompt and "16 - 3 - 4" not in prompt


async def test_scoring_replies(gsm8k: GSM8KTask) -> None:
    sample = gsm8k.samples()[2]  # target 70000
    assert (await gsm8k.score(sample, "So he made a profit of $70,000.")).correct
    wrong = await gsm8k.score(sample, "Answer: 120,000")
    assert not wrong.correct and wrong.answer == "120000"
    missing = await gsm8k.score(sample, "I cannot solve this.")
    assert not missing.correct and missing.reason == "no number in the reply"


def test_n_option_keeps_the_first_problems(gsm8k: GSM8KTask) -> None:
    task = get_task(f"gsm8k:{TEST_FILE}", n=5, seed=3)  # a runner passes seed to every task
    assert [s.id for s in task.samples()] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"question": "q", "answer": "so 4"}'], r"line 1, field 'answer': has no final '####"),
        (['{"question": "q", "answer": "#### many"}'], r"line 1, field 'answer': '####' is foll"),
        (['{"question": "q", "answer": "#### 4"}', ""], r"line 2: blank line"),
        (['{"answer": "#### 4"}'], r"line 1, field 'question': missing"),
        (['{"question": "q", "answer": "#### 4"}', "[1]"], r"line 2: expected a JSON object"),
    ],
)
def test_malformed_files(tmp_path: Path, lines: list[str], message: str) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=message):
        get_task(f"gsm8k:{path}")


def test_targets_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "x\n#### 1,200.0"}) + "\n")
    assert get_task(f"gsm8k:{path}").samples()[0].target == "1200"
