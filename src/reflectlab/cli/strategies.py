"""``reflectlab strategies [show NAME]``: every registered strategy with its paper, feedback and
parameters; ``show`` gives one strategy's parameters with their types and allowed values, and
its prompt templates (the texts ``--prompts FILE.toml`` can override)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.strategy import StrategyInfo, list_strategies, strategy_info
from reflectlab.strategy._prompts import overridable, templates

strategies_app = typer.Typer(
    help="List the strategies; `show NAME` for one strategy's parameters and allowed values.",
    invoke_without_command=True,
)
app.add_typer(strategies_app, name="strategies")


@strategies_app.callback()
def strategies(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the list as JSON (for scripts).")
    ] = False,
) -> None:
    """List the strategies: name, year, short paper title and feedback kinds (parameters: `show
    NAME`; everything: --json)."""
    if ctx.invoked_subcommand is not None:
        return
    infos = list_strategies()
    if as_json:
        print_json([info.as_dict() for info in infos])
        return
    # One line per strategy, at any width: the essentials only (the parameters, the full
    # title and the summary are in `strategies show NAME` and --json).
    name_w = max([len("name"), *(len(i.name) for i in infos)])
    feedback = {i.name: ",".join(i.feedback) or "-" for i in infos}
    feedback_w = max([len("feedback"), *(len(f) for f in feedback.values())])
    # Three characters between columns (padding and divider).
    paper_w = max(12, console.width - name_w - len("year") - feedback_w - 9)
    table = Table(title="strategies", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("name", no_wrap=True)
    table.add_column("year", no_wrap=True)
    table.add_column("paper", no_wrap=True, max_width=paper_w)
    table.add_column("feedback", no_wrap=True)
    for info in infos:
        table.add_row(
            info.name,
            str(info.year) if info.year is not None else "-",
            escape(short_paper(info.paper, paper_w)),
            feedback[info.name],
        )
    console.print(table)
    console.print(
        "feedback: the kinds a strategy can use (intrinsic, critic, tool, oracle); a run whose "
        "feedback is oracle uses gold labels and is marked oracle-assisted."
    )
    console.print(
        "Parameters and the full paper title: reflectlab strategies show NAME", soft_wrap=True
    )


def short_paper(paper: str, width: int) -> str:
    """``"Madaan et al., Self-Refine: Iterative ..."`` -> ``"Self-Refine"`` (with the first
    author, ``"Madaan, Self-Refine"``, when ``width`` is 40 or more): the title up to its
    colon, cut at a word (or hyphen) boundary to ``width`` with an ellipsis."""
    author, sep, title = paper.partition(", ")
    if not sep or author.startswith("("):  # "(baseline) what it is": no author to drop
        return truncate_words(paper, width)
    title = title.split(": ")[0]
    if width >= 40:
        title = f"{author.replace(' et al.', '')}, {title}"
    return truncate_words(title, width)


def truncate_words(text: str, width: int) -> str:
    """``text`` if it fits in ``width``, else its longest prefix ending at a space or hyphen
    that fits with a trailing "…"; a single word that cannot fit is cut with "…"."""
    if len(text) <= width:
        return text
    cut = max(text.rfind(" ", 0, width), text.rfind("-", 0, width - 1) + 1)
    if cut <= 0:
        return text[: width - 1] + "…"
    return text[:cut].rstrip(" ,:;") + "…"


@strategies_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Strategy name, e.g. self_refine.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the strategy as JSON (for scripts).")
    ] = False,
) -> None:
    """One strategy: its paper, what it does, each parameter with its default and the values
    it accepts (as given in --strategy NAME:key=value), and its prompt templates."""
    info = strategy_info(name)
    if as_json:
        readable = overridable(info.factory)
        print_json(
            {
                **info.as_dict(),
                "prompt_templates": templates(info.factory),
                "overridable_prompts": sorted(readable),
            }
        )
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
        _print_templates(info)
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
    _print_templates(info)


def _print_templates(info: StrategyInfo) -> None:
    """Each prompt template with its text; overridable ones can be replaced in a --prompts
    file's [NAME] table (or with the prompts=FILE parameter)."""
    texts, readable = templates(info.factory), overridable(info.factory)
    if not texts:
        console.print("prompt templates: none")
        return
    console.print(
        escape(
            f"\nprompt templates (override in a --prompts FILE.toml, table [{info.name}], or "
            f"with --strategy {info.name}:prompts=FILE.toml; `{{name}}` placeholders are "
            "filled by the strategy):"
        )
    )
    for key, text in texts.items():
        state = "overridable" if key in readable else "fixed: not read through ctx.prompt"
        console.print(f"[bold]{key}[/bold]  ({state})")
        console.print(escape(text), markup=False, highlight=False)
        console.print()


def _value_text(value: Any) -> str:
    """A default as it is written in ``--strategy NAME:key=value``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
