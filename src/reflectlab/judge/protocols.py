"""LLM-as-a-judge protocols over any :class:`~reflectlab.model.Model`: pointwise, pairwise and
reference-guided. (Checklist: :mod:`reflectlab.judge.checklist`; panels:
:mod:`reflectlab.judge.panel`.)

Prompts are MT-Bench's (Zheng et al., "Judging LLM-as-a-Judge with MT-Bench and Chatbot
Arena", NeurIPS 2023): ``single-v1`` / ``pair-v2``, and ``single-math-v1`` / ``pair-math-v1``
when a reference answer is given (reference-guided grading). Every call goes through
``Model.generate`` with ``role="judge"`` and the tags ``judge_protocol`` (and ``judge_order``
for pairwise), so judge calls are cached, counted and traced like any other call. Judges run
at temperature 0 by default, as MT-Bench's do.

- :class:`PointwiseJudge`: a rating on a configurable scale (default 1-10); the judge's
  explanation is kept as ``reasoning``.
- :class:`PairwiseJudge`: A vs B, always in both orders (the second with the responses
  swapped, its verdict mapped back). A verdict counts only when both orders agree; otherwise
  the pair is ``"inconsistent"`` (MT-Bench's label) or, if configured, a ``"tie"`` (how
  MT-Bench scores inconsistent pairs). JudgeBench (Tan et al., ICLR 2025) also runs both
  orders; its own aggregation (a net vote) is available in
  :func:`reflectlab.judge.formats.pairwise_meta_eval`.

  ``prompt="self-taught"`` swaps MT-Bench's prompt for the Self-Taught Evaluator's (Wang et
  al., "Self-Taught Evaluators", 2024, arXiv:2408.02666; ``facebookresearch/RAM``
  ``projects/self_taught_evaluator``, verbatim, see :mod:`reflectlab.judge._prompts`):
  the prompt its released model is run with (RewardBench's MT-Bench-style pair prompt without a
  tie); ``"self-taught-plan"`` is the paper's judgment-generation ("evaluation plan") prompt.
  Both orders are run and combined exactly as for MT-Bench; the authors also ran both orders
  when generating judgments (their README, "0_1" and "1_0"). Deviations, stated: the authors'
  ``parse_judgement`` returns nothing when both ``[[A]]`` and ``[[B]]`` occur, else the first of
  ``[[A]]``, ``[[B]]``, ``[[C]]`` found (``[[C]]`` = tie, although the prompt offers no tie);
  ours is the strict parser below, so a reply with both is unparseable (as theirs), a format
  echo (``\\"[[A]]\\" if ...``) is not a verdict, and ``[[C]]`` is unparseable (no tie was
  offered). RewardBench's scoring counts an unparseable reply as half right; we count it.

A reply without a clear verdict gives ``None`` plus ``parse_error``; it is never guessed
(see :mod:`reflectlab.judge._verdicts`).

Example::

    judge = PairwiseJudge(get_model("openai/gpt-4o-mini"))
    result = await judge.judge("Name a prime.", "7", "8")
    result.verdict  # "A", "B", "tie", "inconsistent" or None (unparseable)
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from reflectlab.errors import ConfigError
from reflectlab.judge._base import FrozenResult
from reflectlab.judge._pairwise import Gold, PairwiseVerdicts
from reflectlab.judge._prompts import pairwise_messages, pointwise_messages, self_taught_messages
from reflectlab.judge._verdicts import PairVerdict, parse_pairwise_verdict, parse_rating
from reflectlab.model import ChatMessage, Model, call_tags

__all__ = [
    "Disagreement",
    "JudgeVerdict",
    "OrderVerdict",
    "PairwiseJudge",
    "PairwiseJudgment",
    "PairwisePrompt",
    "PointwiseJudge",
    "PointwiseJudgment",
]

JudgeVerdict = Literal["A", "B", "tie", "inconsistent"]
"""A pairwise protocol's final verdict, in the pair's original positions."""
Disagreement = Literal["inconsistent", "tie"]
PairwisePrompt = Literal["mt-bench", "self-taught", "self-taught-plan"]
"""Which pairwise prompt: MT-Bench's (default) or the Self-Taught Evaluator's two."""
PAIRWISE_PROMPTS: tuple[PairwisePrompt, ...] = ("mt-bench", "self-taught", "self-taught-plan")

_SWAP: dict[PairVerdict, PairVerdict] = {"A": "B", "B": "A", "tie": "tie"}


class PointwiseJudgment(FrozenResult):
    """A rating (``None`` when unparseable, with ``parse_error``) and the judge's reply."""

    protocol: Literal["pointwise"] = "pointwise"
    judge: str
    score: float | None
    scale: tuple[int, int]
    reference_guided: bool
    reasoning: str
    parse_error: str | None = None


class OrderVerdict(FrozenResult):
    """One presentation order of a pair. ``shown`` is the order the judge saw (``"AB"``:
    the pair as stored; ``"BA"``: swapped). ``raw`` is the verdict in the positions shown;
    ``verdict`` is mapped back to the pair's original positions."""

    shown: Literal["AB", "BA"]
    raw: PairVerdict | None
    verdict: PairVerdict | None
    reasoning: str
    parse_error: str | None = None


class PairwiseJudgment(FrozenResult):
    """Both orders and the combined verdict.

    ``verdict``: the agreed verdict, ``"inconsistent"`` (or ``"tie"``, per the judge's
    ``on_disagreement``) when the orders disagree, ``None`` when either order is unparseable.
    ``consistent``: the two orders agree (``None`` if either is unparseable).
    """

    protocol: Literal["pairwise"] = "pairwise"
    judge: str
    verdict: JudgeVerdict | None
    consistent: bool | None
    original: OrderVerdict
    swapped: OrderVerdict
    reference_guided: bool
    parse_error: str | None = None
    prompt: PairwisePrompt = "mt-bench"

    def to_pairwise_verdicts(self, id: str, gold: Gold) -> PairwiseVerdicts:
        """The two orders as :class:`~reflectlab.judge.formats.PairwiseVerdicts`, for
        :func:`~reflectlab.judge.formats.pairwise_meta_eval`."""
        return PairwiseVerdicts(
            id=id, gold=gold, original=self.original.verdict, swapped=self.swapped.verdict
        )


class _Judge:
    """A model plus generation settings; every call is tagged ``role="judge"``."""

    protocol: str = "judge"

    def __init__(
        self, model: Model, *, temperature: float | None = 0.0, max_tokens: int | None = None
    ) -> None:
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens

    @property
    def name(self) -> str:
        return self.model.name

    async def _ask(self, messages: list[ChatMessage], **tags: Any) -> str:
        with call_tags(judge_protocol=self.protocol, **tags):
            out = await self.model.generate(
                messages, role="judge", temperature=self.temperature, max_tokens=self.max_tokens
            )
        return out.text


class PointwiseJudge(_Judge):
    """Rate one response on ``scale`` (MT-Bench single-answer grading).

    ``rubric`` replaces MT-Bench's criteria sentence ("helpfulness, relevance, accuracy, ...");
    with a ``reference`` answer the prompt is MT-Bench's reference-guided ``single-math-v1``.
    A rating outside the scale is unparseable.
    """

    protocol = "pointwise"

    def __init__(
        self,
        model: Model,
        *,
        scale: tuple[int, int] = (1, 10),
        rubric: str | None = None,
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model, temperature=temperature, max_tokens=max_tokens)
        self.scale = check_scale(scale)
        self.rubric = rubric

    async def judge(
        self, instruction: str, response: str, *, reference: str | None = None
    ) -> PointwiseJudgment:
        messages = pointwise_messages(
            instruction, response, scale=self.scale, rubric=self.rubric, reference=reference
        )
        text = await self._ask(messages, reference_guided=reference is not None)
        parsed = parse_rating(text, scale=self.scale)
        return PointwiseJudgment(
            judge=self.name,
            score=parsed.rating,
            scale=self.scale,
            reference_guided=reference is not None,
            reasoning=text,
            parse_error=parsed.parse_error,
        )


class PairwiseJudge(_Judge):
    """Compare two responses in both orders (MT-Bench pairwise comparison).

    ``allow_tie=False`` removes MT-Bench's ``[[C]]`` option from the prompt (LLMBar-style
    forced choice); a tie is then unparseable. ``on_disagreement`` names what a pair gets when
    the two orders disagree: ``"inconsistent"`` (default) or ``"tie"``. ``prompt``: MT-Bench's
    (default) or the Self-Taught Evaluator's (``"self-taught"``, ``"self-taught-plan"``; no
    tie and no reference answer in those prompts, so ``allow_tie`` defaults to ``False`` and
    ``True`` or a ``reference`` is a :class:`ConfigError`).
    """

    protocol = "pairwise"

    def __init__(
        self,
        model: Model,
        *,
        allow_tie: bool | None = None,
        on_disagreement: Disagreement = "inconsistent",
        prompt: PairwisePrompt = "mt-bench",
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(model, temperature=temperature, max_tokens=max_tokens)
        if prompt not in PAIRWISE_PROMPTS:
            raise ConfigError(
                f"unknown pairwise prompt {prompt!r}; use {', '.join(PAIRWISE_PROMPTS)}"
            )
        if allow_tie is None:
            allow_tie = prompt == "mt-bench"
        elif allow_tie and prompt != "mt-bench":
            raise ConfigError(f"the {prompt} prompt offers no tie: allow_tie must be False")
        self.prompt: PairwisePrompt = prompt
        if on_disagreement not in ("inconsistent", "tie"):
            raise ConfigError(
                f"on_disagreement must be 'inconsistent' or 'tie', got {on_disagreement!r}"
            )
        self.allow_tie = allow_tie
        self.on_disagreement = on_disagreement

    async def judge(
        self,
        instruction: str,
        response_a: str,
        response_b: str,
        *,
        reference: str | None = None,
    ) -> PairwiseJudgment:
        if reference is not None and self.prompt != "mt-bench":
            raise ConfigError(f"the {self.prompt} prompt has no reference answer")
        original, swapped = await asyncio.gather(
            self._one_order(instruction, response_a, response_b, "AB", reference),
            self._one_order(instruction, response_b, response_a, "BA", reference),
        )
        return PairwiseJudgment(
            judge=self.name,
            verdict=self.combine(original.verdict, swapped.verdict),
            consistent=(
                None
                if original.verdict is None or swapped.verdict is None
                else original.verdict == swapped.verdict
            ),
            original=original,
            swapped=swapped,
            reference_guided=reference is not None,
            parse_error=_order_errors(original, swapped),
            prompt=self.prompt,
        )

    def combine(
        self, original: PairVerdict | None, swapped: PairVerdict | None
    ) -> JudgeVerdict | None:
        """The both-orders rule: agreement counts; disagreement is ``on_disagreement``."""
        if original is None or swapped is None:
            return None
        if original == swapped:
            return original
        return self.on_disagreement

    async def _one_order(
        self,
        instruction: str,
        first: str,
        second: str,
        shown: Literal["AB", "BA"],
        reference: str | None,
    ) -> OrderVerdict:
        if self.prompt == "mt-bench":
            messages = pairwise_messages(
                instruction, first, second, allow_tie=self.allow_tie, reference=reference
            )
        else:
            messages = self_taught_messages(instruction, first, second, variant=self.prompt)
        tags: dict[str, Any] = {} if self.prompt == "mt-bench" else {"judge_prompt": self.prompt}
        text = await self._ask(
            messages,
            judge_order="original" if shown == "AB" else "swapped",
            reference_guided=reference is not None,
            **tags,
        )
        # The Self-Taught prompts write the format as \\"[[A]]\\" (backslashes included): a
        # reply that echoes it must read as an echo, not as a verdict.
        text_for_parse = text if self.prompt == "mt-bench" else text.replace('\\"', '"')
        parsed = parse_pairwise_verdict(text_for_parse, allow_tie=self.allow_tie)
        raw = parsed.verdict
        mapped = None if raw is None else (raw if shown == "AB" else _SWAP[raw])
        return OrderVerdict(
            shown=shown, raw=raw, verdict=mapped, reasoning=text, parse_error=parsed.parse_error
        )


def check_scale(scale: tuple[int, int]) -> tuple[int, int]:
    """Validate a rating scale: two integers, low < high."""
    try:
        low, high = scale
    except (TypeError, ValueError):
        raise ConfigError(f"scale must be (low, high), got {scale!r}") from None
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (low, high)) or low >= high:
        raise ConfigError(f"scale must be two integers with low < high, got {scale!r}")
    return (low, high)


def _order_errors(original: OrderVerdict, swapped: OrderVerdict) -> str | None:
    errors = [
        f"{name} order: {v.parse_error}"
        for name, v in (("original", original), ("swapped", swapped))
        if v.verdict is None
    ]
    return "; ".join(errors) or None
