"""Helpers shared by CLI commands: output, the store, building models from options."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from reflectlab.model import Model, PriceTable, get_model
from reflectlab.store import Store

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """One JSON document on stdout (machine-readable; nothing else is printed to stdout)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def open_store(db: Path | None = None) -> Store:
    return Store(db)


def build_model(
    name: str,
    store: Store | None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    prices: Path | None = None,
    cache: bool = True,
) -> Model:
    """A model wired to the store (cache and call log) with the CLI's provider options."""
    options: dict[str, Any] = {}
    if base_url is not None:
        options["base_url"] = base_url
    if api_key is not None:
        options["api_key"] = api_key
    table = PriceTable.with_user_prices()
    if prices is not None:
        table.update_from_file(prices)
    return get_model(
        name,
        cache=store if (cache and store is not None) else None,
        recorder=store,
        prices=table,
        **options,
    )
