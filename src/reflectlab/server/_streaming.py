"""Server-sent events: the final answer as chat.completion.chunk deltas, progress comments
while rounds run, and reading a passed-through upstream stream back for the trace.

A reflection strategy only knows its answer after its last round, so the stream opens at once
(headers, then an SSE comment per finished internal call: clients ignore comments, and they
keep idle-timeout proxies from closing the connection), and the answer follows as proper
deltas — several chunks, not one — then the usage chunk when
``stream_options.include_usage`` is set, then ``[DONE]``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

__all__ = [
    "DONE",
    "comment",
    "completion_to_sse",
    "event",
    "open_stream",
    "read_sse_completion",
    "split_deltas",
]

DONE = b"data: [DONE]\n\n"
_PIECE = re.compile(r"\S+\s*|\s+")


def event(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


def comment(text: str) -> bytes:
    return b": " + text.replace("\n", " ").encode() + b"\n\n"


def split_deltas(text: str, size: int = 16) -> list[str]:
    """``text`` in pieces of about ``size`` characters, cut after whitespace; joined they give
    back ``text`` exactly."""
    pieces: list[str] = []
    current = ""
    for m in _PIECE.finditer(text):
        current += m.group(0)
        if len(current) >= size:
            pieces.append(current)
            current = ""
    if current or not pieces:
        pieces.append(current)
    return pieces


async def open_stream(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    resp = web.StreamResponse(
        status=200,
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **headers,
        },
    )
    await resp.prepare(request)
    return resp


def completion_to_sse(completion: dict[str, Any], *, include_usage: bool) -> bytes:
    """A complete chat.completion as the SSE chunks a streaming server would have sent."""
    head = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": completion["model"],
    }
    # Content deltas share everything but the text: encode the frame once, splice the text.
    frame = json.dumps({**head, "choices": [{"index": 0, "delta": {"content": ""}}]})
    before, after = frame.split('"content": ""', 1)
    out: list[bytes] = []
    choices = completion["choices"]
    for c in choices:
        i = c["index"]
        message = c.get("message") or {}
        first = {"role": "assistant", "content": ""}
        choice = {"index": i, "delta": first, "finish_reason": None}
        out.append(event({**head, "choices": [choice]}))
        open_, close = before.replace('"index": 0', f'"index": {int(i)}', 1), after
        for piece in split_deltas(message.get("content") or ""):
            text = open_ + '"content": ' + json.dumps(piece, ensure_ascii=False) + close
            out.append(b"data: " + text.encode() + b"\n\n")
    for n, c in enumerate(choices):
        last: dict[str, Any] = {
            **head,
            "choices": [{"index": c["index"], "delta": {}, "finish_reason": c["finish_reason"]}],
        }
        if n == len(choices) - 1 and "reflectlab" in completion:
            last["reflectlab"] = completion["reflectlab"]
        out.append(event(last))
    if include_usage:
        out.append(event({**head, "choices": [], "usage": completion["usage"]}))
    out.append(DONE)
    return b"".join(out)


def read_sse_completion(raw: bytes) -> tuple[dict[int, str], dict[int, str | None], Any]:
    """From an upstream's SSE bytes: the text and finish reason of each choice, and the usage
    chunk (``None`` if the stream had none). Malformed lines are skipped (it is only read for
    the trace; the client got the bytes unchanged)."""
    texts: dict[int, str] = {}
    finish: dict[int, str | None] = {}
    usage: Any = None
    for line in raw.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        try:
            chunk = json.loads(data)
            if chunk.get("usage"):
                usage = chunk["usage"]
            for c in chunk.get("choices") or []:
                i = int(c.get("index", 0))
                piece = (c.get("delta") or {}).get("content")
                if piece:
                    texts[i] = texts.get(i, "") + piece
                if c.get("finish_reason") is not None:
                    finish[i] = c["finish_reason"]
        except (ValueError, TypeError, AttributeError):
            continue
    return texts, finish, usage
