"""``reflectlab merge SHARD.db... -o OUT.db``: fold the stores of `run --shard I/N` into one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import console, open_store, print_json
from reflectlab.run._shards import merge_stores


@app.command()
def merge(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Stores written by `reflectlab run --shard I/N --db FILE`.", show_default=False
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Store to merge into (created if absent)."),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print what was merged as JSON.")] = False,
) -> None:
    """Merge shard stores into one run: runs, samples, results, checkpoints, calls and their
    cache entries. Idempotent (merging again changes nothing) and incremental (merge the
    shards that are done; the others later). Refuses shards of different configurations.
    Then `reflectlab show RUN_ID --db OUT.db` and `report` read it as one run."""
    with open_store(output) as out:
        report = merge_stores(sources, out)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    for run_id, shards in report.runs.items():
        missing = report.missing.get(run_id)
        what = f"shards {', '.join(map(str, shards))}" if shards else "whole run"
        tail = f"; still missing {', '.join(map(str, missing))}" if missing else ""
        console.print(f"{run_id}: {what}{tail}", soft_wrap=True)
    new = ", ".join(f"{n} {table}" for table, n in report.rows.items())
    console.print(f"new or changed rows: {new} -> {output}", soft_wrap=True)
