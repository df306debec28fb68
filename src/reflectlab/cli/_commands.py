"""Which module registers which command, and loading them.

A command module imports what its command needs (the runner, the report, scipy for
``alt-test``...), so importing all of them costs most of a second before any command runs.
The console entry point loads only the module of the command it was asked for
(:func:`load_for`); ``reflectlab --help``, an unknown command, and ``from reflectlab.cli import
app`` load every one (:func:`load_all`), in this order (the order ``--help`` lists them).
A test checks that this table names every command each module registers.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

#: command (or command group) name -> the module under reflectlab.cli that registers it
COMMANDS: dict[str, str] = {
    "alt-test": "alt_test",
    "cache": "cache",
    "chat": "chat",
    "demo": "demo",
    "export": "export",
    "judge": "judge",
    "merge": "merge",
    "meta-eval": "meta_eval",
    "models": "models",
    "report": "report",
    "resume": "resume",
    "run": "run",
    "score": "score",
    "serve": "serve",
    "show": "show",
    "compare": "show",
    "runs": "show",
    "strategies": "strategies",
    "tasks": "tasks",
}


def load_all() -> None:
    """Import every command module (each registers its commands on the app once)."""
    for module in dict.fromkeys(COMMANDS.values()):
        importlib.import_module(f"reflectlab.cli.{module}")


def load_for(argv: Sequence[str]) -> None:
    """Import the module of the command ``argv`` names (its first word that is not an option:
    the root's options take no value), or every module when it names none, names an unknown
    one (the error lists them all) or asks the root for ``--help``; none for ``--version``."""
    index = next((i for i, arg in enumerate(argv) if not arg.startswith("-")), None)
    if "--version" in argv[:index]:  # printed and exits before any command is looked at
        return
    module = COMMANDS.get(argv[index]) if index is not None else None
    if module is None or index is None or "--help" in argv[:index]:
        load_all()
        return
    importlib.import_module(f"reflectlab.cli.{module}")
