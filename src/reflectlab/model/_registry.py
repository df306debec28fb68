"""Model names (``provider/model``) -> providers, imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from reflectlab.errors import ConfigError
from reflectlab.model._cache import CallCache, CallRecorder
from reflectlab.model._model import Model
from reflectlab.model._prices import PriceTable
from reflectlab.model._provider import ModelAPI
from reflectlab.model._retry import RetryPolicy
from reflectlab.model._types import GenerateConfig

# provider name -> "module:Class". The module is imported only when the provider is used, so
# an optional engine that is missing fails only for the user who asks for it.
PROVIDERS: dict[str, str] = {
    "openai": "reflectlab.model.providers.openai:OpenAIAPI",
    "llamacpp": "reflectlab.model.providers.llamacpp:LlamaCppAPI",
    "mock": "reflectlab.model.providers.mock:MockAPI",
}


def provider_class(provider: str) -> type[ModelAPI]:
    target = PROVIDERS.get(provider)
    if target is None:
        raise ConfigError(
            f"unknown provider {provider!r}; known: {', '.join(sorted(PROVIDERS))} "
            "(model names look like 'openai/gpt-4o-mini' or 'llamacpp/default')"
        )
    module_name, cls_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"provider {provider!r} needs a package that is not installed ({exc.name}); "
            "reinstall reflectlab with `make install`"
        ) from exc
    cls: type[ModelAPI] = getattr(module, cls_name)
    return cls


def split_model_name(name: str) -> tuple[str, str]:
    provider, sep, model = name.partition("/")
    if not sep or not provider or not model:
        raise ConfigError(
            f"model name {name!r} must look like 'provider/model', e.g. 'openai/gpt-4o-mini', "
            "'llamacpp/default' or 'mock/test'"
        )
    return provider, model


def get_model(
    name: str,
    *,
    cache: CallCache | None = None,
    recorder: CallRecorder | None = None,
    retry: RetryPolicy | None = None,
    prices: PriceTable | None = None,
    config: GenerateConfig | None = None,
    **provider_options: Any,
) -> Model:
    """Build a :class:`Model` from a ``provider/model`` name.

    ``provider_options`` go to the provider (``base_url``, ``api_key``, ``max_connections``,
    the mock's ``outputs``, ...). ``cache`` and ``recorder`` are usually a
    :class:`reflectlab.store.Store`; :func:`reflectlab.get_model` wires the default one.
    """
    provider, model_name = split_model_name(name)
    api = provider_class(provider)(model_name, **provider_options)
    return Model(api, cache=cache, recorder=recorder, retry=retry, prices=prices, config=config)
