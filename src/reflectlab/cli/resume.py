"""``reflectlab resume RUN_ID``: continue an interrupted run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import open_store
from reflectlab.cli._runview import print_summary, run_with_progress
from reflectlab.run import resume_run


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    db: Annotated[Path | None, typer.Option("--db")] = None,
) -> None:
    """Continue a run stopped by Ctrl-C or kill: finished samples are kept, finished model
    calls are not repeated. Prints the same summary as `run`."""
    store = open_store(db)
    rid = run_with_progress(
        lambda on_result, on_start: resume_run(
            run_id, store, on_result=on_result, on_start=on_start
        ),
        quiet=quiet or as_json,
    )
    print_summary(store, rid, as_json=as_json)
