"""Model names (``provider/model``) -> providers, imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from reflectlab.errors import ConfigError
from reflectlab.model import _settings
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
    timeout_s: float | None = None,
    connect_timeout_s: float | None = None,
    max_retries: int | None = None,
    deadline_s: float | None = None,
    **provider_options: Any,
) -> Model:
    """Build a :class:`Model` from a ``provider/model`` name.

    ``provider_options`` go to the provider (``base_url``, ``api_key``, ``max_connections``,
    the mock's ``outputs``, ...). For ``openai/``, ``base_url`` may name several endpoints of
    the same model (a list, or URLs separated by commas): requests are then balanced between
    them, ``max_connections`` per endpoint (see :mod:`reflectlab.model.providers.balanced`).
    ``endpoints=[{"base_url": ..., "max_connections": ..., "api_key": ...}, ...]`` gives each
    endpoint its own options instead (what a models file builds, see
    :meth:`reflectlab.model.ModelsFile.provider_options`).
    ``cache`` and ``recorder`` are usually a :class:`reflectlab.store.Store`;
    :func:`reflectlab.get_model` wires the default one.

    Timeouts and retries (every provider accepts them; ``None`` means the environment
    variable, else the default, see :mod:`reflectlab.model._settings`):

    - ``timeout_s``: seconds one attempt may take (``REFLECTLAB_TIMEOUT``, default 120; 600
      for the embedded ``llamacpp/`` engine);
    - ``connect_timeout_s``: seconds to open the connection (``REFLECTLAB_CONNECT_TIMEOUT``,
      default 10);
    - ``max_retries``: retries after the first attempt (``REFLECTLAB_MAX_RETRIES``, default 5);
    - ``deadline_s``: seconds one call may take over all attempts and waits
      (``REFLECTLAB_DEADLINE``, default 600).

    ``max_retries`` and ``deadline_s`` override the same fields of an explicit ``retry``
    policy; the environment variables apply only when no ``retry`` is given. A malformed value
    or base URL is a :class:`~reflectlab.errors.ConfigError` here, before any call.

    Example::

        model = get_model("openai/my-model", base_url="http://localhost:8000/v1",
                          timeout_s=30, connect_timeout_s=2, max_retries=2)
    """
    provider, model_name = split_model_name(name)
    if timeout_s is not None:
        provider_options["timeout_s"] = _settings.seconds(
            timeout_s, name="timeout_s", env=_settings.ENV_TIMEOUT, default=0.0
        )
    if connect_timeout_s is not None:
        provider_options["connect_timeout_s"] = _settings.seconds(
            connect_timeout_s,
            name="connect_timeout_s",
            env=_settings.ENV_CONNECT_TIMEOUT,
            default=0.0,
        )
    retry = _retry_policy(retry, max_retries, deadline_s)
    api = _provider_api(provider, model_name, provider_options)
    return Model(api, cache=cache, recorder=recorder, retry=retry, prices=prices, config=config)


def _provider_api(provider: str, model_name: str, options: dict[str, Any]) -> ModelAPI:
    """One provider connection, or a balancer over one per endpoint when ``base_url`` names
    several (``"http://a/v1,http://b/v1"`` or a list); see
    :mod:`reflectlab.model.providers.balanced`. A single URL is passed on unchanged, so its
    cache keys stay what they were."""
    cls = provider_class(provider)
    endpoints = options.pop("endpoints", None)
    if endpoints is not None:
        return _endpoints_api(cls, provider, model_name, options, endpoints)
    base_url = options.get("base_url")
    if base_url is None or (isinstance(base_url, str) and "," not in base_url):
        return cls(model_name, **options)
    from reflectlab.model.providers.balanced import BalancedAPI, split_endpoints

    urls = split_endpoints(base_url)
    if len(urls) == 1:
        return cls(model_name, **{**options, "base_url": urls[0]})
    if not urls:
        raise ConfigError(f"base_url {base_url!r} names no endpoint")
    if provider != "openai":
        raise ConfigError(f"provider {provider!r} takes one base_url; several are for openai/")
    return BalancedAPI([cls(model_name, **{**options, "base_url": url}) for url in urls])


def _endpoints_api(
    cls: type[ModelAPI],
    provider: str,
    model_name: str,
    options: dict[str, Any],
    endpoints: Any,
) -> ModelAPI:
    """``endpoints=[{"base_url": ..., "max_connections": ..., "api_key": ...}, ...]``: one
    connection per endpoint, each with its own options over the shared ones (a models file,
    :mod:`reflectlab.model._models_file`); balanced when there are several."""
    if not isinstance(endpoints, list | tuple) or not endpoints:
        raise ConfigError("endpoints must be a non-empty list of provider options")
    if "base_url" in options:
        raise ConfigError("give base_url or endpoints, not both")
    apis = []
    for ep in endpoints:
        if not isinstance(ep, dict) or not isinstance(ep.get("base_url"), str):
            raise ConfigError(f"each endpoint must be a dict with a base_url, not {ep!r}")
        apis.append(cls(model_name, **{**options, **ep}))
    if len(apis) == 1:
        return apis[0]
    if provider != "openai":
        raise ConfigError(f"provider {provider!r} takes one endpoint; several are for openai/")
    from reflectlab.model.providers.balanced import BalancedAPI

    return BalancedAPI(apis)


def _retry_policy(
    retry: RetryPolicy | None, max_retries: int | None, deadline_s: float | None
) -> RetryPolicy:
    changes: dict[str, Any] = {}
    if max_retries is not None or retry is None:
        changes["max_attempts"] = _settings.max_retries(max_retries) + 1
    if deadline_s is not None or retry is None:
        changes["deadline_s"] = _settings.seconds(
            deadline_s,
            name="deadline_s",
            env=_settings.ENV_DEADLINE,
            default=_settings.DEFAULT_DEADLINE_S,
        )
    return (retry or RetryPolicy()).model_copy(update=changes)
