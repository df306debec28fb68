"""Command-line interface: thin commands over public library functions, one file per command."""

from __future__ import annotations

import sys

# Importing a command module registers its command on `app`.
from reflectlab.cli import _commands  # noqa: F401  (keeps registration order in one place)
from reflectlab.cli._app import app
from reflectlab.errors import ReflectlabError

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point: run the app, turn reflectlab errors into one clear line."""
    try:
        app()
    except ReflectlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
