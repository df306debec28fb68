"""CheckEval: fixed boolean checklists per evaluation dimension (Lee et al., "CheckEval: A
Reliable LLM-as-a-Judge Framework for Evaluating Text Generation Using Checklists", 2024/2025,
arXiv:2403.18771; ``yukyunglee/CheckEval`` at commit fe25169, MIT).

Procedure, as in the authors' ``src/inference_checkeval.py``: a dimension (e.g. SummEval
coherence) has a human-written definition and sub-aspects, each a list of yes/no questions. For
each sub-aspect the judge gets one prompt (the authors' template, verbatim: ``summeval`` for an
article and its summary, ``topical_chat`` for a conversation, a fact and a response) listing its
questions as ``Q1: ...?``, ``Q2: ...?``, and answers ``Q1: Yes`` / ``Q2: No`` ... . A dimension's
score is the share of YES answers over all its questions (the ``proportion``/``avg`` of the
binary answers in the authors' ``src/aggregation.py``); no score combines dimensions.

The checklists are the authors', shipped as package data
(``reflectlab/judge/data/checkeval/{summeval,topical_chat}.json``, with their MIT ``LICENSE``):
every dimension they publish (SummEval: coherence, consistency, fluency, relevance; Topical-Chat:
coherence, engagingness, groundedness, naturalness), each in the three versions of their repo:
``seed`` (the hand-written seed questions), ``diversification`` and ``elaboration`` (the two
augmentations of the paper). The JSON is the YAML read with ``yaml.safe_load``, each sub-aspect
split on "?" into questions exactly as their ``make_question_list`` does.

Deviations, stated:

- Parsing is strict and per question: ``Qk: Yes`` / ``Qk: No`` (any case; ``**``, ``[`` or quotes
  around the word allowed) keyed by the question's number. A missing number or one answered both
  ways is unparseable and counted in ``n_unparsed``, never a NO. The authors' ``extract_answers``
  takes every ``Q<n>: Yes|No`` match in order, whatever its number, and their ``parse_output``
  every "yes"/"no" anywhere in the reply.
- The score is over the answered questions; ``None`` when none was answered.
- Which version to use is the caller's choice; our default is ``elaboration`` (the largest).
- Judges run at temperature 0 (the authors' script passes no temperature: the API default).
- Placeholders are filled in one pass, so a document containing ``<questions>`` is not expanded
  (the authors chain ``str.replace``).
"""

from __future__ import annotations

import asyncio
import json
import re
from functools import cache
from importlib import resources
from typing import Any, Literal

from reflectlab.errors import ConfigError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._verdicts import ParsedAnswer
from reflectlab.judge.protocols import _Judge
from reflectlab.model import ChatMessage, Model

__all__ = [
    "CHECKEVAL_TASKS",
    "CHECKEVAL_VERSIONS",
    "CheckEvalAnswer",
    "CheckEvalChecklist",
    "CheckEvalDimension",
    "CheckEvalJudge",
    "CheckEvalJudgment",
    "checkeval_dimensions",
    "checkeval_messages",
    "load_checkeval_checklist",
    "parse_checkeval_answers",
]

CheckEvalTask = Literal["summeval", "topical_chat"]
CheckEvalVersion = Literal["seed", "diversification", "elaboration"]
CHECKEVAL_TASKS: tuple[CheckEvalTask, ...] = ("summeval", "topical_chat")
CHECKEVAL_VERSIONS: tuple[CheckEvalVersion, ...] = ("seed", "diversification", "elaboration")

# --- the authors' templates, verbatim (src/inference_checkeval.py) -------------------------

CHECKEVAL_SUMMEVAL_TEMPLATE = (
    "### Task Overview ###\n"
    "Your task is to read a provided news article and its summary, then answer 'yes' or 'no' "
    "to specific questions. These questions will relate to a particular aspect of the summary.\n"
    "\n"
    "### Aspect Definition ###\n"
    "<aspect> - <definition>\n"
    "\n"
    "### Instructions ###\n"
    "1. Read these instructions thoroughly.\n"
    "2. Carefully read both the Article and the Summary.\n"
    "3. Understand the given questions and the definition of the <aspect>.\n"
    "4. Respond to each question with 'yes' or 'no'. Base your answers on a clear rationale.\n"
    "5. Follow the specified format for your answers.\n"
    "\n"
    "### Answer Format ###\n"
    "Q1: [Your Answer] \n"
    "Q2: [Your Answer] \n"
    "...\n"
    "\n"
    "# Article #\n"
    '"<source>"\n'
    "\n"
    "# Summary #\n"
    '"<summary>"\n'
    "\n"
    "# Questions # \n"
    "<questions>\n"
    "\n"
    "# Response\n"
    "Provide your answers to the given questions, following the specified Answer Format.\n"
)

CHECKEVAL_TOPICAL_CHAT_TEMPLATE = (
    "### Task Overview ###\n"
    "You will be given a conversation between two individuals. You will then be given one "
    "potential response for the next turn in the conversation. The response concerns an "
    "interesting fact, which will be provided as well.\n"
    "Your task is to read a provided conversation history, corresponding fact and response, "
    "then answer 'yes' or 'no' to specific questions. These questions will relate to a "
    "particular aspect of the response.\n"
    "\n"
    "### Aspect Definition ###\n"
    "<aspect> - <definition>\n"
    "\n"
    "### Instructions ###\n"
    "1. Read these instructions thoroughly.\n"
    "2. Carefully read the Conversation History, the Corresponding Fact and the Response.\n"
    "3. Understand the given questions and the definition of the <aspect>.\n"
    "4. Respond to each question with 'yes' or 'no'. Base your answers on a clear rationale.\n"
    "5. Follow the specified format for your answers.\n"
    "\n"
    "### Answer Format ###\n"
    "Q1: [Your Answer] \n"
    "Q2: [Your Answer] \n"
    "...\n"
    "\n"
    "# Conversation History #\n"
    '"<document>"\n'
    "\n"
    "# Corresponding Fact #\n"
    '"<fact>"\n'
    "\n"
    "# Response #\n"
    '"<response>"\n'
    "\n"
    "# Questions # \n"
    "<questions>\n"
    "\n"
    "# Your answer\n"
    "Provide your answers to the given questions, following the specified Answer Format.\n"
)

_TEMPLATES: dict[str, str] = {
    "summeval": CHECKEVAL_SUMMEVAL_TEMPLATE,
    "topical_chat": CHECKEVAL_TOPICAL_CHAT_TEMPLATE,
}
_PLACEHOLDER = re.compile(r"<(aspect|definition|source|summary|document|fact|response|questions)>")


class CheckEvalChecklist(FrozenResult):
    """One dimension's checklist: its definition and its questions per sub-aspect."""

    task: CheckEvalTask
    dimension: str
    version: CheckEvalVersion
    definition: str
    sub_aspects: dict[str, list[str]]

    @property
    def n_questions(self) -> int:
        return sum(len(q) for q in self.sub_aspects.values())


class CheckEvalAnswer(FrozenResult):
    """One question and its answer (``True`` = yes, ``None`` = unparseable). ``number``: its
    ``Qk`` within its sub-aspect's prompt."""

    dimension: str
    sub_aspect: str
    number: int
    question: str
    answer: bool | None
    parse_error: str | None = None


class CheckEvalDimension(FrozenResult):
    """``score`` = n_yes / (n_yes + n_no) over the dimension's questions (``None``: none
    answered); ``sub_aspect_scores`` the same per sub-aspect."""

    dimension: str
    score: float | None
    n_yes: int
    n_no: int
    n_unparsed: int
    sub_aspect_scores: dict[str, float | None]


class CheckEvalJudgment(FrozenResult):
    """Per-dimension scores, every answer and every reply (keyed ``"dimension/sub-aspect"``).

    ``score`` is the dimension's score when exactly one dimension was judged, else ``None``:
    CheckEval scores dimensions separately and never averages them."""

    protocol: Literal["checkeval"] = "checkeval"
    judge: str
    task: CheckEvalTask
    version: CheckEvalVersion
    score: float | None
    n_yes: int
    n_no: int
    n_unparsed: int
    dimensions: dict[str, CheckEvalDimension]
    answers: list[CheckEvalAnswer]
    replies: dict[str, str]
    parse_error: str | None = None


@cache
def _data(task: str) -> dict[str, Any]:
    if task not in CHECKEVAL_TASKS:
        raise ConfigError(f"unknown CheckEval task {task!r}; use {', '.join(CHECKEVAL_TASKS)}")
    text = resources.files("reflectlab.judge").joinpath("data", "checkeval", f"{task}.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def checkeval_dimensions(task: CheckEvalTask = "summeval") -> list[str]:
    """The dimensions the authors publish for ``task``.

    >>> checkeval_dimensions("summeval")
    ['coherence', 'consistency', 'fluency', 'relevance']
    """
    return sorted(_data(task)["checklists"])


def load_checkeval_checklist(
    task: CheckEvalTask, dimension: str, version: CheckEvalVersion = "elaboration"
) -> CheckEvalChecklist:
    """The authors' checklist for ``dimension`` of ``task`` in ``version``."""
    data = _data(task)
    if dimension not in data["checklists"]:
        raise ConfigError(
            f"no CheckEval checklist for {dimension!r} in {task}; "
            f"use {', '.join(checkeval_dimensions(task))}"
        )
    versions = data["checklists"][dimension]
    if version not in versions:
        raise ConfigError(f"unknown CheckEval version {version!r}; use {', '.join(versions)}")
    return CheckEvalChecklist(
        task=task,
        dimension=dimension,
        version=version,
        definition=data["definitions"][dimension],
        sub_aspects={k: list(v) for k, v in versions[version].items()},
    )


def checkeval_messages(
    checklist: CheckEvalChecklist,
    sub_aspect: str,
    *,
    source: str,
    response: str,
    fact: str | None = None,
) -> list[ChatMessage]:
    """The authors' prompt for one sub-aspect (one user message). ``source``: the article
    (summeval) or the conversation history (topical_chat); ``response``: the summary or the
    response; ``fact``: topical_chat's corresponding fact (required there)."""
    if sub_aspect not in checklist.sub_aspects:
        raise ConfigError(f"{checklist.dimension} has no sub-aspect {sub_aspect!r}")
    if checklist.task == "topical_chat" and fact is None:
        raise ConfigError("the topical_chat CheckEval prompt needs the corresponding fact")
    questions = "\n".join(
        f"Q{number}: {question}"
        for number, question in enumerate(checklist.sub_aspects[sub_aspect], 1)
    )
    values = {
        "aspect": checklist.dimension,
        "definition": checklist.definition,
        "source": source,
        "summary": response,
        "document": source,
        "fact": fact or "",
        "response": response,
        "questions": questions,
    }
    content = _PLACEHOLDER.sub(lambda m: values[m.group(1)], _TEMPLATES[checklist.task])
    return [ChatMessage(role="user", content=content)]


def parse_checkeval_answers(text: str, n_questions: int) -> list[ParsedAnswer]:
    """``Q1: Yes`` ... ``Qn: No`` -> one :class:`ParsedAnswer` per question, by number.

    >>> [a.answer for a in parse_checkeval_answers("Q1: Yes\\nQ2: no\\nQ3: maybe", 3)]
    [True, False, None]
    """
    parsed: list[ParsedAnswer] = []
    for number in range(1, n_questions + 1):
        pattern = re.compile(
            rf"\bQ\s?{number}\s*[:.)]\s*[*\[\"']*\s*(yes|no)\b(?![-'])", re.IGNORECASE
        )
        found = {m.group(1).lower() == "yes" for m in pattern.finditer(text)}
        if len(found) == 1:
            parsed.append(ParsedAnswer(answer=found.pop()))
        elif found:
            parsed.append(ParsedAnswer(answer=None, parse_error=f"Q{number} answered yes and no"))
        else:
            parsed.append(
                ParsedAnswer(answer=None, parse_error=f"no answer for Q{number} (expected Yes/No)")
            )
    return parsed


class CheckEvalJudge(_Judge):
    """Answer the authors' checklists for ``dimensions`` (default: all of ``task``'s), one call
    per sub-aspect; score each dimension by its share of YES (module docstring)."""

    protocol = "checkeval"

    def __init__(
        self,
        model: Model,
        *,
        task: CheckEvalTask = "summeval",
        dimensions: list[str] | None = None,
        version: CheckEvalVersion = "elaboration",
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model, temperature=temperature, max_tokens=max_tokens)
        names = checkeval_dimensions(task) if dimensions is None else list(dimensions)
        if not names:
            raise ConfigError("CheckEval needs at least one dimension")
        self.task: CheckEvalTask = task
        self.version: CheckEvalVersion = version
        self.checklists = [load_checkeval_checklist(task, d, version) for d in names]

    async def judge(
        self, source: str, response: str, *, fact: str | None = None
    ) -> CheckEvalJudgment:
        if self.task == "topical_chat" and fact is None:
            raise ConfigError("the topical_chat CheckEval prompt needs the corresponding fact")
        jobs = [(c, sub) for c in self.checklists for sub in c.sub_aspects]
        replies = await asyncio.gather(
            *(self._ask_one(c, sub, source, response, fact) for c, sub in jobs)
        )
        answers: list[CheckEvalAnswer] = []
        for (checklist, sub), text in zip(jobs, replies, strict=True):
            questions = checklist.sub_aspects[sub]
            for number, (question, parsed) in enumerate(
                zip(questions, parse_checkeval_answers(text, len(questions)), strict=True), 1
            ):
                answers.append(
                    CheckEvalAnswer(
                        dimension=checklist.dimension,
                        sub_aspect=sub,
                        number=number,
                        question=question,
                        answer=parsed.answer,
                        parse_error=parsed.parse_error,
                    )
                )
        dimensions = {c.dimension: _aggregate(c, answers) for c in self.checklists}
        n_yes = sum(a.answer is True for a in answers)
        n_no = sum(a.answer is False for a in answers)
        return CheckEvalJudgment(
            judge=self.name,
            task=self.task,
            version=self.version,
            score=next(iter(dimensions.values())).score if len(dimensions) == 1 else None,
            n_yes=n_yes,
            n_no=n_no,
            n_unparsed=len(answers) - n_yes - n_no,
            dimensions=dimensions,
            answers=answers,
            replies={f"{c.dimension}/{sub}": t for (c, sub), t in zip(jobs, replies, strict=True)},
            parse_error=None if n_yes + n_no else "no CheckEval question got a parseable answer",
        )

    async def _ask_one(
        self,
        checklist: CheckEvalChecklist,
        sub_aspect: str,
        source: str,
        response: str,
        fact: str | None,
    ) -> str:
        messages = checkeval_messages(
            checklist, sub_aspect, source=source, response=response, fact=fact
        )
        return await self._ask(
            messages, judge_dimension=checklist.dimension, judge_sub_aspect=sub_aspect
        )


def _share(answers: list[CheckEvalAnswer]) -> tuple[float | None, int, int]:
    yes = sum(a.answer is True for a in answers)
    no = sum(a.answer is False for a in answers)
    return (yes / (yes + no) if yes + no else None), yes, no


def _aggregate(checklist: CheckEvalChecklist, answers: list[CheckEvalAnswer]) -> CheckEvalDimension:
    mine = [a for a in answers if a.dimension == checklist.dimension]
    score, yes, no = _share(mine)
    return CheckEvalDimension(
        dimension=checklist.dimension,
        score=score,
        n_yes=yes,
        n_no=no,
        n_unparsed=len(mine) - yes - no,
        sub_aspect_scores={
            sub: _share([a for a in mine if a.sub_aspect == sub])[0]
            for sub in checklist.sub_aspects
        },
    )
