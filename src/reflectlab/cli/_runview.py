"""Shared by run, resume, show and compare: the progress bar and the summary output."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reflectlab.analysis import render_summary
from reflectlab.cli._common import console, err_console, print_json
from reflectlab.run import summarize_stored_run, summary_json
from reflectlab.store import ResultRecord, RunRecord, Store

RunCoro = Callable[
    [Callable[[ResultRecord], None], Callable[[RunRecord], None]], Coroutine[Any, Any, str]
]


def run_with_progress(start: RunCoro, *, quiet: bool) -> str:
    """Run ``start(on_result, on_start)`` with a live bar on stderr: samples done, accuracy
    so far, tokens and cost. Ctrl-C leaves the run resumable and says how."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("acc {task.fields[acc]}  tok {task.fields[tokens]:,}  ${task.fields[cost]:.4f}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=False,
    )
    state: dict[str, Any] = {"done": 0, "correct": 0, "tokens": 0, "cost": 0.0, "run_id": None}
    bar = progress.add_task("starting", total=None, acc="-", tokens=0, cost=0.0)

    def on_start(run: RunRecord) -> None:
        # Shown only once the run exists: a bad option fails before any bar is drawn.
        progress.start()
        state["run_id"] = run.run_id
        state["done"] = run.n_done
        progress.update(bar, description=run.run_id, total=run.n_expected, completed=run.n_done)

    def on_result(r: ResultRecord) -> None:
        state["done"] += 1
        state["correct"] += int(r.final_correct)
        state["tokens"] += r.prompt_tokens + r.completion_tokens
        state["cost"] += r.cost_usd
        progress.update(
            bar,
            completed=state["done"],
            acc=f"{state['correct'] / max(1, state['done']):.2f}",
            tokens=state["tokens"],
            cost=state["cost"],
        )

    try:
        return asyncio.run(start(on_result, on_start))
    except KeyboardInterrupt:
        progress.stop()  # the bar's last line first, then the hint below it
        if state["run_id"]:
            err_console.print(
                f"\ninterrupted; nothing finished is lost. Continue with: "
                f"reflectlab resume {state['run_id']}"
            )
        raise SystemExit(130) from None
    finally:
        progress.stop()


def print_summary(
    store: Store,
    run_id: str,
    *,
    as_json: bool,
    baseline: str | None = None,
    out: Console | None = None,
) -> None:
    run, summary = summarize_stored_run(store, run_id, baseline=baseline)
    if as_json:
        print_json(summary_json(run, summary))
        return
    target = out or console
    target.print(
        f"run {run.run_id}  [{run.status}]  task={run.task}  model={run.model}  "
        f"done {run.n_done}/{run.n_expected}"
    )
    for renderable in render_summary(summary):
        target.print(renderable)
