"""The console command imports only the module of the command it runs; the table that says
which module that is must name every command, or a command would vanish from the CLI."""

from __future__ import annotations

import subprocess
import sys

import typer.main

from reflectlab.cli import app
from reflectlab.cli._commands import COMMANDS


def test_the_table_names_every_registered_command_and_its_module() -> None:
    registered: dict[str, str] = {}
    for command in app.registered_commands:
        assert command.callback is not None
        name = command.name or typer.main.get_command_name(command.callback.__name__)
        registered[name] = command.callback.__module__
    for group in app.registered_groups:
        assert group.name is not None and group.typer_instance is not None
        callback = group.typer_instance.registered_commands[0].callback
        assert callback is not None
        registered[group.name] = callback.__module__
    assert {name: f"reflectlab.cli.{module}" for name, module in COMMANDS.items()} == registered


def _loaded_after(argv: list[str]) -> set[str]:
    code = (
        "import sys; from reflectlab.cli._commands import load_for; "
        f"load_for({argv!r}); "
        "print(' '.join(m for m in sys.modules if m.startswith('reflectlab.cli.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {m.removeprefix("reflectlab.cli.") for m in out.split()}


def test_a_command_loads_its_own_module_only() -> None:
    command_modules = set(COMMANDS.values())
    heavy = {"run", "alt_test", "serve", "report", "judge", "meta_eval"}
    tasks = _loaded_after(["--debug", "tasks", "--json"])
    assert "tasks" in tasks and not tasks & heavy  # (tasks uses a helper of strategies)
    assert _loaded_after(["runs", "--help"]) & command_modules == {"show"}
    assert _loaded_after(["--version"]) & command_modules == set()
    # the root's help, no command, an unknown one: all of them, to list them
    for argv in (["--help"], [], ["bogus"], ["--help", "run"]):
        assert _loaded_after(argv) & command_modules == command_modules


def test_the_console_command_still_runs_lists_and_refuses() -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "reflectlab", *args], capture_output=True, text=True
        )

    tasks = cli("tasks")
    assert tasks.returncode == 0 and "gsm8k" in tasks.stdout
    # a command that needs every strategy registered, with only its own module imported
    strategies = cli("strategies", "--json")
    assert strategies.returncode == 0 and '"self_refine"' in strategies.stdout
    assert '"rot"' in strategies.stdout and '"chain_of_verification"' in strategies.stdout
    listing = cli("--help")
    assert listing.returncode == 0
    assert all(name in listing.stdout for name in COMMANDS)
    unknown = cli("bogus")
    assert unknown.returncode == 2 and "No such command 'bogus'" in unknown.stderr
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("reflectlab ")
