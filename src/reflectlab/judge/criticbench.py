"""CriticBench: generate, critique a given response, correct it; each stage scored on its own
(Lin et al., "CriticBench: Benchmarking LLMs for Critique-Correct Reasoning", Findings of ACL
2024, arXiv:2402.14809; ``CriticBench/CriticBench`` at commit 245f785, MIT).

An item is a question, a gold answer, and a given response with a gold label (is the response
correct?). The model under test does three independent things, as in CriticBench's
``evaluate.py --tasks GQC``:

1. **generation**: answer the question itself; scored right when its answer equals the gold;
2. **critique**: judge the *given* response correct or wrong; scored against the response's
   gold label (CriticBench's headline critique number is the F1 of the "wrong" class; we report
   it with accuracy, precision, recall and the false-positive rate);
3. **correction**: given the question, the given response and its *own* critique, write an
   improved answer; scored right when it equals the gold (reported overall, and separately for
   responses that were wrong and right to begin with).

Prompts are the authors' GSM8K prompt files, shipped byte for byte as package data
(``reflectlab/judge/data/criticbench/``, their MIT ``LICENSE``), assembled as their
``DataProcessor``/``set_prompt`` do (instruction + examples + question, stripped) and sent as one
user message. ``prompt_type``: ``"fs"`` (few-shot critique and correction, CriticBench's main
setting), ``"zs-crit-cot"`` (zero-shot JSON critique; correction
``zero_shot_with_chain_of_thought_critique``) or ``"zs-crit-ao-1"`` (zero-shot answer-only
``[[correct]]``/``[[wrong]]`` critique; correction ``zero_shot_with_answer_only_critique``).
Generation is always their few-shot prompt (their only one).

The items reuse :class:`~reflectlab.judge.critic_eval.SolutionItem` (question, solution,
``is_correct``, source) with the gold answers added, and the critique metrics are
:func:`~reflectlab.judge.metrics.critic_evaluation`'s, as in :mod:`reflectlab.judge.critic_eval`.

Deviations, stated:

- Only GSM8K's prompts are shipped (numeric answers); the other 14 CriticBench datasets' prompts
  and their answer checkers (code execution, multiple choice, exact match) are not.
- Strict parsing. Verdict: exactly one of ``[[correct]]``/``[[wrong]]`` (``[[incorrect]]`` too)
  or JSON ``{"verdict": "correct"|"wrong"}``; CriticBench falls back to substrings ("wrong",
  "incorrect" anywhere, else "correct" anywhere). Answer: after the last "The answer is", in
  ``[[...]]`` or in JSON ``"answer"`` per the prompt's answer format, then the last number;
  CriticBench also falls back to the last number anywhere in the reply. Unparseable replies are
  counted (``*_unparsed``) and scored wrong, never guessed; a stage with no parsed reply at all
  has no accuracy (``None``), not 0. CriticBench scores an unparseable
  critique as the opposite of the gold label (wrong); our accuracy does too, while
  ``critic_evaluation`` counts it as "not flagged" and reports the count.
- Numbers are compared as floats with a relative tolerance of 1e-4 (after removing ``$``, ``€``,
  ``£`` and thousands commas, as CriticBench does); CriticBench uses ToRA's ``math_equal``.
- All few-shot examples are always included (CriticBench drops examples that overflow the
  model's context window). Judges run at temperature 0, as CriticBench does (its ``top_p`` 0.95
  and 512-token limit are not imposed).
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from reflectlab.errors import ConfigError, InputError
from reflectlab.judge._base import FrozenResult, ratio
from reflectlab.judge._gather import gather_limited
from reflectlab.judge._jsonio import iter_jsonl, require_object, require_str
from reflectlab.judge._verdicts import _collect, _single
from reflectlab.judge.critic_eval import SolutionItem
from reflectlab.judge.metrics import CriticEvaluation, critic_evaluation
from reflectlab.judge.protocols import _Judge
from reflectlab.model import ChatMessage, Model

__all__ = [
    "CRITICBENCH_PROMPT_TYPES",
    "CriticBenchItem",
    "CriticBenchJudgment",
    "CriticBenchResult",
    "CriticBenchRunner",
    "ParsedAnswerText",
    "ParsedVerdict",
    "criticbench_messages",
    "evaluate_criticbench",
    "parse_criticbench_answer",
    "parse_criticbench_verdict",
    "read_criticbench_items",
    "summarize_criticbench",
]

CriticBenchPromptType = Literal["fs", "zs-crit-cot", "zs-crit-ao-1"]
CRITICBENCH_PROMPT_TYPES: tuple[CriticBenchPromptType, ...] = ("fs", "zs-crit-cot", "zs-crit-ao-1")
Stage = Literal["generation", "critique", "correction"]

_FILES: dict[str, dict[Stage, str]] = {
    "fs": {
        "generation": "generation_gsm8k_few_shot.txt",
        "critique": "critique_gsm8k_few_shot.txt",
        "correction": "correction_gsm8k_few_shot.txt",
    },
    "zs-crit-cot": {
        "generation": "generation_gsm8k_few_shot.txt",
        "critique": "critique_gsm8k_zero_shot_chain_of_thought.txt",
        "correction": "correction_gsm8k_zero_shot_with_chain_of_thought_critique.txt",
    },
    "zs-crit-ao-1": {
        "generation": "generation_gsm8k_few_shot.txt",
        "critique": "critique_gsm8k_zero_shot_answer_only_1.txt",
        "correction": "correction_gsm8k_zero_shot_with_answer_only_critique.txt",
    },
}
_SECTION_BREAK = "\n# ########## #"
_PLACEHOLDER = re.compile(r"\{(question|solution|critique)\}")
_ANSWER_IS = re.compile(r"the answer is", re.IGNORECASE)
_NUMBERS = re.compile(r"-?\d*\.?\d+")
_MARKER = re.compile(r"\[\[([^\[\]\n]{1,60})\]\]")


class CriticBenchItem(SolutionItem):
    """A :class:`SolutionItem` (the given response as ``solution``, its gold label as
    ``is_correct``, the CriticBench ``question_source`` as ``source``) plus the gold
    ``answers``."""

    answers: list[str]


class ParsedVerdict(FrozenResult):
    """``"correct"``/``"wrong"`` or ``None`` with the reason."""

    verdict: Literal["correct", "wrong"] | None
    parse_error: str | None = None


class ParsedAnswerText(FrozenResult):
    """The extracted final answer (a number as text) or ``None`` with the reason."""

    answer: str | None
    parse_error: str | None = None


class CriticBenchJudgment(FrozenResult):
    """One item, three stages. ``*_correct`` is ``False`` when the stage's reply is
    unparseable (its ``*_parse_error`` says why)."""

    protocol: Literal["criticbench"] = "criticbench"
    judge: str
    id: str
    source: str
    response_is_correct: bool
    generation: str
    generation_answer: str | None
    generation_correct: bool
    generation_parse_error: str | None = None
    critique: str
    critique_verdict: Literal["correct", "wrong"] | None
    critique_correct: bool
    critique_parse_error: str | None = None
    correction: str
    correction_answer: str | None
    correction_correct: bool
    correction_parse_error: str | None = None


class CriticBenchResult(FrozenResult):
    """Per-stage scores over ``n`` items. Accuracies are over all items, an unparsed reply
    counted wrong (and counted in ``*_unparsed``), but ``None`` when no reply of that stage
    parsed at all: nothing was measured. ``critique`` holds precision/recall/F1/FPR of flagging
    wrong responses; ``critique_f1`` is CriticBench's headline (F1 of "wrong", an unparsed
    verdict = the opposite of gold)."""

    judge: str
    prompt_type: CriticBenchPromptType
    n: int
    generation_accuracy: float | None
    generation_unparsed: int
    critique_accuracy: float | None
    critique_f1: float | None
    critique_unparsed: int
    critique: CriticEvaluation
    correction_accuracy: float | None
    correction_accuracy_on_wrong: float | None
    correction_accuracy_on_correct: float | None
    correction_unparsed: int
    judgments: list[CriticBenchJudgment]


# ------------------------------------------------------------------------------ prompts


@cache
def _prompt_parts(filename: str) -> tuple[str, str, str, str]:
    """(instruction, examples, question template, answer format) of a CriticBench prompt
    file, split on its section markers as CriticBench's ``load_single_prompt`` does."""
    text = (
        resources.files("reflectlab.judge")
        .joinpath("data", "criticbench", filename)
        .read_text(encoding="utf-8")
    )
    parts = {"instruction": "", "examples": "", "question": "", "format": ""}
    for part in text.split(_SECTION_BREAK):
        for key, marker in (
            ("instruction", "#instruction#"),
            ("examples", "#Example#"),
            ("question", "#Question#"),
            ("format", "#Answer Format#"),
        ):
            if marker in part:
                parts[key] = part.replace(marker + "\n", "").replace(marker, "")
                break
    examples = parts["examples"] if parts["examples"].strip() else ""
    return parts["instruction"], examples, parts["question"], parts["format"].strip()


def criticbench_messages(
    stage: Stage,
    question: str,
    *,
    prompt_type: CriticBenchPromptType = "fs",
    solution: str | None = None,
    critique: str | None = None,
) -> list[ChatMessage]:
    """The CriticBench prompt of ``stage`` (one user message): instruction + examples +
    question template with ``{question}``, ``{solution}`` and ``{critique}`` filled."""
    if prompt_type not in _FILES:
        raise ConfigError(
            f"unknown CriticBench prompt type {prompt_type!r}; "
            f"use {', '.join(CRITICBENCH_PROMPT_TYPES)}"
        )
    instruction, examples, template, _ = _prompt_parts(_FILES[prompt_type][stage])
    values = {"question": question, "solution": solution, "critique": critique}

    def fill(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        if value is None:
            raise ConfigError(f"the CriticBench {stage} prompt needs {match.group(1)}")
        return value

    content = (instruction + examples + _PLACEHOLDER.sub(fill, template)).strip()
    return [ChatMessage(role="user", content=content)]


def _answer_format(stage: Stage, prompt_type: CriticBenchPromptType) -> str:
    return _prompt_parts(_FILES[prompt_type][stage])[3]


# ------------------------------------------------------------------------------ parsing


def _verdict_value(raw: Any) -> Literal["correct", "wrong"] | None:
    if isinstance(raw, str):
        token = raw.strip().strip("\"'.!").lower()
        if token == "correct":
            return "correct"
        if token in ("wrong", "incorrect"):
            return "wrong"
    return None


def parse_criticbench_verdict(text: str) -> ParsedVerdict:
    """``[[correct]]`` / ``[[wrong]]`` or ``{"verdict": "correct"|"wrong"}``, exactly one.

    >>> parse_criticbench_verdict("Step 2 is off. So the verdict is: [[wrong]]").verdict
    'wrong'
    >>> parse_criticbench_verdict("[[correct]] ... no, [[wrong]]").parse_error
    'conflicting verdicts: correct, wrong'
    """
    found: list[Literal["correct", "wrong"]] = _collect(text, _verdict_value, ("verdict",))
    verdict, error = _single(found, "no verdict found (expected [[correct]] or [[wrong]])")
    return ParsedVerdict(verdict=verdict, parse_error=error)


def parse_criticbench_answer(text: str, answer_format: str) -> ParsedAnswerText:
    """The final number of a generation or correction reply, per the prompt's answer format:
    ``The answer is`` (text after its last occurrence), ``[[]]`` (the last ``[[...]]``) or
    ``json: answer`` (the ``"answer"`` value of a JSON object).

    >>> parse_criticbench_answer("5 + 4 = 9. The answer is 9.", "The answer is").answer
    '9'
    >>> parse_criticbench_answer("I think 9", "The answer is").parse_error
    'no "The answer is" in the reply'
    """
    if answer_format.startswith("json:"):
        key = answer_format.removeprefix("json:").strip()
        values = _collect(
            text, lambda raw: raw if isinstance(raw, str | int | float) else None, (key,)
        )
        distinct = list(dict.fromkeys(str(v) for v in values if not isinstance(v, bool)))
        if len(distinct) != 1:
            why = "no" if not distinct else "conflicting"
            return ParsedAnswerText(answer=None, parse_error=f'{why} JSON "{key}" in the reply')
        span = distinct[0]
    elif answer_format == "[[]]":
        markers = _MARKER.findall(text)
        if not markers:
            return ParsedAnswerText(answer=None, parse_error="no [[answer]] in the reply")
        span = markers[-1]
    else:
        pieces = _ANSWER_IS.split(text)
        if len(pieces) < 2:
            return ParsedAnswerText(answer=None, parse_error='no "The answer is" in the reply')
        span = pieces[-1]
    cleaned = span.replace("$", "").replace("€", "").replace(",", "").replace("£", "")
    numbers = _NUMBERS.findall(cleaned)
    if not numbers:
        return ParsedAnswerText(answer=None, parse_error=f"no number in the answer {span!r}")
    return ParsedAnswerText(answer=numbers[-1])


def _matches(answer: str | None, gold: Sequence[str]) -> bool:
    if answer is None:
        return False
    try:
        value = float(answer)
    except ValueError:
        return False
    for g in gold:
        try:
            target = float(g.replace(",", "").strip())
        except ValueError:
            continue
        if math.isclose(value, target, rel_tol=1e-4, abs_tol=1e-9):
            return True
    return False


# ------------------------------------------------------------------------------ reading


def read_criticbench_items(path: str | Path) -> list[CriticBenchItem]:
    """JSONL in CriticBench's dataset fields (``llm-agents/CriticBench`` exported as JSON
    lines): ``id``, ``question``, ``response``, ``response_label`` (bool), ``answer`` (a list of
    gold answers, or one), ``question_source`` (optional, default ``"GSM8K"``). Only GSM8K
    items are supported (see the module docstring); others are an :class:`InputError`."""
    items: list[CriticBenchItem] = []
    seen: set[str] = set()
    for line, raw in iter_jsonl(path):
        record = require_object(raw, path=path, line=line)
        value = record.get("id")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise InputError(
                f"expected a string or integer id, got {value!r}",
                path=str(path),
                line=line,
                field="id",
            )
        item_id = str(value)
        if item_id in seen:
            raise InputError(f"duplicate id {item_id!r}", path=str(path), line=line, field="id")
        seen.add(item_id)
        label = record.get("response_label")
        if not isinstance(label, bool):
            raise InputError(
                f"expected true or false, got {label!r}",
                path=str(path),
                line=line,
                field="response_label",
            )
        answers = record.get("answer")
        if isinstance(answers, str | int | float) and not isinstance(answers, bool):
            answers = [answers]
        if (
            not isinstance(answers, list)
            or not answers
            or not all(
                isinstance(a, str | int | float) and not isinstance(a, bool) for a in answers
            )
        ):
            raise InputError(
                f"expected a gold answer or a non-empty list of them, got {answers!r}",
                path=str(path),
                line=line,
                field="answer",
            )
        source = record.get("question_source", "GSM8K")
        if source != "GSM8K":
            raise InputError(
                f"only GSM8K items are supported (its prompts are shipped), got {source!r}",
                path=str(path),
                line=line,
                field="question_source",
            )
        items.append(
            CriticBenchItem(
                id=item_id,
                question=require_str(record, "question", path=path, line=line),
                solution=require_str(record, "response", path=path, line=line),
                is_correct=label,
                source=source,
                answers=[str(a) for a in answers],
            )
        )
    if not items:
        raise InputError("no items (the file is empty)", path=str(path))
    return items


# ------------------------------------------------------------------------------ running


class CriticBenchRunner(_Judge):
    """Runs the three CriticBench stages of one model on an item (calls tagged ``judge_step``
    = generation / critique / correction)."""

    protocol = "criticbench"

    def __init__(
        self,
        model: Model,
        *,
        prompt_type: CriticBenchPromptType = "fs",
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model, temperature=temperature, max_tokens=max_tokens)
        if prompt_type not in _FILES:
            raise ConfigError(
                f"unknown CriticBench prompt type {prompt_type!r}; "
                f"use {', '.join(CRITICBENCH_PROMPT_TYPES)}"
            )
        self.prompt_type: CriticBenchPromptType = prompt_type

    async def run(self, item: CriticBenchItem) -> CriticBenchJudgment:
        """Generation and critique at once; correction after the critique (it uses it)."""
        kind = self.prompt_type
        generation, critique = await asyncio.gather(
            self._ask(
                criticbench_messages("generation", item.question, prompt_type=kind),
                judge_step="generation",
            ),
            self._ask(
                criticbench_messages(
                    "critique", item.question, prompt_type=kind, solution=item.solution
                ),
                judge_step="critique",
            ),
        )
        correction = await self._ask(
            criticbench_messages(
                "correction",
                item.question,
                prompt_type=kind,
                solution=item.solution,
                critique=critique,
            ),
            judge_step="correction",
        )
        gen = parse_criticbench_answer(generation, _answer_format("generation", kind))
        verdict = parse_criticbench_verdict(critique)
        corr = parse_criticbench_answer(correction, _answer_format("correction", kind))
        gold_verdict = "correct" if item.is_correct else "wrong"
        return CriticBenchJudgment(
            judge=self.name,
            id=item.id,
            source=item.source,
            response_is_correct=item.is_correct,
            generation=generation,
            generation_answer=gen.answer,
            generation_correct=_matches(gen.answer, item.answers),
            generation_parse_error=gen.parse_error,
            critique=critique,
            critique_verdict=verdict.verdict,
            critique_correct=verdict.verdict == gold_verdict,
            critique_parse_error=verdict.parse_error,
            correction=correction,
            correction_answer=corr.answer,
            correction_correct=_matches(corr.answer, item.answers),
            correction_parse_error=corr.parse_error,
        )


async def evaluate_criticbench(
    runner: CriticBenchRunner | Model,
    items: Sequence[CriticBenchItem],
    *,
    concurrency: int = 8,
) -> CriticBenchResult:
    """Run the three stages on every item and score each stage (module docstring)."""
    if not items:
        raise ConfigError("evaluate_criticbench needs at least one item")
    if isinstance(runner, Model):
        runner = CriticBenchRunner(runner)
    judgments = await gather_limited([partial(runner.run, item) for item in items], concurrency)
    return summarize_criticbench(judgments, judge=runner.name, prompt_type=runner.prompt_type)


def summarize_criticbench(
    judgments: Sequence[CriticBenchJudgment],
    *,
    judge: str,
    prompt_type: CriticBenchPromptType = "fs",
) -> CriticBenchResult:
    """Per-stage scores of finished judgments."""
    n = len(judgments)
    if n == 0:
        raise ConfigError("summarize_criticbench needs at least one judgment")
    wrong = [j for j in judgments if not j.response_is_correct]
    right = [j for j in judgments if j.response_is_correct]
    gen_unparsed = sum(j.generation_answer is None for j in judgments)
    crit_unparsed = sum(j.critique_verdict is None for j in judgments)
    corr_unparsed = sum(j.correction_answer is None for j in judgments)

    def accuracy(count: int, unparsed: int) -> float | None:
        return None if unparsed == n else count / n

    # CriticBench's F1 of the "wrong" class: an unparsed critique predicts the opposite of gold.
    tp = fp = fn = 0
    for j in judgments:
        says_wrong = j.critique_verdict == "wrong" if j.critique_verdict else j.response_is_correct
        tp += says_wrong and not j.response_is_correct
        fp += says_wrong and j.response_is_correct
        fn += (not says_wrong) and not j.response_is_correct
    return CriticBenchResult(
        judge=judge,
        prompt_type=prompt_type,
        n=n,
        generation_accuracy=accuracy(sum(j.generation_correct for j in judgments), gen_unparsed),
        generation_unparsed=gen_unparsed,
        critique_accuracy=accuracy(sum(j.critique_correct for j in judgments), crit_unparsed),
        critique_f1=None if crit_unparsed == n else ratio(2 * tp, 2 * tp + fp + fn),
        critique_unparsed=crit_unparsed,
        critique=critic_evaluation(
            [j.response_is_correct for j in judgments],
            [
                None if j.critique_verdict is None else j.critique_verdict == "wrong"
                for j in judgments
            ],
        ),
        correction_accuracy=accuracy(sum(j.correction_correct for j in judgments), corr_unparsed),
        correction_accuracy_on_wrong=_parsed_ratio(wrong),
        correction_accuracy_on_correct=_parsed_ratio(right),
        correction_unparsed=corr_unparsed,
        judgments=list(judgments),
    )


def _parsed_ratio(judgments: Sequence[CriticBenchJudgment]) -> float | None:
    if all(j.correction_answer is None for j in judgments):
        return None
    return sum(j.correction_correct for j in judgments) / len(judgments)
