"""The model layer: one :meth:`Model.generate` path for every model call.

Providers (``openai/``, ``llamacpp/``, ``mock/``) implement one async method; caching,
concurrency limits, retries, usage and cost accounting and the trace event live in
:class:`Model` and happen exactly once per call.
"""

from reflectlab.model._cache import (
    AsyncCachingRecorder,
    AsyncRecorder,
    CachingRecorder,
    CallCache,
    CallRecorder,
    MemoryCache,
    request_hash,
)
from reflectlab.model._events import call_listener, call_tags, capture_calls, current_tags
from reflectlab.model._model import Model
from reflectlab.model._models_file import ModelsFile, load_models_file
from reflectlab.model._prices import BUILTIN_PRICES, Price, PriceTable
from reflectlab.model._provider import ModelAPI
from reflectlab.model._registry import PROVIDERS, get_model, provider_class, split_model_name
from reflectlab.model._retry import RetryPolicy
from reflectlab.model._types import (
    CallEvent,
    ChatMessage,
    GenerateConfig,
    MessagesInput,
    ModelOutput,
    ProviderResponse,
    Usage,
    UsageTotals,
    as_messages,
)

__all__ = [
    "BUILTIN_PRICES",
    "PROVIDERS",
    "AsyncCachingRecorder",
    "AsyncRecorder",
    "CachingRecorder",
    "CallCache",
    "CallEvent",
    "CallRecorder",
    "ChatMessage",
    "GenerateConfig",
    "MemoryCache",
    "MessagesInput",
    "Model",
    "ModelAPI",
    "ModelOutput",
    "ModelsFile",
    "Price",
    "PriceTable",
    "ProviderResponse",
    "RetryPolicy",
    "Usage",
    "UsageTotals",
    "as_messages",
    "call_listener",
    "call_tags",
    "capture_calls",
    "current_tags",
    "get_model",
    "load_models_file",
    "provider_class",
    "request_hash",
    "split_model_name",
]
