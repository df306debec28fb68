"""Every option and argument of every command says what it is for in ``--help``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer.main

from reflectlab.cli import app

# Owned by other changes in flight; their missing help is listed for them to add.
NOT_YET: set[str] = set()


def _commands(group: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every command under ``group`` (typer's click objects, duck-typed: typer may vendor
    its own click)."""
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        yield path, command
        if hasattr(command, "commands"):
            yield from _commands(command, path + " ")


def _missing() -> dict[str, list[str]]:
    root = typer.main.get_command(app)
    missing: dict[str, list[str]] = {}
    for path, command in _commands(root):
        if path.split()[0] in NOT_YET:
            continue
        if not (command.help or "").strip():
            missing.setdefault(path, []).append("(the command itself)")
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                missing.setdefault(path, []).append(param.opts[0] if param.opts else param.name)
    return missing


def test_every_option_and_argument_has_help() -> None:
    assert _missing() == {}
