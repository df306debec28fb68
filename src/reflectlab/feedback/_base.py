"""Where a critique comes from, and its provenance.

Four kinds, declared by every source and carried by every :class:`Feedback`:

- ``intrinsic``: the solver model critiques its own answer;
- ``critic``: a different model critiques (dual-model reflection);
- ``tool``: an external, label-free signal: the task's own check (visible unit tests,
  programmatic constraint checks), model-written code run in the sandbox, a calculator;
- ``oracle``: the gold answer decides correct/incorrect. Papers used it, so it is allowed, but
  the context is marked *oracle-assisted* and every summary shows it.

The strategy owns its paper's critique *prompt*; the source decides who or what answers it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, Field

from reflectlab.model import ChatMessage, Model, ModelOutput
from reflectlab.task import Oracle, SampleView, TaskView

FeedbackKind = Literal["intrinsic", "critic", "tool", "oracle"]
FEEDBACK_KINDS: tuple[FeedbackKind, ...] = ("intrinsic", "critic", "tool", "oracle")
Verdict = Literal["correct", "incorrect", "unknown"]


class Feedback(BaseModel):
    """One piece of feedback on one response.

    ``verdict`` is the parsed stop signal ("correct" lets a strategy stop); "unknown" when the
    critique could not be parsed — never guessed. ``text`` is what the refiner reads.
    """

    kind: FeedbackKind
    source: str
    text: str
    verdict: Verdict = "unknown"
    round: int | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class FeedbackContext(Protocol):
    """What a feedback source needs from the strategy context (implemented by
    :class:`reflectlab.strategy.StrategyContext`). ``task`` and ``sample`` are target-free
    views; gold information comes only from :meth:`use_oracle`, which marks the result."""

    @property
    def model(self) -> Model: ...

    @property
    def critic(self) -> Model | None: ...

    @property
    def task(self) -> TaskView: ...

    @property
    def sample(self) -> SampleView: ...

    async def generate(
        self,
        messages: list[ChatMessage],
        *,
        role: str,
        round: int | None,
        model: Model | None = None,
        **config: Any,
    ) -> ModelOutput: ...

    def mark_oracle(self, reason: str) -> None: ...

    def use_oracle(self, reason: str) -> Oracle: ...


VerdictParser = Callable[[str], Verdict]

_CORRECT_RE = re.compile(
    r"\b(is|looks|seems|appears)\s+(entirely\s+|fully\s+|completely\s+)?correct\b|"
    r"\bno (errors?|mistakes?|issues?|problems?)\b|\bstop\b|\[\[correct\]\]|"
    r"\bverdict\s*:\s*correct\b|\bcorrectness\s*:\s*(true|yes)\b",
    re.I,
)
_INCORRECT_RE = re.compile(
    r"\b(incorrect|wrong|mistake|error|not correct|isn't correct|is not right|flaw)\b|"
    r"\[\[incorrect\]\]|\bverdict\s*:\s*incorrect\b|\bcorrectness\s*:\s*(false|no)\b",
    re.I,
)


def parse_verdict(text: str) -> Verdict:
    """A generic verdict parser: explicit markers first (``[[CORRECT]]``/``[[INCORRECT]]``,
    ``Verdict: ...``), then plain phrases. Contradictory or absent signals give "unknown"."""
    upper = text.upper()
    if "[[INCORRECT]]" in upper:
        return "incorrect"
    if "[[CORRECT]]" in upper:
        return "correct"
    says_wrong = bool(_INCORRECT_RE.search(text))
    says_right = bool(_CORRECT_RE.search(text))
    if says_wrong and not says_right:
        return "incorrect"
    if says_right and not says_wrong:
        return "correct"
    return "unknown"


@dataclass
class FeedbackRequest:
    """What a strategy asks for: feedback on ``response``. Model-based sources send
    ``critique_messages`` (the strategy's own paper prompt); tool and oracle sources use
    ``response`` directly. ``code`` is model-written code to run, for execution sources."""

    response: str
    round: int
    critique_messages: list[ChatMessage] = field(default_factory=list)
    parse: VerdictParser = parse_verdict
    code: str | None = None


class FeedbackSource(ABC):
    """A source of feedback. Subclasses declare ``kind`` (their provenance)."""

    kind: ClassVar[FeedbackKind]
    name: str = "feedback"

    @abstractmethod
    async def __call__(self, ctx: FeedbackContext, request: FeedbackRequest) -> Feedback:
        """Produce feedback on ``request.response``."""
