"""``reflectlab export RUN``: a stored run as JSON Lines, CSV or Parquet rows (schema: the
docstring of :mod:`reflectlab.run._export` and the README)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import err_console, open_store
from reflectlab.errors import ConfigError
from reflectlab.run import EXPORT_FORMATS, EXPORT_KINDS, export_run


@app.command()
def export(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="jsonl | csv | parquet (parquet needs pyarrow).")
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (default: stdout; parquet needs one)."),
    ] = None,
    what: Annotated[
        str,
        typer.Option(
            "--what",
            help="results (one row per strategy x sample) | checkpoints (one per scored "
            "intermediate answer) | calls (one per model call).",
        ),
    ] = "results",
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Export a run's rows for pandas, duckdb or a spreadsheet, e.g.
    `reflectlab export RUN -f parquet -o results.parquet`; every row of one kind has the same
    columns (see the README's table)."""
    if format not in EXPORT_FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, not {format!r}")
    if what not in EXPORT_KINDS:
        raise ConfigError(f"--what must be one of {', '.join(EXPORT_KINDS)}, not {what!r}")
    if format == "parquet" and output is None:
        raise ConfigError("--format parquet writes a file: give -o FILE.parquet")
    n = export_run(
        open_store(db),
        run_id,
        output if output is not None else sys.stdout,
        format=format,  # type: ignore[arg-type]
        what=what,  # type: ignore[arg-type]
    )
    if output is not None:
        err_console.print(f"wrote {n} {what} rows to {output}", soft_wrap=True)
