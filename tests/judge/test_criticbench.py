"""CriticBench (CriticBench/CriticBench): the shipped GSM8K prompts, the three stages on a
scripted model, strict parsing and per-stage scores."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reflectlab.errors import InputError
from reflectlab.judge import (
    CriticBenchItem,
    CriticBenchRunner,
    evaluate_criticbench,
    parse_criticbench_answer,
    parse_criticbench_verdict,
    read_criticbench_items,
)
from reflectlab.judge.criticbench import criticbench_messages
from reflectlab.model import capture_calls, get_model
from reflectlab.model.providers.mock import MockRequest

RIGHT = CriticBenchItem(
    id="0",
    question="Shawn has five toys and gets four more. How many toys does he have?",
    solution="5 + 4 = 9. The answer is 9.",
    is_correct=True,
    source="GSM8K",
    answers=["9"],
)
WRONG = CriticBenchItem(
    id="1",
    question="Olivia has $23 and spends $15. How much is left?",
    solution="23 + 15 = 38. The answer is 38.",
    is_correct=False,
    source="GSM8K",
    answers=["8"],
)


def test_prompts_are_assembled_from_the_authors_files() -> None:
    [gen] = criticbench_messages("generation", "What is 2+2?")
    assert gen.role == "user"
    assert gen.content.startswith("Question: There are 15 trees in the grove.")
    assert gen.content.endswith("\n\nQuestion: What is 2+2?\nAnswer:")
    [crit] = criticbench_messages("critique", "Q", solution="S")
    assert crit.content.startswith(
        "Review the above answer and determine whether it’s correct. If wrong, find the "
        "problems with it.\nFinally, conclude with either '[[correct]]'"
    )
    assert crit.content.endswith(
        "---\n\nPlease consider the example provided and think it step by step.\n"
        "Question: Q\nAnswer: S\nVerdict:"
    )
    [corr] = criticbench_messages("correction", "Q", solution="S", critique="C")
    assert corr.content.endswith("Question: Q\nAnswer: S\nVerdict: C\nImproved Answer:")
    [zs] = criticbench_messages("critique", "Q", prompt_type="zs-crit-cot", solution="S")
    assert zs.content == (
        "Question: Q\nAnswer: S\nReview your previous answer and find problems with your "
        "answer.\nProvide your analysis and verdict in JSON format as follows: "
        '{"analysis": "your analysis", "verdict": "correct or wrong"}.\nAnalysis and verdict:'
    )
    # A placeholder-looking string inside the question is not expanded.
    [odd] = criticbench_messages("critique", "{solution}", prompt_type="zs-crit-ao-1", solution="S")
    assert odd.content.startswith("Question: {solution}\nAnswer: S\n")


def test_verdict_parsing_is_strict() -> None:
    assert parse_criticbench_verdict("So the verdict is: [[wrong]]").verdict == "wrong"
    assert parse_criticbench_verdict("[[Correct]]").verdict == "correct"
    assert (
        parse_criticbench_verdict('{"analysis": "ok", "verdict": "correct"}').verdict == "correct"
    )
    assert parse_criticbench_verdict("[[correct]] no, [[wrong]]").verdict is None
    # CriticBench would read "wrong" from this; we do not guess.
    vague = parse_criticbench_verdict("Nothing seems wrong here.")
    assert vague.verdict is None and vague.parse_error
    # An echo of the instruction is not a verdict.
    echo = "conclude with either '[[correct]]' if the above answer is correct"
    assert parse_criticbench_verdict(echo).verdict is None


def test_answer_parsing_follows_each_prompts_answer_format() -> None:
    assert (
        parse_criticbench_answer("So 1,200 in total. The answer is $1,200.", "The answer is").answer
        == "1200"
    )
    assert parse_criticbench_answer("Improved Answer: The answer is [[10]].", "[[]]").answer == "10"
    reply = '{"solution": "23 - 15 = 8", "answer": "8"}'
    assert parse_criticbench_answer(reply, "json: answer").answer == "8"
    assert parse_criticbench_answer("It is 8.", "The answer is").answer is None
    assert parse_criticbench_answer("The answer is eight.", "The answer is").answer is None
    assert parse_criticbench_answer("no marker 8", "[[]]").answer is None


def _model_that_knows() -> Callable[[MockRequest], str]:
    """Generates right answers; critiques the given response correctly except for item 0,
    whose critique is unparseable; corrects to the right answer except for item 1."""

    def reply(request: MockRequest) -> str:
        p = request.prompt
        if p.endswith("Improved Answer:"):
            return (
                "The answer is [[7]]."
                if "Olivia" in p.split("Question:")[-1]
                else "The answer is [[9]]."
            )
        if p.endswith("Verdict:"):
            last = p.split("Question:")[-1]
            return "Hmm, hard to say." if "Shawn" in last else "23 + 15 is wrong. [[wrong]]"
        last = p.split("Question:")[-1]
        return "The answer is 9." if "Shawn" in last else "23 - 15 = 8. The answer is 8."

    return reply


async def test_three_stages_each_scored_and_unparsed_counted() -> None:
    model = get_model("mock/cb", outputs=_model_that_knows())
    with capture_calls() as events:
        result = await evaluate_criticbench(CriticBenchRunner(model), [RIGHT, WRONG])
    assert len(events) == 6
    assert sorted(e.tags["judge_step"] for e in events) == sorted(
        ["generation", "critique", "correction"] * 2
    )
    assert {e.tags["judge_protocol"] for e in events} == {"criticbench"}
    # Correction sees the model's own critique.
    [corr_wrong] = [
        e
        for e in events
        if e.tags["judge_step"] == "correction"
        and "Olivia" in e.messages[-1].content.split("Question:")[-1]
    ]
    assert (
        "Verdict: 23 + 15 is wrong. [[wrong]]\nImproved Answer:" in corr_wrong.messages[-1].content
    )
    assert result.n == 2
    assert result.generation_accuracy == 1.0 and result.generation_unparsed == 0
    # Item 0's critique is unparseable: counted, and wrong (as CriticBench scores it).
    assert result.critique_unparsed == 1 and result.critique_accuracy == 0.5
    j0, j1 = result.judgments
    assert j0.critique_verdict is None and j0.critique_parse_error and not j0.critique_correct
    assert j1.critique_verdict == "wrong" and j1.critique_correct
    # CriticBench F1 of "wrong": unparsed on a correct response = a false "wrong" -> tp 1, fp 1.
    assert result.critique_f1 == pytest.approx(2 / 3)
    assert (result.critique.tp, result.critique.fp, result.critique.unparsed) == (1, 0, 1)
    assert result.correction_accuracy == 0.5
    assert result.correction_accuracy_on_correct == 1.0
    assert result.correction_accuracy_on_wrong == 0.0


async def test_unparseable_generation_is_wrong_and_counted() -> None:
    model = get_model("mock/cb", outputs=["I don't know."], cycle=True)
    result = await evaluate_criticbench(model, [WRONG])
    # Nothing parsed: counted, and no accuracy at all (not 0).
    assert (result.generation_accuracy, result.generation_unparsed) == (None, 1)
    assert (result.critique_accuracy, result.critique_f1, result.critique_unparsed) == (
        None,
        None,
        1,
    )
    assert (result.correction_accuracy, result.correction_unparsed) == (None, 1)
    assert result.critique.recall is None and result.critique.unparsed == 1
    j = result.judgments[0]
    assert not (j.generation_correct or j.critique_correct or j.correction_correct)


def test_reader_uses_criticbench_fields_and_names_bad_lines(tmp_path: Path) -> None:
    good = {
        "id": 3,
        "question": "q",
        "response": "r",
        "response_label": False,
        "answer": ["8"],
        "question_source": "GSM8K",
    }
    path = tmp_path / "cb.jsonl"
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    [item] = read_criticbench_items(path)
    assert (item.id, item.solution, item.is_correct, item.answers) == ("3", "r", False, ["8"])
    bad = dict(good, id=4, question_source="MBPP")
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_criticbench_items(path)
    assert (info.value.line, info.value.field) == (2, "question_source")
    bad = dict(good, id=5, response_label="yes")
    path.write_text(json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_criticbench_items(path)
    assert info.value.field == "response_label"
