"""Checklist judging: TICK (Cook et al., "TICKing All the Boxes: Generated Checklists Improve
LLM Evaluation and Generation", 2024, arXiv:2410.03608).

Procedure, as in the paper: (1) from the instruction alone, the judge model writes a checklist
of YES/NO questions, each checking one requirement of the instruction, phrased so that YES
means the requirement is met; (2) the judge answers every question for the response; (3) the
score is the share of YES answers (TICK's "pass rate"). The checklist does not depend on the
response, so one checklist can be generated once and reused for every response to the same
instruction (pass ``checklist=``).

Deviations, stated: our prompts are zero-shot and our own wording (the paper's generation
prompt is few-shot; it is not reproduced). Each question is answered in its own call, so an
unparseable answer spoils one question, not the checklist. Unparseable answers are not counted
as NO: the score is over the answered questions and ``n_unparsed`` says how many were not.
``max_questions`` (default 10) caps a runaway list; questions beyond it are dropped and counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Literal

from reflectlab.errors import ConfigError
from reflectlab.feedback.checklist import (
    checklist_answer_messages,
    checklist_generation_messages,
    checklist_questions,
)
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._verdicts import parse_yes_no
from reflectlab.judge.protocols import _Judge
from reflectlab.model import Model

__all__ = [
    "Checklist",
    "ChecklistItem",
    "ChecklistJudge",
    "ChecklistJudgment",
    "parse_checklist",
]


class Checklist(FrozenResult):
    """A generated checklist. ``text`` is the judge's reply (``None`` if given by the caller);
    ``n_dropped`` questions beyond ``max_questions`` were cut."""

    questions: list[str]
    text: str | None = None
    n_dropped: int = 0
    parse_error: str | None = None


class ChecklistItem(FrozenResult):
    """One question and the judge's answer (``True`` = YES, ``None`` = unparseable)."""

    question: str
    answer: bool | None
    reasoning: str
    parse_error: str | None = None


class ChecklistJudgment(FrozenResult):
    """``score`` = n_yes / (n_yes + n_no); ``None`` when no question was answered.
    The checklist and every answer are kept."""

    protocol: Literal["checklist"] = "checklist"
    judge: str
    score: float | None
    n_yes: int
    n_no: int
    n_unparsed: int
    items: list[ChecklistItem]
    checklist: Checklist
    parse_error: str | None = None


def parse_checklist(text: str, *, max_questions: int = 10) -> Checklist:
    """The questions of a generated checklist (see
    :func:`reflectlab.feedback.checklist.checklist_questions`: a JSON list of strings, or lines
    that end with ``?``), with the reply kept and the questions beyond ``max_questions`` counted.

    >>> parse_checklist("1. Is it a haiku?\\n2. Is it about autumn?").questions
    ['Is it a haiku?', 'Is it about autumn?']
    """
    kept, dropped = checklist_questions(text, max_questions=max_questions)
    return Checklist(
        questions=kept,
        text=text,
        n_dropped=dropped,
        parse_error=None if kept else "no questions found in the generated checklist",
    )


class ChecklistJudge(_Judge):
    """TICK: generate a YES/NO checklist from the instruction, answer it for the response,
    score the share of YES (see the module docstring for the procedure and deviations)."""

    protocol = "checklist"

    def __init__(
        self,
        model: Model,
        *,
        max_questions: int = 10,
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model, temperature=temperature, max_tokens=max_tokens)
        if max_questions < 1:
            raise ConfigError(f"max_questions must be at least 1, got {max_questions}")
        self.max_questions = max_questions

    async def generate_checklist(self, instruction: str) -> Checklist:
        """Step 1: the checklist for ``instruction`` (one call, tagged ``judge_step=generate``)."""
        messages = checklist_generation_messages(instruction, self.max_questions)
        text = await self._ask(messages, judge_step="generate")
        return parse_checklist(text, max_questions=self.max_questions)

    async def judge(
        self, instruction: str, response: str, *, checklist: Sequence[str] | Checklist | None = None
    ) -> ChecklistJudgment:
        """Steps 2-3. ``checklist``: reuse a generated one (or give your own questions)."""
        if checklist is None:
            generated = await self.generate_checklist(instruction)
        elif isinstance(checklist, Checklist):
            generated = checklist
        else:
            if not checklist:
                raise ConfigError("a given checklist needs at least one question")
            generated = Checklist(questions=list(checklist))
        if not generated.questions:
            return ChecklistJudgment(
                judge=self.name,
                score=None,
                n_yes=0,
                n_no=0,
                n_unparsed=0,
                items=[],
                checklist=generated,
                parse_error=generated.parse_error or "the checklist is empty",
            )
        items = await asyncio.gather(
            *(
                self._answer(instruction, response, question, index)
                for index, question in enumerate(generated.questions)
            )
        )
        n_yes = sum(item.answer is True for item in items)
        n_no = sum(item.answer is False for item in items)
        answered = n_yes + n_no
        return ChecklistJudgment(
            judge=self.name,
            score=n_yes / answered if answered else None,
            n_yes=n_yes,
            n_no=n_no,
            n_unparsed=len(items) - answered,
            items=list(items),
            checklist=generated,
            parse_error=None if answered else "no checklist question got a parseable answer",
        )

    async def _answer(
        self, instruction: str, response: str, question: str, index: int
    ) -> ChecklistItem:
        messages = checklist_answer_messages(instruction, response, question)
        text = await self._ask(messages, judge_step="answer", judge_question=index)
        parsed = parse_yes_no(text)
        return ChecklistItem(
            question=question, answer=parsed.answer, reasoning=text, parse_error=parsed.parse_error
        )
