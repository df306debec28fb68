"""The checklist prompts and parsers shared by ``stick`` and the judge's TICK protocol."""

from __future__ import annotations

from reflectlab.feedback.checklist import (
    checklist_answer_messages,
    checklist_generation_messages,
    checklist_questions,
    parse_checklist_answer,
)
from reflectlab.judge.checklist import parse_checklist


def test_questions_from_lists_json_and_nothing_else() -> None:
    assert checklist_questions("- Is it short?\n- is it  short?\nNote: be nice.\n2) Rhymes?") == (
        ["Is it short?", "Rhymes?"],
        0,
    )
    assert checklist_questions('```json\n["A?", "B?", "C?"]\n```', max_questions=2) == (
        ["A?", "B?"],
        1,
    )
    assert checklist_questions("I cannot write one.") == ([], 0)


def test_the_judge_reads_checklists_with_the_shared_parser() -> None:
    text = "1. Is it a haiku?\n2. Is it about autumn?\n3. Is it a haiku?"
    assert parse_checklist(text).questions == checklist_questions(text)[0]


def test_messages_and_answers() -> None:
    gen = checklist_generation_messages("Write a haiku.", 5)
    assert gen[0].content.endswith("[Instruction]\nWrite a haiku.") and "1 and 5" in gen[0].content
    ans = checklist_answer_messages("Write a haiku.", "Leaves fall.", "Is it a haiku?")
    assert ans[0].content.endswith("[Question]\nIs it a haiku?")
    assert parse_checklist_answer("No: it has two lines.") is False
    assert parse_checklist_answer("[[yes]] [[YES]]") is True
    assert parse_checklist_answer("[[YES]] [[NO]]") is None
