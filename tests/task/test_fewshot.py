"""Few-shot demonstrations: Wei et al. 2022's GSM8K exemplars, Q:/A: layout, never the sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.errors import ConfigError, InputError
from reflectlab.task import get_task
from reflectlab.task._demos import GSM8K_COT_8SHOT, load_demos

PROBLEMS = [
    {"question": "Tom has 3 apples and buys 2 more. How many apples?", "answer": "3+2=5\n#### 5"},
    {
        "question": "There are 15 trees in the grove. Grove workers will plant trees in the "
        "grove today. After they are done, there will be 21 trees. How many trees did the "
        "grove workers plant today?",
        "answer": "21-15=6\n#### 6",
    },
]


def gsm8k_file(tmp_path: Path) -> Path:
    path = tmp_path / "test.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in PROBLEMS) + "\n", encoding="utf-8")
    return path


def test_the_packaged_exemplars_are_wei_et_al_s_eight() -> None:
    demos = load_demos(GSM8K_COT_8SHOT)
    assert len(demos) == 8
    assert demos[0].question.startswith("There are 15 trees in the grove.")
    assert demos[-1].answer.endswith("23 - 15 is 8. The answer is 8.")
    assert all(d.answer.rstrip(".").split()[-1].isdigit() for d in demos)


def test_shots_put_the_demonstrations_before_the_question(tmp_path: Path) -> None:
    task = get_task(f"gsm8k:{gsm8k_file(tmp_path)}", shots=8)
    sample = task.samples()[0]
    prompt = task.format_prompt(sample.view(task.public_metadata))
    blocks = prompt.split("\n\n")
    assert len(blocks) == 9
    assert blocks[0].startswith("Q: There are 15 trees") and "\nA: There are 15 trees" in blocks[0]
    assert blocks[-1] == f"Q: {sample.input}\nA:"
    assert "####" not in prompt and "3+2=5" not in prompt  # never the sample's solution
    assert task.describe()["shots"] == 8


def test_a_sample_never_sees_itself_as_a_demonstration(tmp_path: Path) -> None:
    task = get_task(f"gsm8k:{gsm8k_file(tmp_path)}", shots=7)
    sample = task.samples()[1]  # the same question as the first exemplar
    prompt = task.format_prompt(sample.view(task.public_metadata))
    assert prompt.count("There are 15 trees in the grove") == 1  # only as the question
    assert prompt.count("Q: ") == 8  # still 7 shots: the next exemplar fills in
    assert prompt.endswith(f"Q: {sample.input}\nA:")


def test_a_demos_file_in_gsm8k_layout_and_the_id_check(tmp_path: Path) -> None:
    demos = tmp_path / "train.jsonl"
    rows = [
        {"id": "0", "question": "Same id as sample 0.", "answer": "1+1=<<1+1=2>>2\n#### 2"},
        {"question": "Ann has 4 pens and loses 1. How many?", "answer": "4-1=<<4-1=3>>3\n#### 3"},
    ]
    demos.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    task = get_task(f"gsm8k:{gsm8k_file(tmp_path)}", shots=1, demos=str(demos))
    prompt = task.format_prompt(task.samples()[0].view(task.public_metadata))
    assert prompt.startswith("Q: Ann has 4 pens and loses 1. How many?\nA: 4-1=3 The answer is 3.")
    assert "Same id" not in prompt


def test_without_shots_the_prompt_is_unchanged(tmp_path: Path) -> None:
    task = get_task(f"gsm8k:{gsm8k_file(tmp_path)}")
    sample = task.samples()[0]
    prompt = task.format_prompt(sample.view(task.public_metadata))
    assert prompt.startswith(sample.input) and "Answer: <number>" in prompt


def test_bad_demo_options_are_errors(tmp_path: Path) -> None:
    path = gsm8k_file(tmp_path)
    with pytest.raises(ConfigError, match="8 demonstrations"):
        get_task(f"gsm8k:{path}", shots=9)
    with pytest.raises(ConfigError, match="needs shots"):
        get_task(f"gsm8k:{path}", demos=str(path))
    with pytest.raises(ConfigError, match="shots"):
        get_task(f"gsm8k:{path}", shots=-1)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "q"}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        get_task(f"gsm8k:{path}", shots=1, demos=str(broken))
    assert "broken.jsonl" in str(err.value) and "answer" in str(err.value)


def test_file_tasks_take_demos_too_with_choices_listed(tmp_path: Path) -> None:
    data = tmp_path / "mc.jsonl"
    rows = [
        {"question": "Capital of France?", "choices": ["Berlin", "Paris"], "answer": 1},
        {"question": "Capital of Italy?", "choices": ["Rome", "Oslo"], "answer": 0},
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    demos = tmp_path / "demos.jsonl"
    demo_rows = [
        {"question": "Capital of France?", "choices": ["Berlin", "Paris"], "answer": "Answer: B"},
        {"question": "Capital of Spain?", "choices": ["Madrid", "Lima"], "answer": "Answer: A"},
    ]
    demos.write_text("\n".join(json.dumps(r) for r in demo_rows), encoding="utf-8")
    options = {"input_field": "question", "target_field": "answer", "answer": "choice"}
    task = get_task(f"jsonl:{data}", shots=1, demos=str(demos), **options)
    sample = task.samples()[0]
    prompt = task.format_prompt(sample.view(task.public_metadata))
    assert prompt.startswith("Give the letter")  # the answer format, then the shots
    assert "Q: Capital of Spain?\nA. Madrid\nB. Lima\nA: Answer: A" in prompt
    assert prompt.count("Capital of France?") == 1  # the sample itself is never a shot
    assert prompt.endswith("Q: Capital of France?\n\nA. Berlin\nB. Paris\nA:")
    with pytest.raises(ConfigError, match="both shots=N and demos=FILE"):
        get_task(f"jsonl:{data}", shots=1, **options)
    with pytest.raises(ConfigError, match="2 demonstrations"):
        get_task(f"jsonl:{data}", shots=3, demos=str(demos), **options)
