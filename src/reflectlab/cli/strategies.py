"""``reflectlab strategies``: every registered strategy with its paper, feedback and parameters."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.strategy import list_strategies


def _format_params(params: dict[str, Any]) -> str:
    """``name=default`` per line; defaults as JSON so strings are quoted and newlines visible."""
    return "\n".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items()) or "-"


@app.command("strategies")
def strategies(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON (for scripts).")
    ] = False,
) -> None:
    """List the strategies: paper, year, feedback kinds, parameters and defaults, baselines."""
    infos = list_strategies()
    if as_json:
        print_json([info.as_dict() for info in infos])
        return
    table = Table(title="strategies", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    # On a narrow terminal rich would crop the last column; give every column but the paper
    # title a fixed width there, and let the title wrap into what is left.
    widths: dict[str, int | None] = {"paper": None, "feedback": None, "parameters": None}
    if console.width < 120:
        name_width = max([len("name"), *(len(i.name) for i in infos)])
        param_lines = [ln for i in infos for ln in _format_params(i.params).splitlines()]
        params = min(22, max((len(ln) for ln in param_lines), default=1))
        feedback = len("intrinsic,")
        # 5 gaps of padding plus a divider (15), and the year and baseline columns.
        paper = console.width - name_width - feedback - params - len("year") - len("baseline") - 15
        if paper < 10:  # take the shortfall from the parameters first, down to 14
            params -= min(params - 14, 10 - paper)
        widths.update(parameters=params, feedback=feedback, paper=max(10, paper))
    table.add_column("name", no_wrap=True)
    table.add_column("paper", overflow="fold", width=widths["paper"])
    table.add_column("year", no_wrap=True)
    table.add_column("feedback", width=widths["feedback"])
    table.add_column("parameters", overflow="fold", width=widths["parameters"])
    table.add_column("baseline", no_wrap=True)
    for info in infos:
        table.add_row(
            info.name,
            info.paper,
            str(info.year) if info.year is not None else "-",
            ", ".join(info.feedback) or "-",
            _format_params(info.params),
            "yes" if info.baseline else "",
        )
    console.print(table)
    console.print(
        "feedback: the kinds a strategy can use (intrinsic, critic, tool, oracle); a run whose "
        "feedback is oracle uses gold labels and is marked oracle-assisted."
    )
