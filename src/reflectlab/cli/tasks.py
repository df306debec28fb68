"""``reflectlab tasks``: the built-in tasks and the file formats tasks can be loaded from."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.cli.strategies import truncate_words
from reflectlab.task import list_tasks


@app.command("tasks")
def tasks(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON (for scripts).")
    ] = False,
) -> None:
    """List tasks: built-in generated ones, and the loaders for benchmark and your own files
    (name, answer kind, check, a short description; options and layouts: --json)."""
    infos = list_tasks()
    if as_json:
        print_json([dataclasses.asdict(info) for info in infos])
        return
    # One line per task at 80 columns: the essentials; `use as --task` only where it fits.
    widths = [
        max(len(h), *(len(v) for v in col))
        for h, col in (
            ("name", [i.name for i in infos]),
            ("answer", [i.answer_kind for i in infos]),
            ("check", [i.check for i in infos]),
        )
    ]
    usage = {i.name: i.usage.split("  ")[0] for i in infos}
    usage_w = max(len("use as --task"), *(len(u) for u in usage.values()))
    rest = console.width - sum(widths) - 9  # three characters between columns
    with_usage = rest - usage_w - 3 >= 40
    desc_w = max(16, rest - usage_w - 3 if with_usage else rest)
    table = Table(title="tasks", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("name", no_wrap=True)
    table.add_column("answer", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("description", no_wrap=True, max_width=desc_w)
    if with_usage:
        table.add_column("use as --task", no_wrap=True)
    for info in infos:
        row = [info.name, info.answer_kind, info.check, short_description(info.description, desc_w)]
        table.add_row(*row, *([usage[info.name]] if with_usage else []))
    console.print(table)
    console.print(
        "check: label-free = tool feedback may use it; oracle = it reads the gold label, so it "
        "is available only as feedback=oracle (ORACLE-ASSISTED); none = no check."
    )
    console.print(
        "Options: --task-option KEY=VALUE (e.g. --task-option seed=1 --task-option n=20, or "
        "for your own files --task-option input_field=question --task-option "
        "target_field=answer --task-option answer=numeric). Each task's options and file "
        "layout: reflectlab tasks --json."
    )
    console.print(
        "Every task: --task-option train=N (its first N samples are a training split, never "
        "scored; for strategies that learn offline, e.g. rot) or train_file=PATH."
    )


def short_description(text: str, width: int) -> str:
    """The description up to its first ``;`` or `` (``, cut at a word boundary to ``width``."""
    for mark in ("; ", " ("):
        text = text.split(mark)[0]
    return truncate_words(text.rstrip("."), width)
