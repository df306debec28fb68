"""OpenAI-style error bodies, and the mapping from reflectlab's errors to HTTP statuses.

Every error the proxy answers with has the body OpenAI's clients parse
(``{"error": {"message", "type", "param", "code"}}``) and never a traceback. Upstream failures
keep their meaning: a rate limit stays 429 (with ``Retry-After``), a bad request stays 400, an
upstream that is down or rejects *our* credentials is a 502 (the client's own key was fine).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from reflectlab.errors import ModelError

__all__ = ["ApiError", "error_from_model_error", "error_response", "scrub"]


class ApiError(Exception):
    """An error answered to the client as an OpenAI-style JSON body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        self.extra = extra or {}

    @property
    def kind(self) -> str:
        """The label of this error in metrics (``errors_total{kind=...}``)."""
        return self.code or self.type

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {
            "message": self.message,
            "type": self.type,
            "param": self.param,
            "code": self.code,
        }
        err.update(self.extra)
        return {"error": err}


def error_response(err: ApiError) -> web.Response:
    return web.Response(
        status=err.status,
        body=json.dumps(err.body()).encode(),
        content_type="application/json",
        headers=err.headers,
    )


# error class name (as a call event records it) -> (status, type, code)
_BY_ERROR_TYPE: dict[str, tuple[int, str, str]] = {
    "RateLimitError": (429, "rate_limit_error", "upstream_rate_limited"),
    "ContextWindowError": (400, "invalid_request_error", "context_length_exceeded"),
    "BadRequestError": (400, "invalid_request_error", "upstream_bad_request"),
    "ModelNotFoundError": (404, "invalid_request_error", "model_not_found"),
    "AuthenticationError": (502, "upstream_error", "upstream_authentication_failed"),
    "ProviderUnavailableError": (502, "upstream_error", "upstream_unavailable"),
    "InvalidResponseError": (502, "upstream_error", "upstream_invalid_response"),
    "EmptyCompletionError": (502, "upstream_error", "upstream_empty_completion"),
    "InvalidUsageError": (502, "upstream_error", "upstream_invalid_usage"),
}
_URL_PART = re.compile(r" \| url=\S+")


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` without the upstream URL reflectlab appends to model errors, and without any
    secret (an upstream may echo part of the key it rejected)."""
    text = _URL_PART.sub("", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_from_model_error(
    error_type: str | None,
    message: str,
    *,
    retry_after: float | None = None,
    secrets: tuple[str, ...] = (),
) -> ApiError:
    """The client-facing error for a failed upstream call (by its error class name)."""
    status, type_, code = _BY_ERROR_TYPE.get(
        error_type or "", (502, "upstream_error", "upstream_error")
    )
    headers: dict[str, str] = {}
    if status == 429:
        headers["Retry-After"] = str(max(1, round(retry_after or 1)))
    if code == "upstream_authentication_failed":
        message = "the upstream rejected the proxy's credentials (check --api-key-env)"
    return ApiError(status, scrub(message, secrets), type=type_, code=code, headers=headers)


def api_error_of(exc: ModelError, secrets: tuple[str, ...] = ()) -> ApiError:
    return error_from_model_error(
        type(exc).__name__, str(exc), retry_after=exc.retry_after, secrets=secrets
    )
