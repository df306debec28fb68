"""``reflectlab show``, ``compare`` and ``runs``: read stored runs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, open_store, print_json
from reflectlab.cli._runview import print_summary


@app.command()
def show(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (for scripts).")
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """The summary of a stored run (works while it runs, and after an interruption)."""
    print_summary(open_store(db), run_id, as_json=as_json)


@app.command()
def compare(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    baseline: Annotated[
        str, typer.Option("--baseline", "-b", help="Strategy to compare every other strategy with.")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and comparisons as JSON.")
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Paired comparison of every strategy in a run against a chosen baseline: exact McNemar,
    paired bootstrap interval, Holm correction."""
    print_summary(open_store(db), run_id, as_json=as_json, baseline=baseline)


@app.command()
def runs(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, help="Show at most this many runs.")
    ] = 50,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Stored runs, newest first."""
    records = open_store(db).list_runs(limit)
    if as_json:
        print_json(
            [
                {
                    "run_id": r.run_id,
                    "status": r.status,
                    "task": r.task,
                    "model": r.model,
                    "strategies": r.strategies,
                    "created_at": r.created_at,
                    "progress": {"done": r.n_done, "expected": r.n_expected},
                }
                for r in records
            ]
        )
        return
    table = Table("created", "status", "task", "model", "strategies", "progress")
    table.add_column("run", no_wrap=True)  # ids are what users copy: never wrap them
    table.columns.insert(0, table.columns.pop())
    for r in records:
        table.add_row(
            r.run_id,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created_at)),
            r.status,
            r.task,
            r.model,
            ", ".join(r.strategies),
            f"{r.n_done}/{r.n_expected}",
        )
    console.print(table)
