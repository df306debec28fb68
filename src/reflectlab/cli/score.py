"""``reflectlab score``: score existing outputs against a task, without calling any model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.cli._progress import item_progress
from reflectlab.errors import ConfigError
from reflectlab.task import get_task, load_responses, score_report

#: Files with fewer replies score in a blink: no progress output for them.
PROGRESS_MIN_ROWS = 200


def parse_task_options(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` strings to options; a value that reads as JSON (``20``, ``true``,
    ``null``) is taken as such, anything else as a string."""
    options: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"task option {pair!r}: expected KEY=VALUE")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


@app.command("score")
def score(
    task: Annotated[
        str, typer.Option("--task", "-t", help="Task spec, e.g. gsm8k:test.jsonl (see: tasks).")
    ],
    responses: Annotated[
        Path,
        typer.Option(
            "--responses",
            "-r",
            help='JSONL replies: {"id", "response"} rows, HumanEval samples {"task_id", '
            '"completion"} (several per problem give pass@k), or IFEval {"prompt", "response"}.',
        ),
    ],
    task_option: Annotated[
        list[str] | None,
        typer.Option(
            "--task-option", help="Task option KEY=VALUE, e.g. n=20 or input_field=q (repeatable)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the --json report to this file."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Replies scored at once.")
    ] = 32,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print n, correct, accuracy and per-item scores.")
    ] = False,
) -> None:
    """Score existing replies: accuracy, per-item results, IFEval's four accuracies and
    HumanEval's pass@k (Chen et al. 2021's unbiased estimator, k = 1, 10, 100 where every
    problem has at least k samples)."""
    resolved = get_task(task, **parse_task_options(task_option))
    rows = load_responses(responses, resolved)
    with item_progress("scoring", len(rows), min_total=PROGRESS_MIN_ROWS) as advance:
        report = asyncio.run(
            score_report(resolved, rows, concurrency=concurrency, on_scored=advance)
        )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(
            json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    if as_json:
        print_json(report.to_json())
        return
    console.print(
        f"task: {report.task}   n: {report.n}   correct: {report.correct}   "
        f"accuracy: {report.accuracy:.2%}"
    )
    if report.samples_per_problem is not None:
        low, high = report.samples_per_problem
        per = str(low) if low == high else f"{low}-{high}"
        console.print(f"problems: {report.n_problems}   samples per problem: {per}")
    for name, value in report.metrics.items():
        console.print(f"{name}: {value:.2%}")
    wrong = [item for item in report.per_item if not item.correct]
    if wrong:
        table = Table(
            title=f"incorrect ({len(wrong)}; first 20)", box=box.SIMPLE_HEAD, show_edge=False
        )
        table.add_column("id", no_wrap=True)
        table.add_column("answer", overflow="fold")
        table.add_column("reason", overflow="fold")
        for item in wrong[:20]:
            table.add_row(item.id, item.answer or "-", (item.reason or "-")[:300])
        console.print(table)
