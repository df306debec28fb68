"""``reflectlab cache stats|clear``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, open_store, print_json

cache_app = typer.Typer(help="Inspect or clear the model-call cache.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")

DbOption = Annotated[
    Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
]


@cache_app.command("stats")
def cache_stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print the statistics as JSON.")] = False,
    db: DbOption = None,
) -> None:
    """How many replies are cached, how often they were reused, per model."""
    stats = open_store(db).cache_stats()
    if as_json:
        print_json(stats.model_dump())
        return
    console.print(f"cache: {stats.path}")
    console.print(f"entries: {stats.entries}   hits: {stats.hits}   size: {stats.bytes:,} bytes")
    if stats.by_model:
        table = Table("model", "entries")
        for name, n in stats.by_model.items():
            table.add_row(name, str(n))
        console.print(table)


@cache_app.command("clear")
def cache_clear(
    model: Annotated[str | None, typer.Option("--model", "-m", help="Only this model.")] = None,
    db: DbOption = None,
) -> None:
    """Delete cached replies (the call log is kept)."""
    n = open_store(db).cache_clear(model)
    console.print(f"deleted {n} cached replies")
