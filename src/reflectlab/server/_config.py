"""The proxy's configuration: where the models are, the default strategy, and the limits."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from reflectlab.errors import ConfigError

__all__ = ["Limits", "ServerConfig", "is_loopback"]


class Limits(BaseModel):
    """Per-request and server-wide caps. A request over a cap is refused with a clear 4xx
    (it is never silently truncated); ``max_concurrency`` requests run at once and the next
    one gets 429 with ``Retry-After``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    max_messages: int = Field(default=512, ge=1)
    max_message_chars: int = Field(default=400_000, ge=1)
    max_n: int = Field(default=8, ge=1, le=128)
    max_rounds: int = Field(default=5, ge=0, description="reflection rounds per request")
    max_calls: int = Field(default=64, ge=1, description="internal model calls per choice")
    max_tokens_per_call: int | None = Field(default=None, ge=1, description="cap on max_tokens")
    max_request_tokens: int | None = Field(
        default=None, ge=1, description="tokens of all internal calls of one choice"
    )
    request_timeout_s: float = Field(default=600.0, gt=0)
    max_concurrency: int = Field(default=256, ge=1, description="requests in flight")
    retry_after_s: int = Field(default=1, ge=1)


class ServerConfig(BaseModel):
    """What ``reflectlab serve`` runs.

    ``upstream`` is an OpenAI-compatible base URL (``http://host:8000/v1``) or a model of the
    embedded engine (``llamacpp/default``). ``api_key`` is the key clients must send (required
    for any bind that is not loopback); ``upstream_api_key`` is sent upstream and never echoed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    upstream: str = "llamacpp/default"
    upstream_api_key: SecretStr | None = None
    api_key: SecretStr | None = None
    strategy: str = "direct"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    db: str | None = None
    upstream_connections: int = Field(default=128, ge=1)
    limits: Limits = Field(default_factory=Limits)

    def check_bind(self) -> None:
        """Refuse a non-loopback bind without a client API key (the proxy spends the
        upstream key on behalf of whoever reaches it)."""
        if not is_loopback(self.host) and not (self.api_key and self.api_key.get_secret_value()):
            raise ConfigError(
                f"refusing to listen on {self.host!r} without an API key: anyone who reaches "
                "the port could spend the upstream's credit. Set REFLECTLAB_SERVE_API_KEY (or "
                "name another variable with --client-key-env); clients send it as "
                "'Authorization: Bearer ...'. Or bind 127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
