"""The provider contract: one async method. Everything else lives in :class:`Model`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from reflectlab.model._types import ChatMessage, GenerateConfig, ProviderResponse


class ModelAPI(ABC):
    """A provider connection. Subclasses implement :meth:`generate` and translate their errors
    into :mod:`reflectlab.errors` at this boundary.

    ``max_connections`` bounds the requests in flight on this connection; :class:`Model`
    enforces it, so models that share one ``ModelAPI`` share the limit.
    """

    provider: ClassVar[str]
    #: True when calls cost nothing (local engines); prices are not looked up then.
    local: ClassVar[bool] = False

    def __init__(
        self, model_name: str, *, base_url: str | None = None, max_connections: int = 32
    ) -> None:
        self.model_name = model_name
        self.base_url = base_url
        self.max_connections = max_connections

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model_name}"

    @abstractmethod
    async def generate(
        self, messages: list[ChatMessage], config: GenerateConfig
    ) -> ProviderResponse:
        """Make one request. Raise a :class:`reflectlab.errors.ModelError` subclass on failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections. Called by :meth:`Model.aclose`."""
