"""Scorers: how a reply is compared with a sample's gold target.

:class:`Scorer` is the one seam every scorer fits: an async callable ``(sample, response) ->
Score``. The answer scorers here extract a final answer and compare it with the target
(numeric with normalisation, exact text, regular expression, multiple choice); the unit-test
scorers of code
tasks and the IFEval scorer live with their tasks. A model-graded scorer (from the judge
package) only has to implement :class:`Scorer`; file tasks accept one as ``scorer=``.

A reply without an extractable answer is scored as wrong and the reason is kept in
:attr:`Score.reason`, never skipped.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from reflectlab.task._base import Extracted, Sample, SampleView, Score
from reflectlab.task._numeric import _BOXED, _brace_content, extract_number, normalize_number

__all__ = [
    "AnswerScorer",
    "ChoiceAnswer",
    "ExactAnswer",
    "NumericAnswer",
    "RegexAnswer",
    "Scorer",
    "extract_final_answer",
    "normalize_text",
]


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores a reply against a sample's gold target.

    Example (a model-graded scorer would call a judge model here)::

        class LengthScorer:
            async def __call__(self, sample: Sample, response: str) -> Score:
                ok = len(response) <= 100
                return Score(correct=ok, value=float(ok), reason=None if ok else "too long")
    """

    async def __call__(self, sample: Sample, response: str) -> Score: ...


_ANSWER_LINE = re.compile(
    r"(?:\bfinal\s+answer|\banswer)\s*(?:\*\*|__)?\s*(?:is\b|:|=)\s*:?|^\s*####",
    re.IGNORECASE | re.MULTILINE,
)
_MARKDOWN = re.compile(r"\*\*|__|`")
_WRAPPERS = "\"'“”‘’()[]{}<> \t"


def extract_final_answer(response: str) -> Extracted:
    """The text of a reply's final answer, before normalisation.

    In order: the last ``\\boxed{...}``, the rest of the line after the last ``Answer:`` /
    ``The answer is`` / ``####``, else the last non-blank line.
    """
    boxed = list(_BOXED.finditer(response))
    if boxed:
        text = _brace_content(response, boxed[-1].end()).strip()
        if text:
            return Extracted(value=text, reason="boxed")
    markers = list(_ANSWER_LINE.finditer(response))
    if markers:
        rest = response[markers[-1].end() :].lstrip(" \t*_:")
        rest = rest.lstrip("\n").split("\n", 1)[0].strip()
        if _MARKDOWN.sub("", rest).strip():
            return Extracted(value=rest, reason="answer marker")
    lines = [line.strip() for line in response.splitlines() if line.strip()]
    if not lines:
        return Extracted(value=None, reason="empty reply")
    return Extracted(value=lines[-1], reason="last line")


def normalize_text(text: str) -> str:
    """Case-folded, markdown and surrounding quotes/brackets/final punctuation removed,
    whitespace collapsed: ``'**"Paris".**'`` -> ``'paris'``."""
    text = _MARKDOWN.sub("", text).strip()
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_WRAPPERS).rstrip(".!;:,").strip()
    return " ".join(text.split()).casefold()


class AnswerScorer(ABC):
    """Extract a final answer, compare it with the target. Subclasses define both halves and
    validate a target at load time (:meth:`prepare_target`), so a bad gold value fails before
    any model call."""

    #: The task's ``answer_kind``.
    kind: str = "text"

    @abstractmethod
    def extract(self, response: str) -> Extracted:
        """The normalised answer of a reply (equal answers give equal strings)."""

    @abstractmethod
    def matches(self, answer: str, target: Any) -> bool:
        """Whether an extracted answer equals the (prepared) target."""

    def prepare_target(self, target: Any) -> Any:
        """The target as stored in the sample; raise ``ValueError`` if it is unusable."""
        if isinstance(target, bool) or not isinstance(target, str | int | float):
            raise ValueError(f"must be a string or a number, got {type(target).__name__}")
        return str(target)

    def instruction(self) -> str:
        """The answer-format line appended to prompts."""
        return "Give your final answer on the last line as 'Answer: <answer>'."

    def extract_for(self, sample: SampleView, response: str) -> Extracted:
        """:meth:`extract` for this sample (a scorer whose answers depend on the sample's
        public metadata, such as multiple-choice options, overrides it)."""
        return self.extract(response)

    async def __call__(self, sample: Sample, response: str) -> Score:
        extracted = self.extract_for(sample, response)
        if extracted.value is None:
            return Score(correct=False, reason=extracted.reason or "no answer found")
        ok = self.matches(extracted.value, sample.target)
        return Score(
            correct=ok,
            value=float(ok),
            answer=extracted.value,
            reason=None if ok else f"answer {extracted.value!r} != target {sample.target!r}",
            details={"extracted_by": extracted.reason},
        )


class NumericAnswer(AnswerScorer):
    """Numbers compared after normalisation (``$1,000.00`` equals ``1000``)."""

    kind = "number"

    def extract(self, response: str) -> Extracted:
        return extract_number(response)

    def matches(self, answer: str, target: Any) -> bool:
        return answer == str(target)

    def prepare_target(self, target: Any) -> str:
        if isinstance(target, bool) or not isinstance(target, str | int | float):
            raise ValueError(f"must be a number, got {type(target).__name__}")
        try:
            return normalize_number(target)
        except ValueError:
            raise ValueError(f"must be a number, got {target!r}") from None

    def instruction(self) -> str:
        return "Give your final answer as a number on the last line as 'Answer: <number>'."


class ExactAnswer(AnswerScorer):
    """The final answer equals the target after :func:`normalize_text` (case, quotes,
    markdown, final punctuation and extra spaces do not matter)."""

    kind = "text"

    def extract(self, response: str) -> Extracted:
        raw = extract_final_answer(response)
        if raw.value is None:
            return raw
        value = normalize_text(raw.value)
        if not value:
            return Extracted(value=None, reason="empty answer")
        return Extracted(value=value, reason=raw.reason)

    def matches(self, answer: str, target: Any) -> bool:
        return answer == normalize_text(str(target))


class RegexAnswer(AnswerScorer):
    """The target is a regular expression the whole final answer must match (case-insensitive;
    surrounding markdown and quotes removed first)."""

    kind = "text"

    def extract(self, response: str) -> Extracted:
        raw = extract_final_answer(response)
        if raw.value is None:
            return raw
        value = " ".join(_MARKDOWN.sub("", raw.value).split()).strip(_WRAPPERS).rstrip(".!;")
        if not value:
            return Extracted(value=None, reason="empty answer")
        return Extracted(value=value, reason=raw.reason)

    def matches(self, answer: str, target: Any) -> bool:
        return re.fullmatch(str(target), answer, re.IGNORECASE) is not None

    def prepare_target(self, target: Any) -> str:
        pattern = str(super().prepare_target(target))
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"is not a valid regular expression: {error}") from None
        return pattern


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# "B", "(B)", "B.", "B)", "[B]", optionally followed by the option's text ("B. Paris").
_LEADING_LETTER = re.compile(r"^[(\[]?([A-Z])(?:[)\].:]|\s|$)\s*(.*)$", re.S)
_OPTION_WORD = re.compile(r"\b(?:option|choice)\s+\(?([A-Z])\)?(?![A-Za-z])", re.I)


def parse_choices(value: Any) -> tuple[list[str], list[str] | None]:
    """A row's options: a list of strings (MMLU), a list of ``{"label", "text"}`` objects or a
    ``{"label": [...], "text": [...]}`` table (CommonsenseQA). Returns the texts and the
    labels the file used (``None`` when it has none). ``ValueError`` when it is neither."""
    labels: list[str] | None = None
    if isinstance(value, dict) and isinstance(value.get("text"), list):
        texts, raw_labels = value["text"], value.get("label")
        labels = [str(x) for x in raw_labels] if isinstance(raw_labels, list) else None
    elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        texts = [x.get("text") for x in value]
        labels = [str(x.get("label")) for x in value] if all("label" in x for x in value) else None
    elif isinstance(value, list):
        texts = value
    else:
        raise ValueError("must be a list of options (or {'label': [...], 'text': [...]})")
    if not 2 <= len(texts) <= len(LETTERS):
        raise ValueError(f"must have 2 to {len(LETTERS)} options, has {len(texts)}")
    if not all(isinstance(t, str | int | float) and not isinstance(t, bool) for t in texts):
        raise ValueError("every option must be a string")
    if labels is not None and len(labels) != len(texts):
        raise ValueError("has a different number of labels and texts")
    return [str(t).strip() for t in texts], labels


class ChoiceAnswer(AnswerScorer):
    """Multiple choice (CommonsenseQA, MMLU): the answer is the letter of an option.

    The prompt lists the options as ``A. ...``, ``B. ...``. The reply's final answer (after
    ``Answer:``/``The answer is``, a ``\\boxed{}``, else the last line) is read as a letter —
    ``B``, ``(B)``, ``B. <text>``, ``option B`` — or, failing that, as the exact text of one
    option. A bare letter on an unmarked last line counts only when the line is just the
    letter (so "A cat ..." is not option A). Targets are stored as letters: a letter, a label
    the file uses, a 0-based index (MMLU's convention) or an option's text.
    """

    kind = "choice"

    def extract(self, response: str, choices: Sequence[str] | None = None) -> Extracted:
        raw = extract_final_answer(response)
        if raw.value is None:
            return raw
        n = len(choices) if choices else len(LETTERS)
        valid = LETTERS[:n]
        text = _MARKDOWN.sub("", raw.value).strip().strip("\"'“”‘’").strip()
        leading = _LEADING_LETTER.match(text)
        if leading and leading.group(1) in valid:
            rest = normalize_text(leading.group(2))
            option = normalize_text(choices[valid.index(leading.group(1))]) if choices else ""
            if raw.reason != "last line" or not rest or rest == option:
                return Extracted(value=leading.group(1), reason=raw.reason)
        word = _OPTION_WORD.findall(text)
        if word and word[-1].upper() in valid:
            return Extracted(value=word[-1].upper(), reason=raw.reason)
        if choices:
            said = normalize_text(text)
            hits = [i for i, c in enumerate(choices) if normalize_text(c) == said]
            if len(hits) == 1:
                return Extracted(value=LETTERS[hits[0]], reason=f"{raw.reason}, option text")
        return Extracted(value=None, reason=f"no option letter ({valid[0]}-{valid[-1]}) found")

    def matches(self, answer: str, target: Any) -> bool:
        return answer == str(target)

    def prepare_choice_target(
        self, target: Any, choices: Sequence[str], labels: Sequence[str] | None = None
    ) -> str:
        """The gold letter of ``target`` among ``choices``; ``ValueError`` if it is none."""
        valid = LETTERS[: len(choices)]
        if isinstance(target, bool):
            raise ValueError(f"must be a letter, an index or an option, got {target!r}")
        if isinstance(target, int):
            if 0 <= target < len(choices):
                return valid[target]
            raise ValueError(f"index {target} is out of range for {len(choices)} options")
        text = str(target).strip()
        if labels is not None and text in labels:
            return valid[labels.index(text)]
        if len(text) == 1 and text.upper() in valid:
            return text.upper()
        hits = [i for i, c in enumerate(choices) if normalize_text(c) == normalize_text(text)]
        if len(hits) == 1:
            return valid[hits[0]]
        raise ValueError(f"{target!r} is not one of the options ({valid[0]}-{valid[-1]})")

    def instruction(self) -> str:
        return "Give the letter of the correct option on the last line as 'Answer: <letter>'."

    @staticmethod
    def options_text(choices: Sequence[str]) -> str:
        """``A. first\nB. second ...``: the options as the prompt lists them."""
        return "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(choices))

    def extract_for(self, sample: SampleView, response: str) -> Extracted:
        choices = sample.metadata.get("choices")
        return self.extract(response, choices if isinstance(choices, list) else None)


ANSWER_SCORERS: dict[str, type[AnswerScorer]] = {
    "numeric": NumericAnswer,
    "exact": ExactAnswer,
    "regex": RegexAnswer,
    "choice": ChoiceAnswer,
}
