"""Checklist feedback: TICK's generated YES/NO checklists (Cook et al., "TICKing All the
Boxes: Generated Checklists Improve LLM Evaluation and Generation", 2024, arXiv:2410.03608).

The prompts and parsers shared by the ``stick`` strategy (a self-generated checklist as
refinement feedback) and the judge layer's :class:`~reflectlab.judge.checklist.ChecklistJudge`
(checklists as an evaluation protocol), so both ask for and read checklists the same way:

- :data:`CHECKLIST_GENERATE` / :func:`checklist_generation_messages`: from the instruction
  alone, a list of YES/NO questions, each checking one requirement, YES meaning it is met;
- :data:`CHECKLIST_ANSWER` / :func:`checklist_answer_messages`: one question answered for one
  response, ending with ``[[YES]]`` or ``[[NO]]``;
- :func:`checklist_questions`: the questions of a generated checklist (a JSON list of strings,
  or lines ending with "?"), de-duplicated and capped; never guessed from other text;
- :func:`parse_checklist_answer`: ``[[YES]]`` / ``[[NO]]`` (or a first word yes/no) to
  ``True`` / ``False``; ``None`` when absent or contradictory. (The judge layer reads answers
  with its own, more tolerant verdict parser, which also accepts JSON.)

The prompts are ours, zero-shot (TICK's generation prompt is few-shot; it is not reproduced).
"""

from __future__ import annotations

import json
import re

from reflectlab.model import ChatMessage

__all__ = [
    "CHECKLIST_ANSWER",
    "CHECKLIST_GENERATE",
    "checklist_answer_messages",
    "checklist_generation_messages",
    "checklist_questions",
    "parse_checklist_answer",
]

CHECKLIST_GENERATE = (
    "You will be given an instruction written for an AI assistant. Write a checklist of YES/NO "
    "questions that together check whether a response follows the instruction. Each question "
    "must target one explicit or clearly implied requirement of the instruction, must be "
    "answerable with YES or NO for any response, and must be phrased so that YES means the "
    "requirement is met. Write between 1 and {max_questions} questions, one per line, each "
    'starting with "- " and ending with a question mark. Output only the checklist.\n\n'
    "[Instruction]\n{instruction}"
)

CHECKLIST_ANSWER = (
    "Please act as an impartial judge. You will be given an instruction, an AI assistant's "
    "response to it, and one YES/NO question about the response. Answer the question for this "
    "response only. Begin with a short explanation, then output your answer by strictly "
    'following this format: "[[YES]]" or "[[NO]]".\n\n[Instruction]\n{instruction}\n\n'
    "[The Start of Assistant's Answer]\n{response}\n[The End of Assistant's Answer]\n\n"
    "[Question]\n{question}"
)

_LIST_MARKER = re.compile(r"^\s*(?:[-*•]|\(?\d{1,3}[.):]|\[\s?\]|Q\d{1,3}[.):])\s*")
_FENCED_LIST = re.compile(r"```(?:json)?\s*(\[.*?\])\s*```", re.S)
_YES_NO_MARKER = re.compile(r"\[\[\s*(YES|NO)\s*\]\]", re.I)
_FIRST_WORD = re.compile(r"^\W*(yes|no)\b", re.I)


def checklist_generation_messages(instruction: str, max_questions: int) -> list[ChatMessage]:
    content = CHECKLIST_GENERATE.format(instruction=instruction, max_questions=max_questions)
    return [ChatMessage(role="user", content=content)]


def checklist_answer_messages(instruction: str, response: str, question: str) -> list[ChatMessage]:
    content = CHECKLIST_ANSWER.format(instruction=instruction, response=response, question=question)
    return [ChatMessage(role="user", content=content)]


def checklist_questions(text: str, *, max_questions: int = 10) -> tuple[list[str], int]:
    """The questions of a generated checklist and how many were dropped beyond
    ``max_questions``: a JSON list of strings (fenced or bare), else the lines that end with
    ``?`` (list markers ``-``, ``*``, ``1.``, ``Q1:`` stripped). Duplicates (case- and
    space-insensitive) are dropped. ``([], 0)`` when there are none.

    >>> checklist_questions("1. Is it a haiku?\\n2. Is it about autumn?")
    (['Is it a haiku?', 'Is it about autumn?'], 0)
    """
    candidates = _json_questions(text)
    if candidates is None:
        candidates = []
        for line in text.splitlines():
            question = _LIST_MARKER.sub("", line).strip().strip("*").strip()
            if question.endswith("?") and len(question) > 1:
                candidates.append(question)
    questions: list[str] = []
    seen: set[str] = set()
    for question in candidates:
        key = " ".join(question.lower().split())
        if key not in seen:
            seen.add(key)
            questions.append(question)
    kept = questions[:max_questions]
    return kept, len(questions) - len(kept)


def _json_questions(text: str) -> list[str] | None:
    fenced = _FENCED_LIST.search(text)
    raw = fenced.group(1) if fenced else text.strip()
    if not raw.startswith("["):
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, list) or not all(isinstance(q, str) for q in value):
        return None
    return [q.strip() for q in value if q.strip()]


def parse_checklist_answer(text: str) -> bool | None:
    """``True`` for ``[[YES]]``, ``False`` for ``[[NO]]``; with no marker, a reply whose first
    word is yes/no. ``None`` when there is no answer or the markers contradict each other.

    >>> parse_checklist_answer("It stays under 50 words. [[YES]]")
    True
    """
    found = {m.upper() == "YES" for m in _YES_NO_MARKER.findall(text)}
    if not found:
        first = _FIRST_WORD.match(text)
        return None if first is None else first.group(1).lower() == "yes"
    return found.pop() if len(found) == 1 else None
