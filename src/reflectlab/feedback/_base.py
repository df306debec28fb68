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

# Explicit verdict markers only. Plain phrases ("looks correct", "no errors", "stop") are not a
# verdict: they occur inside critiques that go on to find a mistake ("no errors in step 1, but
# ..."), and a false "correct" ends a refinement loop on a wrong answer.
_MARKER_RE = re.compile(
    r"\[\[(?P<bracket>correct|incorrect)\]\]|"
    r"\bverdict[ \t*_]*:[ \t*_]*(?P<verdict>correct|incorrect)\b|"
    r"\bcorrectness[ \t*_]*:[ \t*_]*(?P<correctness>true|false|yes|no)\b|"
    r"\bcorrect[ \t*_]*:[ \t*_]*(?P<yes_no>yes|no)\b",
    re.I,
)
_POSITIVE = {"correct", "true", "yes"}


def parse_verdict(text: str) -> Verdict:
    """The generic verdict parser: the *last* explicit marker in ``text`` decides —
    ``[[CORRECT]]``/``[[INCORRECT]]``, ``Verdict: correct|incorrect``,
    ``Correctness: true|false`` or ``Correct: yes|no`` (the last one, because a model may quote
    the options before it gives its own). A critique with no marker is "unknown", never
    "correct": prose such as "no errors" or "stop" is not a verdict.

    A strategy whose prompt asks for another format passes its own parser in
    :attr:`FeedbackRequest.parse`."""
    markers = list(_MARKER_RE.finditer(text))
    if not markers:
        return "unknown"
    last = markers[-1]
    value = next(v for v in last.groupdict().values() if v is not None)
    return "correct" if value.lower() in _POSITIVE else "incorrect"


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
