"""Strict/loose evaluation, the four accuracies, error handling and the public API surface."""

from __future__ import annotations

import doctest

import pytest

import reflectlab.task.ifeval as ifeval
from reflectlab.errors import ConfigError
from reflectlab.task.ifeval import (
    IFEvalInstructionError,
    IFEvalRecord,
    check_instruction,
    evaluate_response,
    loose_variants,
    score_responses,
)

Instruction = tuple[str, dict[str, object]]


def _record(key: str, *instructions: Instruction) -> IFEvalRecord:
    return IFEvalRecord(
        id=key,
        prompt=f"prompt {key}",
        instruction_ids=tuple(instruction for instruction, _ in instructions),
        kwargs=tuple(kwargs for _, kwargs in instructions),
    )


QUOTED: Instruction = ("startend:quotation", {})
NO_COMMA: Instruction = ("punctuation:no_comma", {})
TITLE: Instruction = ("detectable_format:title", {})


def test_loose_variants_are_the_eight_of_the_paper() -> None:
    variants = loose_variants("Sure, here:\n*body*\nbye")
    assert variants == (
        "Sure, here:\n*body*\nbye",
        "*body*\nbye",
        "Sure, here:\n*body*",
        "*body*",
        "Sure, here:\nbody\nbye",
        "body\nbye",
        "Sure, here:\nbody",
        "body",
    )


def test_loose_forgives_a_chatty_first_line_strict_does_not() -> None:
    record = _record("1", QUOTED, NO_COMMA)
    response = 'Sure, here it is:\n"A quiet day."'
    strict = evaluate_response(record, response, loose=False)
    loose = evaluate_response(record, response, loose=True)
    assert strict.follow_list == (False, False)
    assert not strict.follow_all
    assert loose.follow_list == (True, True)
    assert loose.follow_all


def test_loose_forgives_markdown_emphasis() -> None:
    record = _record("1", ("startend:end_checker", {"end_phrase": "Goodbye."}))
    assert not evaluate_response(record, "See you. **Goodbye.**", loose=False).follow_all
    assert evaluate_response(record, "See you. **Goodbye.**", loose=True).follow_all


def test_blank_loose_variants_never_pass() -> None:
    # Removing the only line leaves nothing, and nothing follows no instruction.
    record = _record("1", ("keywords:forbidden_words", {"forbidden_words": ["cat"]}))
    assert not evaluate_response(record, "cat", loose=True).follow_all


def test_score_responses_computes_the_four_accuracies() -> None:
    records = [_record("a", QUOTED, NO_COMMA), _record("b", TITLE)]
    responses = ['Intro, then:\n"quoted"', "no title here"]
    scores = score_responses(records, responses)
    # strict: a -> (False, False), b -> (False,)
    assert scores.prompt_strict == 0.0
    assert scores.instruction_strict == 0.0
    # loose: a -> (True, True), b -> (False,)
    assert scores.prompt_loose == 0.5
    assert scores.instruction_loose == pytest.approx(2 / 3)
    assert [item.id for item in scores.per_item] == ["a", "b"]
    assert scores.per_item[0].loose.follow_list == (True, True)
    assert scores.by_instruction(loose=True) == {
        "detectable_format:title": 0.0,
        "punctuation:no_comma": 1.0,
        "startend:quotation": 1.0,
    }


def test_an_empty_response_is_scored_as_a_failure_not_skipped() -> None:
    scores = score_responses([_record("a", NO_COMMA), _record("b", NO_COMMA)], ["", "fine"])
    assert scores.prompt_strict == 0.5
    assert len(scores.per_item) == 2


def test_score_responses_rejects_misaligned_inputs() -> None:
    with pytest.raises(ValueError, match="1 records but 2 responses"):
        score_responses([_record("a", NO_COMMA)], ["x", "y"])
    with pytest.raises(ValueError, match="no records"):
        score_responses([], [])


def test_unknown_instruction_is_an_error_not_a_pass() -> None:
    with pytest.raises(IFEvalInstructionError, match="unknown IFEval instruction") as info:
        check_instruction("keywords:existance", {"keywords": ["x"]}, "p", "x")
    assert info.value.instruction_id == "keywords:existance"
    assert info.value.argument is None
    assert isinstance(info.value, ConfigError)
    with pytest.raises(IFEvalInstructionError):
        _record("a", ("detectable_format:rephrase", {}))


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "argument", "message"),
    [
        ("keywords:existence", {}, "keywords", "is required"),
        ("keywords:existence", {"keywords": "moon"}, "keywords", "list of strings"),
        ("length_constraints:number_words", {"num_words": 5}, "relation", "is required"),
        (
            "length_constraints:number_words",
            {"num_words": 5, "relation": "at most"},
            "relation",
            "must be one of",
        ),
        (
            "length_constraints:number_words",
            {"num_words": "5", "relation": "at least"},
            "num_words",
            "must be an integer",
        ),
        (
            "length_constraints:number_words",
            {"num_words": True, "relation": "at least"},
            "num_words",
            "must be an integer",
        ),
        (
            "detectable_content:number_placeholders",
            {"num_placeholders": -1},
            "num_placeholders",
            ">= 0",
        ),
        ("punctuation:no_comma", {"comma": 1}, "comma", "not an argument"),
        (
            "keywords:letter_frequency",
            {"letter": "ab", "let_frequency": 1, "let_relation": "at least"},
            "letter",
            "single character",
        ),
    ],
)
def test_bad_arguments_are_named(
    instruction_id: str, kwargs: dict[str, object], argument: str, message: str
) -> None:
    with pytest.raises(IFEvalInstructionError, match=message) as info:
        check_instruction(instruction_id, kwargs, "p", "response")
    assert info.value.argument == argument


def test_null_arguments_are_ignored() -> None:
    # The Hugging Face copy of IFEval lists every argument name, null where unused.
    kwargs = {"num_words": 2, "relation": "at least", "keywords": None, "letter": None}
    assert check_instruction("length_constraints:number_words", kwargs, "p", "two words")


def test_record_validates_its_shape() -> None:
    with pytest.raises(ValueError, match="no instructions"):
        IFEvalRecord(id="a", prompt="p", instruction_ids=(), kwargs=())
    with pytest.raises(ValueError, match="1 instruction ids but 2 kwargs"):
        IFEvalRecord(id="a", prompt="p", instruction_ids=("punctuation:no_comma",), kwargs=({}, {}))


def test_docstring_examples_hold() -> None:
    for module in (ifeval._evaluation, ifeval._registry, ifeval._sentences, ifeval._words):
        failed, _ = doctest.testmod(module)
        assert failed == 0, module.__name__


def test_public_api_is_exported_and_all_is_sorted() -> None:
    names = ifeval.__all__
    # isort-style order, as ruff enforces it: CONSTANTS, then Classes, then functions.
    assert names == sorted(names, key=lambda name: (not name.isupper(), name[0].islower(), name))
    for name in names:
        assert getattr(ifeval, name) is not None
