"""Retry policy: bounded attempts, exponential backoff with full jitter, Retry-After honoured,
and a deadline over all attempts of one call."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field


class RetryPolicy(BaseModel):
    """How often and how patiently a failed call is retried.

    Only errors whose ``retryable`` flag is set are retried: rate limits, 5xx, timeouts,
    connection errors and empty or malformed replies. A bad request or a prompt over the
    context window fails at once.

    ``deadline_s`` bounds one call over all its attempts and backoff waits (``None``: no
    deadline, only ``max_attempts``): no retry starts that could not finish before it, and an
    attempt still running when it passes is cancelled. See :mod:`reflectlab.model._settings`
    for the defaults and their environment variables.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=6, ge=1, le=50)
    initial_delay_s: float = Field(default=0.5, ge=0.0)
    max_delay_s: float = Field(default=30.0, ge=0.0)
    multiplier: float = Field(default=2.0, ge=1.0)
    jitter: bool = True
    deadline_s: float | None = Field(default=600.0, gt=0.0)

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
        return self.max_attempts - 1

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        base = min(self.max_delay_s, self.initial_delay_s * self.multiplier ** (attempt - 1))
        if self.jitter:
            base = (rng or random).uniform(0.0, base)
        if retry_after is not None:
            base = max(base, min(retry_after, self.max_delay_s))
        return base
