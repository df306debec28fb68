"""Task options: pydantic models with ``extra="forbid"``, so a misspelt option is an error.

Options arrive from Python (``get_task("arith", n=20)``) or from the CLI as strings
(``-o n=20``); pydantic's lax mode turns ``"20"`` into ``20``. Every problem becomes a
:class:`~reflectlab.errors.ConfigError` that names the task and the option.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from reflectlab.errors import ConfigError

__all__ = ["TaskOptions", "parse_options"]


class TaskOptions(BaseModel):
    """Options every task accepts. ``seed`` picks the generated items of a built-in task; file
    tasks accept and ignore it (their order is the file's), so a runner can pass one seed to
    any task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed: int = 0


OptionsT = TypeVar("OptionsT", bound=BaseModel)


def parse_options(cls: type[OptionsT], task: str, options: dict[str, Any]) -> OptionsT:
    """``cls(**options)``, with validation errors turned into one clear ConfigError."""
    try:
        return cls(**options)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "options"
            if item["type"] == "extra_forbidden":
                known = ", ".join(sorted(cls.model_fields)) or "none"
                problems.append(f"unknown option {where!r} (options: {known})")
            else:
                problems.append(f"option {where!r}: {item['msg']}")
        raise ConfigError(f"task {task!r}: " + "; ".join(problems)) from None
