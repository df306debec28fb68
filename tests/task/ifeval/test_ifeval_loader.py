"""Loading IFEval input and response files: good rows load, bad rows name file, line, field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.task.ifeval import load_ifeval_inputs, load_ifeval_responses

GOOD = {
    "key": 1000,
    "prompt": "Say hi without commas.",
    "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
    "kwargs": [{}, {"num_words": 2, "relation": "at least"}],
}


def _write(path: Path, *rows: object) -> Path:
    path.write_text(
        "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows),
        encoding="utf-8",
    )
    return path


def test_loads_records_in_file_order(tmp_path: Path) -> None:
    second = {**GOOD, "key": "b-2", "prompt": "Another."}
    records = load_ifeval_inputs(_write(tmp_path / "in.jsonl", GOOD, "", second))
    assert [record.id for record in records] == ["1000", "b-2"]
    assert records[0].instruction_ids == (
        "punctuation:no_comma",
        "length_constraints:number_words",
    )
    assert records[0].kwargs[1] == {"num_words": 2, "relation": "at least"}


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("{not json", None, "not valid JSON"),
        ("[1, 2]", None, "expected a JSON object"),
        ({**GOOD, "key": None}, "key", "integer or a non-empty string"),
        ({**GOOD, "prompt": 3}, "prompt", "must be a string"),
        ({**GOOD, "instruction_id_list": []}, "instruction_id_list", "non-empty list"),
        ({**GOOD, "kwargs": [{}]}, "kwargs", "has 1 entries for 2 instructions"),
        ({**GOOD, "kwargs": [{}, "x"]}, "kwargs", "list of objects"),
        (
            {**GOOD, "instruction_id_list": ["punctuation:no_comma", "length:words"]},
            "instruction_id_list[1]",
            "unknown IFEval instruction 'length:words'",
        ),
        (
            {**GOOD, "kwargs": [{}, {"num_words": 2, "relation": "about"}]},
            "kwargs[1].relation",
            "must be one of",
        ),
    ],
)
def test_malformed_row_names_file_line_and_field(
    tmp_path: Path, row: object, field: str | None, message: str
) -> None:
    path = _write(tmp_path / "in.jsonl", GOOD, row)
    with pytest.raises(InputError, match=message) as info:
        load_ifeval_inputs(path)
    assert info.value.path == str(path)
    assert info.value.line == 2
    assert info.value.field == field
    assert f"{path}, line 2" in str(info.value)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="duplicate key '1000'") as info:
        load_ifeval_inputs(_write(tmp_path / "in.jsonl", GOOD, {**GOOD, "prompt": "Other"}))
    assert (info.value.line, info.value.field) == (2, "key")


def test_missing_or_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_ifeval_inputs(tmp_path / "absent.jsonl")
    with pytest.raises(InputError, match="no records"):
        load_ifeval_inputs(_write(tmp_path / "empty.jsonl", ""))


def test_responses_align_with_records_by_prompt(tmp_path: Path) -> None:
    second = {**GOOD, "key": 2, "prompt": "Another."}
    records = load_ifeval_inputs(_write(tmp_path / "in.jsonl", GOOD, second))
    responses_path = _write(
        tmp_path / "out.jsonl",
        {"prompt": "Another.", "response": "two"},
        {"prompt": "Unrelated prompt", "response": "ignored"},
        {"prompt": GOOD["prompt"], "response": "one"},
    )
    assert load_ifeval_responses(responses_path, records) == ["one", "two"]


def test_response_problems_are_named(tmp_path: Path) -> None:
    records = load_ifeval_inputs(_write(tmp_path / "in.jsonl", GOOD))
    missing = _write(tmp_path / "missing.jsonl", {"prompt": "Other", "response": "x"})
    with pytest.raises(InputError, match=r"no response for 1 record\(s\): 1000"):
        load_ifeval_responses(missing, records)
    bad = _write(tmp_path / "bad.jsonl", {"prompt": GOOD["prompt"], "response": None})
    with pytest.raises(InputError) as info:
        load_ifeval_responses(bad, records)
    assert (info.value.line, info.value.field) == (1, "response")
    twice = _write(
        tmp_path / "twice.jsonl",
        {"prompt": GOOD["prompt"], "response": "a"},
        {"prompt": GOOD["prompt"], "response": "b"},
    )
    with pytest.raises(InputError, match="second, different response") as info:
        load_ifeval_responses(twice, records)
    assert info.value.line == 2
