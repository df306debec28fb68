"""The typer application every CLI command registers on (one file per command)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="reflectlab",
    help="Make language models check and correct their own work, and measure whether it helped.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _Options:
    """Global options the app callback sets for :func:`reflectlab.cli.main` to read."""

    debug: bool = False


options = _Options()


def _print_version(value: bool) -> None:
    if value:
        from reflectlab import __version__

        typer.echo(f"reflectlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="On an unexpected error show the full traceback, not one line."
        ),
    ] = False,
) -> None:
    """reflectlab: self-correction strategies for language models, measured honestly."""
    options.debug = debug
