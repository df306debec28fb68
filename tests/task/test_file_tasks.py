"""Tasks from the user's own JSONL/CSV/datasets files, their answer scorers and their errors."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import ConfigError, InputError
from reflectlab.task import FileTask, Sample, Score, Scorer, get_task


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture
def qa(tmp_path: Path) -> Path:
    return write_jsonl(
        tmp_path / "qa.jsonl",
        [
            {"question": "How many legs has a spider?", "answer": 8, "topic": "zoology"},
            {"question": "1,000 + 1,000?", "answer": "2,000"},
            {"question": "Half of 5?", "answer": "2.50"},
        ],
    )


async def test_numeric_jsonl_task_scores_normalised_numbers(qa: Path) -> None:
    task = get_task(f"jsonl:{qa}", input_field="question", target_field="answer", answer="numeric")
    samples = task.samples()
    assert [s.id for s in samples] == ["0", "1", "2"]
    assert [s.target for s in samples] == ["8", "2000", "2.5"]
    assert samples[0].metadata["topic"] == "zoology"
    assert "Answer: <number>" in task.format_prompt(samples[0])
    assert task.answer_kind == "number"
    assert (await task.score(samples[0], "Eight legs... Answer: 8")).correct
    assert (await task.score(samples[1], "It is $2,000.")).correct
    assert (await task.score(samples[2], "Answer: 2.5")).correct
    wrong = await task.score(samples[2], "Answer: 3")
    assert not wrong.correct and wrong.answer == "3" and "2.5" in (wrong.reason or "")


async def test_reply_without_an_answer_is_wrong_with_its_reason(qa: Path) -> None:
    task = get_task(f"jsonl:{qa}", input_field="question", target_field="answer", answer="numeric")
    score = await task.score(task.samples()[0], "No idea, sorry.")
    assert not score.correct and score.reason == "no number in the reply"
    assert task.extract(task.samples()[0], "").value is None


async def test_exact_answers_ignore_case_quotes_markdown_and_final_period(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "capitals.jsonl", [{"id": "fr", "input": "Capital of France?",
                                                      "target": "Paris"}])  # fmt: skip
    task = get_task(f"jsonl:{path}", id_field="id")
    sample = task.samples()[0]
    assert sample.id == "fr"
    for reply in ["Answer: Paris", 'The answer is **"paris".**', "Let me think.\nParis"]:
        assert (await task.score(sample, reply)).correct, reply
    assert not (await task.score(sample, "Answer: Lyon")).correct
    # Equal answers give equal normalised values, so they vote together.
    assert task.extract(sample, "Answer: PARIS").value == task.extract(sample, "paris.").value


async def test_regex_targets_must_match_the_whole_answer(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"input": "Name a primary colour.",
                                               "target": "red|blue|yellow"}])  # fmt: skip
    task = get_task(f"jsonl:{path}", answer="regex")
    sample = task.samples()[0]
    assert (await task.score(sample, "Answer: Blue")).correct
    assert not (await task.score(sample, "Answer: blue-green")).correct


def test_invalid_regex_target_fails_at_load_time_naming_line_and_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [{"input": "a", "target": "x"},
                                              {"input": "b", "target": "(unclosed"}])  # fmt: skip
    with pytest.raises(InputError, match=r"r\.jsonl, line 2, field 'target'.*regular expression"):
        get_task(f"jsonl:{path}", answer="regex")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"input": "q", "target": "1"}, "{not json"], r"line 2: not valid JSON"),
        ([{"input": "q", "target": "1"}, [1, 2]], r"line 2: expected a JSON object"),
        ([{"input": "q"}], r"line 1, field 'target': missing"),
        ([{"input": "", "target": "1"}], r"line 1, field 'input': must not be empty"),
        ([{"input": ["q"], "target": "1"}], r"line 1, field 'input': must be str"),
        ([{"input": "q", "target": "seven"}], r"line 1, field 'target': must be a number"),
        ([{"input": "q", "target": True}], r"line 1, field 'target': must be str or int or float"),
        ([], r"no rows"),
    ],
)
def test_malformed_rows_are_input_errors_naming_file_line_field(
    tmp_path: Path, rows: list[Any], message: str
) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(InputError, match=message) as info:
        get_task(f"jsonl:{path}", answer="numeric")
    assert str(path) in str(info.value)


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    path = tmp_path / "gaps.jsonl"
    path.write_text('{"input": "a", "target": "1"}\n\n{"input": "b"}\n')
    with pytest.raises(InputError, match="line 3, field 'target'"):
        get_task(f"jsonl:{path}")


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"k": 1, "input": "a", "target": "x"},
                                              {"k": "1", "input": "b", "target": "y"}])  # fmt: skip
    with pytest.raises(
        InputError, match=r"line 2, field 'k': duplicate id '1' \(first on line 1\)"
    ):
        get_task(f"jsonl:{path}", id_field="k")


def test_missing_file_and_unknown_option(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        get_task(f"jsonl:{tmp_path / 'nope.jsonl'}")
    path = write_jsonl(tmp_path / "ok.jsonl", [{"input": "a", "target": "1"}])
    with pytest.raises(ConfigError, match="unknown option 'target_feild'"):
        get_task(f"jsonl:{path}", target_feild="answer")
    with pytest.raises(ConfigError, match="option 'answer'"):
        get_task(f"jsonl:{path}", answer="fuzzy")
    with pytest.raises(ConfigError, match="unknown option 'delimiter'"):
        get_task(f"jsonl:{path}", delimiter=";")


async def test_csv_task_with_custom_fields_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('id;q;a\nx1;"What is\n2+2?";4\nx2;3*3?;9\n')
    task = get_task(f"csv:{path}", delimiter=";", input_field="q", target_field="a",
                    id_field="id", answer="numeric")  # fmt: skip
    assert [s.id for s in task.samples()] == ["x1", "x2"]
    assert task.samples()[0].input == "What is\n2+2?"
    assert (await task.score(task.samples()[1], "Answer: 9")).correct


def test_csv_row_with_wrong_field_count_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('input,target\n"multi\nline",1\nonly-one-field\n')
    with pytest.raises(InputError, match=r"m\.csv, line 4: has 1 fields but the header has 2"):
        get_task(f"csv:{path}")


def test_datasets_files_need_the_datasets_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "datasets", None)  # import fails as if not installed
    with pytest.raises(ConfigError, match="pip install datasets"):
        get_task(f"parquet:{path}")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        get_task(f"hf:{tmp_path / 'd.xlsx'}")


def test_datasets_rows_are_validated_like_any_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``datasets`` installed, the loader asks it for the local file with the builder
    matching the suffix and validates each row; a stand-in module records the call."""
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1")
    calls: list[tuple[Any, ...]] = []
    rows = [{"question": "2+2?", "answer": 4}, {"question": "3+3?", "answer": None}]

    def load_dataset(builder: str, *, data_files: dict[str, str], split: str) -> list[Any]:
        calls.append((builder, data_files, split))
        return rows

    fake = types.ModuleType("datasets")
    fake.load_dataset = load_dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datasets", fake)
    with pytest.raises(InputError, match=r"d\.parquet, line 2, field 'answer': missing"):
        get_task(f"hf:{path}", input_field="question", target_field="answer", split="test")
    assert calls == [("parquet", {"test": str(path)}, "test")]
    rows.pop()
    task = get_task(f"parquet:{path}", input_field="question", target_field="answer",
                    answer="numeric")  # fmt: skip
    assert [(s.id, s.target) for s in task.samples()] == [("0", "4")]


class _LengthScorer:
    """A stand-in for a model-graded scorer: anything with the Scorer signature plugs in."""

    async def __call__(self, sample: Sample, response: str) -> Score:
        ok = len(response) <= 10
        return Score(correct=ok, value=float(ok), reason=None if ok else "too long")


async def test_a_custom_scorer_replaces_the_answer_scorer(qa: Path) -> None:
    scorer = _LengthScorer()
    assert isinstance(scorer, Scorer)
    task = get_task(f"jsonl:{qa}", input_field="question", target_field="answer",
                    scorer=scorer)  # fmt: skip
    assert isinstance(task, FileTask)
    assert (await task.score(task.samples()[0], "short")).correct
    assert (await task.score(task.samples()[0], "a much longer reply")).reason == "too long"
    with pytest.raises(ConfigError, match="scorer must be"):
        get_task(f"jsonl:{qa}", input_field="question", target_field="answer", scorer="judge")
