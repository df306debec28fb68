"""Prices in USD per million tokens, and the cost of a call.

The built-in table covers a few hosted models; users extend or override it with a TOML or JSON
file (``REFLECTLAB_HOME/prices.toml`` is read automatically, or pass a path)::

    ["openai/my-finetune"]
    input = 0.30
    output = 1.20
    cached_input = 0.15

Local providers (llamacpp, mock) cost 0, as does any openai-compatible model not in the table
(a local vLLM or llama.cpp server); the summary says "price unknown" rather than inventing one.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reflectlab.errors import InputError
from reflectlab.model._types import Usage


class Price(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: float = Field(ge=0.0)
    output: float = Field(ge=0.0)
    cached_input: float | None = Field(default=None, ge=0.0)


# USD per 1M tokens; checked against the vendors' public price pages (2025).
BUILTIN_PRICES: dict[str, Price] = {
    "openai/gpt-4o": Price(input=2.50, output=10.00, cached_input=1.25),
    "openai/gpt-4o-mini": Price(input=0.15, output=0.60, cached_input=0.075),
    "openai/gpt-4.1": Price(input=2.00, output=8.00, cached_input=0.50),
    "openai/gpt-4.1-mini": Price(input=0.40, output=1.60, cached_input=0.10),
    "openai/gpt-4.1-nano": Price(input=0.10, output=0.40, cached_input=0.025),
    "openai/o3-mini": Price(input=1.10, output=4.40, cached_input=0.55),
}

FREE_PROVIDERS = frozenset({"llamacpp", "mock"})


class PriceTable:
    """Model name -> price. Lookup is by the full ``provider/model`` name."""

    def __init__(self, prices: dict[str, Price] | None = None) -> None:
        self._prices = dict(BUILTIN_PRICES if prices is None else prices)

    def update_from_file(self, path: str | Path) -> None:
        path = Path(path)
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"cannot read price file: {e}", path=str(path)) from e
        if not isinstance(data, dict):
            raise InputError("expected a table of model name -> price", path=str(path))
        for name, entry in data.items():
            try:
                self._prices[name] = Price.model_validate(entry)
            except ValidationError as e:
                err = e.errors()[0]
                field = ".".join(str(x) for x in err["loc"]) or None
                raise InputError(
                    f"model {name!r}: {err['msg']}", path=str(path), field=field
                ) from e

    @classmethod
    def with_user_prices(cls) -> PriceTable:
        """The built-in table, extended by ``REFLECTLAB_HOME/prices.toml`` (or ``.json``)
        when the user has one."""
        from reflectlab._util.paths import home_dir

        table = cls()
        for name in ("prices.toml", "prices.json"):
            path = home_dir() / name
            if path.exists():
                table.update_from_file(path)
        return table

    def set(self, model: str, price: Price) -> None:
        """Price ``model`` (a full ``provider/model`` name) at ``price``."""
        self._prices[model] = price

    def get(self, model: str) -> Price | None:
        return self._prices.get(model)

    def cost(self, model: str, usage: Usage) -> float:
        """USD for one call. Cached prompt tokens are billed at the cached rate when known."""
        if model.split("/", 1)[0] in FREE_PROVIDERS:
            return 0.0
        price = self._prices.get(model)
        if price is None:
            return 0.0
        cached = min(usage.cached_tokens, usage.prompt_tokens)
        cached_rate = price.input if price.cached_input is None else price.cached_input
        return (
            (usage.prompt_tokens - cached) * price.input
            + cached * cached_rate
            + usage.completion_tokens * price.output
        ) / 1_000_000

    def names(self) -> list[str]:
        return sorted(self._prices)
