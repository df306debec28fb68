"""``reflectlab resume RUN_ID``: continue an interrupted run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import open_store
from reflectlab.cli._runview import exit_for_errors, print_summary, run_with_progress
from reflectlab.run import resume_run
from reflectlab.run._executors import make_executor


@app.command()
def resume(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    keep_errors: Annotated[
        bool,
        typer.Option(
            "--keep-errors",
            help="Keep errored samples as they are instead of running them again.",
        ),
    ] = False,
    db: Annotated[Path | None, typer.Option("--db", help="Store path.")] = None,
    models_file: Annotated[
        Path | None,
        typer.Option(
            "--models-file",
            envvar="REFLECTLAB_MODELS_FILE",
            help="TOML file of model endpoints to use instead of the one stored with the run "
            "(e.g. the servers moved); the run keeps its stored copy.",
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="local (this process) or ray: the remaining samples sharded over Ray "
            "workers, the store written here (pip install 'reflectlab[ray]'). Need not be "
            "the executor the run started with.",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster to join (default: start a local Ray)."),
    ] = None,
) -> None:
    """Continue a run stopped by Ctrl-C, kill or an error: finished samples are kept,
    errored ones run again (unless --keep-errors), and no successful model call is repeated.
    Refused while another process is running the same run. Prints the same summary as `run`
    and exits like it (0, or 3 when samples still errored)."""
    runs_on = make_executor(executor, ray_address=ray_address)
    store = open_store(db)
    rid = run_with_progress(
        lambda on_result, on_start: resume_run(
            run_id,
            store,
            on_result=on_result,
            on_start=on_start,
            retry_errors=not keep_errors,
            executor=runs_on,
            models_file=models_file,
        ),
        quiet=quiet,
    )
    _, summary = print_summary(store, rid, as_json=as_json)
    exit_for_errors(summary, rid)
