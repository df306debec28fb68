"""``reflectlab tasks``: the built-in tasks and the file formats tasks can be loaded from."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.task import list_tasks


@app.command("tasks")
def tasks(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON (for scripts).")
    ] = False,
) -> None:
    """List tasks: built-in generated ones, and the loaders for benchmark and your own files."""
    infos = list_tasks()
    if as_json:
        print_json([dataclasses.asdict(info) for info in infos])
        return
    table = Table(title="tasks", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("name", no_wrap=True)
    table.add_column("answer", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("description", overflow="fold")
    table.add_column("use as --task", overflow="fold")
    for info in infos:
        table.add_row(info.name, info.answer_kind, info.check, info.description, info.usage)
    console.print(table)
    console.print(
        "check: label-free = tool feedback may use it; oracle = it reads the gold label, so it "
        "is available only as feedback=oracle (ORACLE-ASSISTED); none = no check."
    )
    console.print(
        "Options: --task-option KEY=VALUE (e.g. --task-option seed=1 --task-option n=20, or "
        "for your own files --task-option input_field=question --task-option "
        "target_field=answer --task-option answer=numeric)."
    )
