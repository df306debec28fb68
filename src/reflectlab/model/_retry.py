"""Retry policy: bounded attempts, exponential backoff with full jitter, Retry-After honoured."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field


class RetryPolicy(BaseModel):
    """How often and how patiently a failed call is retried.

    Only errors whose ``retryable`` flag is set are retried: rate limits, 5xx, timeouts and
    connection errors. A bad request or a prompt over the context window fails at once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=6, ge=1, le=50)
    initial_delay_s: float = Field(default=0.5, ge=0.0)
    max_delay_s: float = Field(default=30.0, ge=0.0)
    multiplier: float = Field(default=2.0, ge=1.0)
    jitter: bool = True

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
