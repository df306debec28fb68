"""``mock/<name>``: deterministic, scripted outputs for tests, docs and CLI smoke tests.

Outputs come from a list (served in order; when it runs out, a clear error — or cycling when
``cycle=True``) or from a sync or async callable of the :class:`MockRequest`. With neither, the
reply is ``"mock reply"`` plus a short digest of the request, so different prompts differ.
Token usage is counted as whitespace-separated words, so accounting tests have real numbers.
"""

from __future__ import annotations

import hashlib
import inspect
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


MockOutput = str | ModelError
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

    def __init__(
        self,
        model_name: str,
        *,
        outputs: MockScript | None = None,
        cycle: bool = False,
        cached_tokens: int = 0,
        max_connections: int = 1000,
        base_url: str | None = None,
    ) -> None:
        super().__init__(model_name, base_url=base_url, max_connections=max_connections)
        if outputs is not None and not callable(outputs) and isinstance(outputs, str | bytes):
            raise ConfigError("mock outputs must be a list of strings or a callable, not a str")
        self.outputs = outputs
        self.cycle = cycle
        self.cached_tokens = cached_tokens
        self.calls = 0
        self.requests: list[MockRequest] = []

    async def _one(self, request: MockRequest) -> str:
        script = self.outputs
        if script is None:
            digest = hashlib.sha256(request.prompt.encode()).hexdigest()[:8]
            out: MockOutput = f"mock reply {digest}"
        elif callable(script):
            result = script(request)
            out = await result if inspect.isawaitable(result) else result  # type: ignore[assignment]
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
        if not isinstance(out, str):
            raise ConfigError(f"mock/{self.model_name}: script returned {type(out).__name__}")
        return out

    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        choices = []
        for _ in range(config.n):
            self.calls += 1
            request = MockRequest(messages=messages, config=config, call_number=self.calls)
            self.requests.append(request)
            choices.append(await self._one(request))
        prompt_tokens = sum(count_tokens(m.content) for m in messages)
        return ProviderResponse(
            choices=choices,
            finish_reasons=["stop"] * len(choices),
            prompt_tokens=prompt_tokens,
            completion_tokens=sum(count_tokens(c) for c in choices),
            cached_tokens=min(self.cached_tokens, prompt_tokens),
            served_model=self.model_name,
        )
