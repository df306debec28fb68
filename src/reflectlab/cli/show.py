"""``reflectlab show``, ``compare`` and ``runs``: read stored runs."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, open_store, print_json
from reflectlab.cli._runview import print_summary
from reflectlab.errors import ConfigError
from reflectlab.run import RunComparison, compare_runs


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
    run_ids: Annotated[
        list[str],
        typer.Argument(
            help="RUN with --baseline: strategies of one run against one of them; or RUN_A "
            "RUN_B: the same strategies in two runs, paired by sample id (a unique prefix "
            "of an id is enough).",
            show_default=False,
        ),
    ],
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline", "-b", help="With one run: the strategy every other is compared with."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary and comparisons as JSON.")
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Paired comparisons: exact McNemar, paired bootstrap interval, Holm correction.

    `compare RUN --baseline S`: every strategy in RUN against S. `compare RUN_A RUN_B`: each
    strategy both runs share, B against A on the samples both ran, with the samples that
    changed outcome (errored samples are left out and counted)."""
    if len(run_ids) == 1:
        if baseline is None:
            raise ConfigError(
                "compare RUN needs --baseline STRATEGY; or give two runs: compare RUN_A RUN_B"
            )
        print_summary(open_store(db), run_ids[0], as_json=as_json, baseline=baseline)
        return
    if len(run_ids) != 2:
        raise ConfigError(f"compare takes one run (with --baseline) or two, not {len(run_ids)}")
    if baseline is not None:
        raise ConfigError("--baseline compares strategies within one run; give one run id")
    result = compare_runs(open_store(db), run_ids[0], run_ids[1])
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    print_run_comparison(result)


def break_label(label: str, width: int) -> str:
    """A strategy label in lines of at most ``width``, broken before ``@`` and ``:`` and after
    a space (``self_consistency@self_refine:feedback=oracle`` -> three lines), never inside a
    part; a part longer than ``width`` is left for the table to fold."""
    parts = re.split(r"(?=[@:])|(?<= )", label)
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(line.rstrip() for line in lines)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def print_run_comparison(result: RunComparison) -> None:
    """The table of :func:`compare_runs` (fits 80 columns), the verdicts, the changed samples."""
    console.print(f"A = {result.run_a}  {result.model_a}  task={result.task_a}", soft_wrap=True)
    console.print(f"B = {result.run_b}  {result.model_b}  task={result.task_b}", soft_wrap=True)
    if not result.same_task:
        console.print(
            "warning: the runs are on different tasks or task options; samples are paired by "
            "id only"
        )
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), collapse_padding=True
    )
    # The numbers take about 64 columns; the strategy gets the rest, broken only at : and @.
    name_width = max(16, console.width - 64)
    table.add_column("strategy", overflow="fold", width=name_width)
    for header in ("n", "acc A", "acc B", "B-A", "95% CI", "Holm p", "A>B", "B>A", "err"):
        table.add_column(header, justify="right", no_wrap=True)
    for row in result.strategies:
        c = row.comparison
        name = ("ORACLE " if row.oracle_assisted else "") + row.strategy
        table.add_row(
            escape(break_label(name, name_width)),
            str(row.n_paired),
            _pct(row.accuracy_a),
            _pct(row.accuracy_b),
            f"{c.diff * 100:+.1f}" if c else "-",
            f"[{c.diff_ci_low * 100:+.0f},{c.diff_ci_high * 100:+.0f}]" if c else "-",
            f"{c.p_holm:.2g}" if c else "-",
            str(len(row.right_in_a_wrong_in_b)),
            str(len(row.wrong_in_a_right_in_b)),
            f"{row.errored_a}/{row.errored_b}",
        )
    console.print(table)
    console.print(
        "B-A in points; A>B: right in A, wrong in B; B>A: the reverse; err: errored samples "
        "in A/B, left out of the pairs. ORACLE: a gold label reached a prompt or stop rule."
    )
    for row in result.strategies:
        if row.comparison is not None:
            console.print(escape(row.comparison.verdict))
        else:
            console.print(f"{escape(row.strategy)}: no pair left once errored samples are out")
        for title, ids in (
            ("right in A, wrong in B", row.right_in_a_wrong_in_b),
            ("wrong in A, right in B", row.wrong_in_a_right_in_b),
        ):
            if ids:
                console.print(f"  {title}: {escape(', '.join(ids))}")
    for side, names in (("A", result.strategies_only_in_a), ("B", result.strategies_only_in_b)):
        if names:
            console.print(f"only in {side} (not compared): {escape(', '.join(names))}")


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
