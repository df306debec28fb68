"""Types shared by every part of the model layer: messages, config, outputs, usage, events."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant"]


class ChatMessage(BaseModel):
    """One chat message. Frozen so a message list can be shared between rounds safely."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    content: str


MessagesInput = Sequence[ChatMessage | dict[str, str]] | str


def as_messages(messages: MessagesInput) -> list[ChatMessage]:
    """Accept a plain prompt, dicts or ChatMessage objects; return ChatMessage objects."""
    if isinstance(messages, str):
        return [ChatMessage(role="user", content=messages)]
    return [m if isinstance(m, ChatMessage) else ChatMessage.model_validate(m) for m in messages]


class GenerateConfig(BaseModel):
    """Parameters of one generation. Every field here can change the output and so is part of
    the cache key; ``None`` means "the server's default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=128)

    def merged(self, **overrides: Any) -> GenerateConfig:
        """A copy with the given fields replaced (``None`` values are ignored)."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        if not changes:  # the common case on the hot path: the config is frozen, share it
            return self
        return GenerateConfig.model_validate({**self.model_dump(), **changes})


#: The finish reason of a reply cut by the token limit (``max_tokens`` or the context).
TRUNCATED = "length"


class ProviderResponse(BaseModel):
    """What a provider returns for one request: the texts and the usage the server reported.

    ``usage_known`` is False when the server sent no usage: the token counts are then 0 because
    nobody knows them, not because the call was free. :class:`~reflectlab.model.Model` rejects a
    response with no choices or an empty one, whichever provider sent it.
    """

    choices: list[str]
    finish_reasons: list[str | None] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    usage_known: bool = True
    served_model: str | None = None
    #: the endpoint that answered, when the provider has several (recorded on the call event)
    base_url: str | None = None


class Usage(BaseModel):
    """Tokens and cost of one model call, as the server reported them.

    ``known`` is False when the server reported no usage; the counts and the cost are then 0
    meaning *unknown*, and totals count such calls apart (``UsageTotals.usage_unknown``).
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    known: bool = True

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ModelOutput(BaseModel):
    """The result of :meth:`reflectlab.model.Model.generate`.

    ``usage`` is what the call cost when it was made; ``from_cache`` says whether this answer was
    served from reflectlab's cache now (then nothing was paid for it this time).
    """

    model: str
    choices: list[str]
    finish_reasons: list[str | None] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    from_cache: bool = False
    latency_s: float = 0.0
    request_hash: str = ""
    call_id: str = ""

    @property
    def text(self) -> str:
        """The first (usually only) completion."""
        return self.choices[0] if self.choices else ""

    @property
    def truncated(self) -> bool:
        """Whether a completion was cut by the token limit (``finish_reason == "length"``)."""
        return TRUNCATED in self.finish_reasons


class CallEvent(BaseModel):
    """The trace event of one model call (fresh, cached or failed). Versioned for logs.

    Version 2 added ``finish_reasons`` (one per choice, as the server sent them),
    ``Usage.known`` and ``invalid_replies`` (attempts whose reply was empty or malformed and
    so was retried, never used). Version 1 events read as "finish reasons not recorded".
    """

    event: Literal["model_call"] = "model_call"
    version: int = 2
    call_id: str
    model: str
    base_url: str | None = None
    role: str = "generate"
    round: int | None = None
    sample_index: int = 0
    request_hash: str
    messages: list[ChatMessage]
    config: GenerateConfig
    choices: list[str] = Field(default_factory=list)
    finish_reasons: list[str | None] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    from_cache: bool = False
    attempts: int = 0
    invalid_replies: int = 0
    error: str | None = None
    error_type: str | None = None
    started_at: float = Field(default_factory=time.time)
    latency_s: float = 0.0
    tags: dict[str, Any] = Field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """Whether a completion was cut by the token limit (``finish_reason == "length"``)."""
        return TRUNCATED in self.finish_reasons


class UsageTotals(BaseModel):
    """Usage summed over many calls. Fresh calls and cache hits are counted apart, so totals can
    be reconciled with a server's own log (which never sees a cache hit)."""

    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    #: fresh calls whose server reported no usage (their tokens are not in the sums)
    usage_unknown: int = 0
    #: calls (fresh or cached) whose reply was cut by the token limit
    truncated: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    cache_hit_prompt_tokens: int = 0
    cache_hit_completion_tokens: int = 0

    def add(self, event: CallEvent) -> None:
        if event.error is not None:
            self.errors += 1
            return
        self.truncated += event.truncated
        if event.from_cache:
            self.cache_hits += 1
            self.cache_hit_prompt_tokens += event.usage.prompt_tokens
            self.cache_hit_completion_tokens += event.usage.completion_tokens
        else:
            self.calls += 1
            self.usage_unknown += not event.usage.known
            self.prompt_tokens += event.usage.prompt_tokens
            self.completion_tokens += event.usage.completion_tokens
            self.cached_tokens += event.usage.cached_tokens
            self.cost_usd += event.usage.cost_usd

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
