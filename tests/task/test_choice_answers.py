"""Multiple choice (answer=choice): options in the prompt, letter or option-text extraction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import InputError
from reflectlab.task import get_task
from reflectlab.task._scorers import ChoiceAnswer

MMLU = {"question": "Capital of France?", "choices": ["Berlin", "Paris", "Rome"], "answer": 1}
CSQA = {
    "id": "q7",
    "question": "Where do you keep milk cold?",
    "choices": {
        "label": ["A", "B", "C", "D", "E"],
        "text": ["oven", "fridge", "car", "desk", "sun"],
    },
    "answerKey": "B",
}


def task_of(tmp_path: Path, rows: list[dict[str, Any]], **options: Any) -> Any:
    path = tmp_path / "mc.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return get_task(f"jsonl:{path}", answer="choice", input_field="question", **options)


def test_the_prompt_lists_the_options_with_letters(tmp_path: Path) -> None:
    task = task_of(tmp_path, [MMLU], target_field="answer", choices_field="choices")
    sample = task.samples()[0]
    assert sample.target == "B"  # MMLU's 0-based index
    view = sample.view(task.public_metadata)
    assert view.metadata["choices"] == ["Berlin", "Paris", "Rome"]  # public: part of the question
    prompt = task.format_prompt(view)
    assert "Capital of France?\n\nA. Berlin\nB. Paris\nC. Rome\n\n" in prompt
    assert "letter" in prompt and task.answer_kind == "choice"


@pytest.mark.parametrize(
    ("reply", "letter"),
    [
        ("Paris is the capital.\nAnswer: B", "B"),
        ("The answer is (B).", "B"),
        ("Answer: B. Paris", "B"),
        ("I pick option C", "C"),
        ("Thinking...\nAnswer: Paris", "B"),  # the option's text
        ("\\boxed{A}", "A"),
        ("Reasoning.\nB", "B"),  # a bare letter on the last line
        ("Reasoning.\n(C)", "C"),
        ("A city on the Seine, obviously.", None),  # "A" as an article is not option A
        ("Answer: D", None),  # no option D
        ("Answer: London", None),
    ],
)
def test_letter_and_option_text_extraction(reply: str, letter: str | None) -> None:
    got = ChoiceAnswer().extract(reply, ["Berlin", "Paris", "Rome"]).value
    assert got == letter


async def test_commonsenseqa_labels_and_scoring(tmp_path: Path) -> None:
    task = task_of(tmp_path, [CSQA], target_field="answerKey", id_field="id")
    sample = task.samples()[0]
    assert (sample.id, sample.target) == ("q7", "B")
    assert (await task.score(sample, "Cold keeps in the fridge.\nAnswer: B")).correct
    wrong = await task.score(sample, "Answer: A")
    assert not wrong.correct and wrong.answer == "A"
    assert task.extract(sample.view(task.public_metadata), "Answer: fridge").value == "B"


def test_a_target_given_as_option_text(tmp_path: Path) -> None:
    row = {"question": "2+2?", "choices": ["3", "4"], "answer": "4"}
    assert task_of(tmp_path, [row], target_field="answer").samples()[0].target == "B"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"question": "q", "choices": ["x", "y"], "answer": 5}, "answer", "out of range"),
        ({"question": "q", "choices": ["x", "y"], "answer": "z"}, "answer", "not one of"),
        ({"question": "q", "choices": ["x"], "answer": 0}, "choices", "2 to 26 options"),
        ({"question": "q", "choices": "x, y", "answer": 0}, "choices", ""),
        ({"question": "q", "answer": 0}, "choices", ""),
    ],
)
def test_bad_rows_are_input_errors_naming_the_field(
    tmp_path: Path, row: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InputError) as err:
        task_of(tmp_path, [row], target_field="answer")
    assert field in str(err.value) and message in str(err.value) and "mc.jsonl" in str(err.value)
