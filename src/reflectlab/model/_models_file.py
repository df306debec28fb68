"""A models file: model names -> their endpoints, limits, keys and prices (TOML).

``--models-file PATH`` (or ``REFLECTLAB_MODELS_FILE``) on ``run`` and ``resume``::

    [models."openai/qwen2.5-7b"]
    api_key_env = "VLLM_KEY"                  # optional: default key of its endpoints
    prices = { input = 0.10, output = 0.40 }  # optional: USD per 1M tokens
    endpoints = [
      { base_url = "http://gpu1:8000/v1", concurrency = 32 },
      { base_url = "http://gpu2:8000/v1", concurrency = 16, api_key_env = "GPU2_KEY" },
    ]

Each model named here is built with those endpoints (balanced as in
:mod:`reflectlab.model.providers.balanced` when there are several), each endpoint with its
own ``concurrency`` (requests in flight; default the run's ``--concurrency``) and API key
(read from the environment variable ``api_key_env`` names, never stored). Models not named
here are built as before (``--base-url``, ``OPENAI_BASE_URL``). The file is read and checked
before anything runs: a TOML error names the file and line, a bad entry the file, the key
(``models."openai/m".endpoints[1].concurrency``) and what was expected, and an
``api_key_env`` whose variable is not set is an error then too.

Example::

    models = load_models_file("models.toml")
    model = get_model("openai/qwen2.5-7b", **models.provider_options("openai/qwen2.5-7b"))
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reflectlab.errors import InputError
from reflectlab.model._prices import Price, PriceTable

#: Environment variable naming the models file when ``--models-file`` is not given.
ENV_MODELS_FILE = "REFLECTLAB_MODELS_FILE"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EndpointEntry(BaseModel):
    """One endpoint (replica) of a model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str
    concurrency: int | None = Field(default=None, ge=1, le=4096)
    api_key_env: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        from reflectlab.model.providers.openai import check_base_url

        try:
            return check_base_url(value, "base_url")
        except Exception as exc:
            raise ValueError(str(exc)) from None

    @field_validator("api_key_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value


class ModelEntry(BaseModel):
    """One model's endpoints, and optionally its default key variable and its prices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoints: list[EndpointEntry] = Field(min_length=1)
    api_key_env: str | None = None
    prices: Price | None = None

    @field_validator("api_key_env")
    @classmethod
    def _env(cls, value: str | None) -> str | None:
        return EndpointEntry._env(value)

    @field_validator("endpoints")
    @classmethod
    def _distinct(cls, value: list[EndpointEntry]) -> list[EndpointEntry]:
        seen: dict[str, int] = {}
        for i, ep in enumerate(value):
            if ep.base_url in seen:
                raise ValueError(
                    f"endpoints[{i}] has the base_url of endpoints[{seen[ep.base_url]}] "
                    f"({ep.base_url}); each endpoint once"
                )
            seen[ep.base_url] = i
        return value


class ModelsFile(BaseModel):
    """A checked models file (see the module docstring); ``path`` is where it was read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    models: dict[str, ModelEntry]

    def entry(self, name: str) -> ModelEntry | None:
        return self.models.get(name)

    def provider_options(self, name: str, *, concurrency: int | None = None) -> dict[str, Any]:
        """``get_model`` options for ``name`` (``{}`` when the file does not name it):
        ``endpoints``, one dict of provider options per endpoint. ``concurrency`` is the
        default limit of an endpoint that sets none. An ``api_key_env`` whose variable is
        not set is an :class:`InputError` naming the file and key."""
        entry = self.models.get(name)
        if entry is None:
            return {}
        endpoints = []
        for i, ep in enumerate(entry.endpoints):
            options: dict[str, Any] = {"base_url": ep.base_url}
            limit = ep.concurrency or concurrency
            if limit is not None:
                options["max_connections"] = limit
            env, where = ep.api_key_env, f"endpoints[{i}].api_key_env"
            if env is None:
                env, where = entry.api_key_env, "api_key_env"
            if env is not None:
                value = os.environ.get(env)
                if not value:
                    raise InputError(
                        f"environment variable {env} is not set (it should hold the API key)",
                        path=self.path,
                        field=f"models.{_quoted(name)}.{where}",
                    )
                options["api_key"] = value
            endpoints.append(options)
        return {"endpoints": endpoints}

    def add_prices(self, table: PriceTable) -> PriceTable:
        """``table`` with the file's prices added (they win over the table's)."""
        for name, entry in self.models.items():
            if entry.prices is not None:
                table.set(name, entry.prices)
        return table

    def check_keys(self) -> None:
        """Raise now, before any call, if an ``api_key_env`` names an unset variable."""
        for name in self.models:
            self.provider_options(name)


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


def _field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(_quoted(str(part)))
    return ".".join(parts)


def _expected(err: Any) -> str:
    kind, msg = err["type"], err["msg"]
    got = err.get("input")
    if kind == "missing":
        return "required, missing"
    if kind == "extra_forbidden":
        return (
            "unknown key (a model takes endpoints, api_key_env, prices; an endpoint "
            "base_url, concurrency, api_key_env; prices input, output, cached_input)"
        )
    if kind.startswith("value_error"):
        return str(msg).removeprefix("Value error, ")
    return f"{msg}, got {got!r}"


def parse_models(data: Any, path: str) -> ModelsFile:
    """A models file's content (as read from TOML, or stored with a run) -> a checked
    :class:`ModelsFile`; an :class:`InputError` naming the file and key when it is not one."""
    if not isinstance(data, dict):
        raise InputError("expected a table", path=path)
    models = data.get("models")
    unknown = sorted(set(data) - {"models"})
    if unknown:
        raise InputError(
            f'unknown top-level key {unknown[0]!r}: expected [models."provider/name"] tables',
            path=path,
            field=unknown[0],
        )
    if not isinstance(models, dict) or not models:
        raise InputError(
            'expected at least one [models."provider/name"] table with endpoints = [...]',
            path=path,
            field="models",
        )
    for name in models:
        provider, sep, rest = name.partition("/")
        if not sep or not rest or provider != "openai":
            raise InputError(
                "expected an openai/<model> name (endpoints are OpenAI-compatible servers), "
                f"not {name!r}",
                path=path,
                field=f"models.{_quoted(name)}",
            )
    try:
        return ModelsFile.model_validate({"path": path, "models": models})
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key explains the missing one it stood for: name the typo first.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise InputError(_expected(err), path=path, field=_field(tuple(err["loc"]))) from None


def load_models_file(path: str | Path) -> ModelsFile:
    """Read and check a models file (see the module docstring)."""
    where = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", path=where) from None
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        match = re.search(r"\(at line (\d+), column \d+\)", text)
        line = int(match.group(1)) if match else None
        raise InputError(f"not valid TOML: {text}", path=where, line=line) from None
    return parse_models(data, where)
