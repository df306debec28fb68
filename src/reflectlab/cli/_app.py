"""The typer application every CLI command registers on (one file per command)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="reflectlab",
    help="Make language models check and correct their own work, and measure whether it helped.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
