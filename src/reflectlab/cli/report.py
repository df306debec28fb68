"""``reflectlab report``: one self-contained HTML file for a stored run."""

from __future__ import annotations

import sys
import time
import webbrowser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import console, err_console, open_store
from reflectlab.cli._runview import format_elapsed
from reflectlab.errors import ConfigError
from reflectlab.report import write_report
from reflectlab.report._render import MAX_TRACE_SAMPLES
from reflectlab.run import get_run_or_fail

#: Runs with fewer results render in about a second: no progress output for them.
PROGRESS_MIN_RESULTS = 500


@contextmanager
def _rendering(run_id: str, results: int) -> Iterator[None]:
    """A spinner on a terminal, else a line before and one after (rendering is one step)."""
    if results < PROGRESS_MIN_RESULTS:
        yield
        return
    what = f"report {run_id}: rendering {results:,} results"
    if err_console.is_terminal:
        with err_console.status(what + "…"):
            yield
        return
    started = time.monotonic()
    sys.stderr.write(what + "...\n")
    sys.stderr.flush()
    yield
    sys.stderr.write(f"report {run_id}: rendered in {format_elapsed(time.monotonic() - started)}\n")
    sys.stderr.flush()


@app.command()
def report(
    run_id: Annotated[str, typer.Argument(help="Run id (a unique prefix is enough).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="HTML file to write (default: reflectlab-report-RUN_ID.html)."
        ),
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Run store (default: REFLECTLAB_HOME).")
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Another run (id or prefix, same store): embed its traces on the samples both"
            " runs share and show one sample of both runs side by side.",
        ),
    ] = None,
    traces: Annotated[
        str,
        typer.Option(
            "--traces",
            help="Samples whose full traces are embedded: N (the first N by position) or "
            "all; the trace list always has every result.",
        ),
    ] = str(MAX_TRACE_SAMPLES),
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the report in a web browser, if there is one.")
    ] = False,
) -> None:
    """Write the HTML report and trace viewer of a run: summary, plots, paired comparisons
    and every step of every sample. The file works offline; rendering never calls a model."""
    if traces == "all":
        limit: int | None = None
    elif traces.isdigit() and int(traces) >= 0:
        limit = int(traces)
    else:
        raise ConfigError(f"--traces must be a number of samples or all, not {traces!r}")
    store = open_store(db)
    run = get_run_or_fail(store, run_id)
    other = get_run_or_fail(store, compare).run_id if compare else None
    with _rendering(run.run_id, run.n_done):
        path = write_report(
            store,
            run.run_id,
            output or Path(f"reflectlab-report-{run.run_id}.html"),
            compare=other,
            max_trace_samples=limit,
        )
    size = path.stat().st_size
    console.print(f"wrote {path} ({size / 1_000_000:.1f} MB)")
    if open_browser:
        uri = path.resolve().as_uri()
        try:
            opened = webbrowser.open(uri)
        except webbrowser.Error:
            opened = False
        if not opened:
            err_console.print(f"no web browser found here; open {uri} yourself")
