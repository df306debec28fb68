"""Who may call the proxy and how much: the client key, body and message limits, and the
bounded number of requests in flight (429 with ``Retry-After`` past it, never a queue that
grows without bound)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from reflectlab.server._chat import ChatRequest
from reflectlab.server._config import Limits
from reflectlab.server._errors import ApiError

__all__ = ["Gate", "check_auth", "check_request", "read_json"]


def check_auth(request: web.Request, key: bytes | None) -> None:
    """Require ``Authorization: Bearer <key>`` when the server has a key (constant-time)."""
    if key is None:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), key):
        raise ApiError(
            401,
            "missing or wrong API key (send 'Authorization: Bearer <key>')",
            type="authentication_error",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def read_json(request: web.Request, limits: Limits) -> Any:
    """The request's JSON body, or 413 / 400. The size is checked before the body is read."""
    too_large = ApiError(
        413,
        f"request body over {limits.max_body_bytes} bytes",
        code="request_too_large",
    )
    if request.content_length is not None and request.content_length > limits.max_body_bytes:
        raise too_large
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None
    if len(raw) > limits.max_body_bytes:
        raise too_large
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None


def check_request(req: ChatRequest, limits: Limits) -> None:
    if len(req.messages) > limits.max_messages:
        raise ApiError(
            400,
            f"{len(req.messages)} messages; this server takes at most {limits.max_messages}",
            param="messages",
            code="over_limit",
        )
    for i, msg in enumerate(req.messages):
        content = msg.content
        size = (
            len(content)
            if isinstance(content, str)
            else sum(len(str(p.get("text", ""))) for p in content or [])
        )
        if size > limits.max_message_chars:
            raise ApiError(
                400,
                f"messages[{i}] has {size} characters; the limit is {limits.max_message_chars}",
                param=f"messages[{i}].content",
                code="over_limit",
            )
    if req.n > limits.max_n:
        raise ApiError(
            400,
            f"n={req.n} is over this server's cap of {limits.max_n}",
            param="n",
            code="over_limit",
        )
    cap = limits.max_tokens_per_call
    if cap is not None and req.token_limit is not None and req.token_limit > cap:
        raise ApiError(
            400,
            f"max_tokens={req.token_limit} is over this server's cap of {cap}",
            param="max_tokens",
            code="over_limit",
        )


class Gate:
    """At most ``limit`` chat requests in flight; the next one is refused at once (429)."""

    def __init__(self, limit: int, retry_after_s: int) -> None:
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.in_flight = 0

    @contextmanager
    def enter(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            raise ApiError(
                429,
                f"the proxy is serving its maximum of {self.limit} requests; retry shortly",
                type="rate_limit_error",
                code="proxy_saturated",
                headers={"Retry-After": str(self.retry_after_s)},
            )
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
