"""``reflectlab strategies [show NAME]``: every registered strategy with its paper, feedback and
parameters; ``show`` gives one strategy's parameters with their types and allowed values."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.strategy import list_strategies, strategy_info

strategies_app = typer.Typer(
    help="List the strategies; `show NAME` for one strategy's parameters and allowed values.",
    invoke_without_command=True,
)
app.add_typer(strategies_app, name="strategies")


def _format_params(params: dict[str, Any]) -> str:
    """``name=default`` per line; defaults as JSON so strings are quoted and newlines visible."""
    return "\n".join(f"{k}={json.dumps(v, default=str)}" for k, v in params.items()) or "-"


@strategies_app.callback()
def strategies(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON (for scripts).")
    ] = False,
) -> None:
    """List the strategies: paper, year, feedback kinds, parameters and defaults, baselines."""
    if ctx.invoked_subcommand is not None:
        return
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
        "feedback is oracle uses gold labels and is marked oracle-assisted.\n"
        "Each parameter's type and allowed values: reflectlab strategies show NAME."
    )


@strategies_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Strategy name, e.g. self_refine.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the strategy as JSON (for scripts).")
    ] = False,
) -> None:
    """One strategy: its paper, what it does, and each parameter with its default and the
    values it accepts (as given in --strategy NAME:key=value)."""
    info = strategy_info(name)
    if as_json:
        print_json(info.as_dict())
        return
    year = f" ({info.year})" if info.year is not None else ""
    console.print(f"[bold]{info.name}[/bold]  {escape(info.paper)}{year}")
    if info.summary:
        console.print(escape(info.summary))
    console.print(
        f"feedback: {', '.join(info.feedback) or '-'}"
        + ("   (a baseline)" if info.baseline else "")
    )
    if not info.params:
        console.print("parameters: none")
        return
    allowed = info.param_docs()
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("parameter", no_wrap=True)
    table.add_column("default", overflow="fold")
    table.add_column("allowed values", overflow="fold")
    for key, default in info.params.items():
        table.add_row(key, json.dumps(default, default=str), escape(allowed.get(key, "-")))
    console.print(table)
    example = ":".join(f"{k}={_value_text(v)}" for k, v in list(info.params.items())[:2])
    console.print(f"e.g. --strategy {info.name}:{example}")


def _value_text(value: Any) -> str:
    """A default as it is written in ``--strategy NAME:key=value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
