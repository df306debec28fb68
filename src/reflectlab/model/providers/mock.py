"""``mock/<name>``: deterministic, scripted outputs for tests, docs and CLI smoke tests.

Outputs come from a list (served in order; when it runs out, a clear error — or cycling when
``cycle=True``) or from a sync or async callable of the :class:`MockRequest`. With neither, the
reply is ``"mock reply"`` plus a short digest of the request, so different prompts differ.
Token usage is counted as whitespace-separated words, so accounting tests have real numbers.

A script item may also be a :class:`reflectlab.errors.ModelError` (raised, so retries can be
tested) or a :class:`MockReply`, to script what real servers do: an empty or blank reply
(which :class:`~reflectlab.model.Model` rejects as an
:class:`~reflectlab.errors.EmptyCompletionError`), ``finish_reason="length"``, or a reply
without usage::

    get_model("mock/m", outputs=[MockReply(""), MockReply("42", finish_reason="length")])
"""

from __future__ import annotations

import hashlib
import inspect
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from reflectlab.errors import ConfigError, ModelError
from reflectlab.model._provider import ModelAPI
from reflectlab.model._types import ChatMessage, GenerateConfig, ProviderResponse


@dataclass(frozen=True)
class MockRequest:
    """What a scripted callable sees: the request and how many calls this model has served."""

    messages: list[ChatMessage]
    config: GenerateConfig
    call_number: int

    @property
    def prompt(self) -> str:
        """The last user message: what most scripts want to look at."""
        for m in reversed(self.messages):
            if m.role == "user":
                return m.content
        return ""


@dataclass(frozen=True)
class MockReply:
    """One scripted reply with the details a plain string leaves at their defaults."""

    text: str
    finish_reason: str | None = "stop"
    #: False: the reply comes without usage, as some servers send it
    usage: bool = True


MockOutput = str | MockReply | ModelError
MockScript = (
    Sequence[MockOutput]
    | Callable[[MockRequest], MockOutput]
    | Callable[[MockRequest], Awaitable[MockOutput]]
)


def count_tokens(text: str) -> int:
    return len(text.split())


class MockAPI(ModelAPI):
    provider: ClassVar[str] = "mock"
    local: ClassVar[bool] = True
    KEEP_REQUESTS: ClassVar[int] = 10_000

    def __init__(
        self,
        model_name: str,
        *,
        outputs: MockScript | None = None,
        cycle: bool = False,
        cached_tokens: int = 0,
        max_connections: int = 1000,
        base_url: str | None = None,
        timeout_s: float | None = None,
        connect_timeout_s: float | None = None,
    ) -> None:
        """``timeout_s`` and ``connect_timeout_s`` are accepted so that one set of options
        works for every provider; a mock waits on no network."""
        super().__init__(model_name, base_url=base_url, max_connections=max_connections)
        if outputs is not None and not callable(outputs) and isinstance(outputs, str | bytes):
            raise ConfigError("mock outputs must be a list of strings or a callable, not a str")
        self.outputs = outputs
        self.cycle = cycle
        self.cached_tokens = cached_tokens
        self.calls = 0
        #: the most recent requests, up to ``KEEP_REQUESTS`` (a long run must not keep all)
        self.requests: deque[MockRequest] = deque(maxlen=self.KEEP_REQUESTS)

    async def _one(self, request: MockRequest) -> MockReply:
        script = self.outputs
        if script is None:
            digest = hashlib.sha256(request.prompt.encode()).hexdigest()[:8]
            out: MockOutput = f"mock reply {digest}"
        elif callable(script):
            result = script(request)
            out = await result if inspect.isawaitable(result) else result
        else:
            index = request.call_number - 1
            if index >= len(script):
                if not self.cycle or not script:
                    raise ConfigError(
                        f"mock/{self.model_name}: script has {len(script)} outputs but call "
                        f"{request.call_number} was made (pass cycle=True to repeat them)"
                    )
                index %= len(script)
            out = script[index]
        if isinstance(out, ModelError):
            raise out
        if isinstance(out, str):
            return MockReply(out)
        if not isinstance(out, MockReply):
            raise ConfigError(f"mock/{self.model_name}: script returned {type(out).__name__}")
        return out

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        replies = []
        for _ in range(config.n):
            self.calls += 1
            request = MockRequest(messages=messages, config=config, call_number=self.calls)
            self.requests.append(request)
            replies.append(await self._one(request))
        if not all(r.usage for r in replies):
            prompt_tokens = completion_tokens = cached_tokens = 0
        else:
            prompt_tokens = sum(count_tokens(m.content) for m in messages)
            completion_tokens = sum(count_tokens(r.text) for r in replies)
            cached_tokens = min(self.cached_tokens, prompt_tokens)
        return ProviderResponse(
            choices=[r.text for r in replies],
            finish_reasons=[r.finish_reason for r in replies],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=cached_tokens,
            usage_known=all(r.usage for r in replies),
            served_model=self.model_name,
        )
