"""A chat request as reflectlab sees it: the parsed body, and the task a strategy runs on.

A strategy takes its input from a :class:`~reflectlab.task.Task` and a sample. For the proxy
the task is :class:`ChatTask`: its prompt is the conversation, extraction returns the reply's
text (so voting compares whole answers), and it has no gold target — nothing can score it, and
oracle feedback is refused before any call.

How a conversation reaches a strategy: strategies open their conversation with
``task.format_prompt(sample)`` as one user message. A single user turn (the common case) is
passed verbatim; a system prompt and earlier turns are rendered into that message with
labelled sections, so the model sees the whole context and the strategy's own follow-up turns
(feedback, refine) still extend one growing conversation.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reflectlab.model import ChatMessage
from reflectlab.server._errors import ApiError
from reflectlab.task import Extracted, Sample, SampleView, Score, Task

__all__ = [
    "ChatRequest",
    "ChatTask",
    "ReflectlabOptions",
    "chat_messages",
    "parse_request",
    "render_conversation",
]


class ReflectlabOptions(BaseModel):
    """``extra_body={"reflectlab": {...}}``: the strategy and its parameters."""

    model_config = ConfigDict(extra="forbid")

    strategy: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """The fields of a chat-completions body the proxy reads. Everything else is kept in the
    raw body and passed through untouched by ``direct``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    reflectlab: ReflectlabOptions | None = None

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def capped(self, cap: int | None) -> ChatRequest:
        """This request with the server's per-call token cap as its limit when it set none."""
        if cap is None or self.token_limit is not None:
            return self
        return self.model_copy(update={"max_tokens": cap})

    @property
    def stop_tuple(self) -> tuple[str, ...] | None:
        if self.stop is None:
            return None
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


def parse_request(raw: Any) -> ChatRequest:
    if not isinstance(raw, dict):
        raise ApiError(400, "the request body must be a JSON object")
    try:
        return ChatRequest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or None
        raise ApiError(
            400, f"invalid request: {where}: {err['msg']}", param=where, code="invalid_value"
        ) from None


# Roles a strategy can take as text; "developer" is OpenAI's newer name for "system".
_TEXT_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


def _text_of(msg: Message, index: int) -> str:
    content = msg.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise ApiError(
                400,
                f"messages[{index}]: only text content can go through a reflection strategy "
                f"(got a {part.get('type')!r} part); use the 'direct' strategy to pass it on",
                param=f"messages[{index}].content",
                code="unsupported_content",
            )
        parts.append(part["text"])
    return "".join(parts)


def chat_messages(request: ChatRequest) -> list[ChatMessage]:
    """The conversation as text messages; anything a strategy cannot read is a 400."""
    out = []
    for i, msg in enumerate(request.messages):
        role = _TEXT_ROLES.get(msg.role)
        if role is None or (msg.model_extra and "tool_calls" in msg.model_extra):
            raise ApiError(
                400,
                f"messages[{i}]: role {msg.role!r} / tool calls cannot go through a reflection "
                "strategy; use the 'direct' strategy for tool use",
                param=f"messages[{i}]",
                code="unsupported_message",
            )
        out.append(ChatMessage(role=role, content=_text_of(msg, i)))  # type: ignore[arg-type]
    if not any(m.role == "user" for m in out):
        raise ApiError(400, "messages must contain a user message", param="messages")
    return out


def render_conversation(messages: list[ChatMessage]) -> str:
    """One user message holding the conversation (verbatim when it is a single user turn)."""
    if len(messages) == 1 and messages[0].role == "user":
        return messages[0].content
    last = max(i for i, m in enumerate(messages) if m.role == "user")
    system = [m.content for m in messages[:last] if m.role == "system"]
    history = [m for m in messages[:last] if m.role != "system"]
    sections = []
    if system:
        sections.append("[Instructions]\n" + "\n\n".join(system))
    if history:
        turns = "\n\n".join(f"{m.role.capitalize()}: {m.content}" for m in history)
        sections.append("[Conversation so far]\n" + turns)
    tail = "\n\n".join(m.content for m in messages[last:] if m.role != "assistant")
    sections.append("[Current message]\n" + tail if sections else tail)
    return "\n\n".join(sections)


class ChatTask(Task):
    """The task of one chat request: no samples of its own, no gold target.

    ``extract`` returns the reply's text with whitespace normalised, so self-consistency votes
    between identical answers; ``score`` reports the reply as unscored; there is no label-free
    ``check``, so tool feedback that needs one is refused by the feedback layer.
    """

    name = "chat"
    answer_kind = "text"

    def samples(self) -> list[Sample]:
        return []

    def format_prompt(self, sample: SampleView) -> str:
        return sample.input

    def extract(self, sample: SampleView, response: str) -> Extracted:
        text = " ".join(response.split())
        return Extracted(value=text) if text else Extracted(value=None, reason="empty reply")

    async def score(self, sample: Sample, response: str) -> Score:
        return Score(correct=False, reason="unscored: a chat request has no gold target")
