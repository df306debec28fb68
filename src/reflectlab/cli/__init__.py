"""Command-line interface: thin commands over public library functions, one file per command."""

from __future__ import annotations

import sys
from typing import Any

from reflectlab.cli._app import options
from reflectlab.cli._commands import load_all, load_for
from reflectlab.errors import ConfigError, InputError, ReflectlabError

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """``reflectlab.cli.app``: the typer app with every command registered (imported on
    first use, so that the console command loads only the module it runs)."""
    if name == "app":
        load_all()
        from reflectlab.cli._app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: run the app, turn reflectlab errors into one clear line.

    Exit codes: 0 success; 1 a run failed or was aborted (credentials, unknown model, store);
    2 bad input (nothing ran); 3 a run finished with errored samples; 130 interrupted.
    Any other exception is a bug: one line naming it, exit 1; ``--debug`` shows the traceback."""
    from reflectlab.cli._app import app

    load_for(sys.argv[1:])
    try:
        app()
    except (ConfigError, InputError) as exc:  # bad input: nothing ran
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except ReflectlabError as exc:  # a run failed or was aborted; what finished is kept
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:  # a bug, not bad input: one line unless --debug asks for more
        if options.debug:
            raise
        print(
            f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
