"""Named prompt templates per strategy, and user overrides of them.

A strategy's templates are its module's UPPERCASE string constants (the defaults, each citing
its paper; a module that imports another's constants, as ``reflexion`` imports ``retry``'s
verifier prompts, lists them too). A strategy reads a template through
``ctx.prompt("NAME", NAME)``, which returns the run's override if there is one, else the
constant. Overrides come from a TOML file, one table per strategy::

    [self_refine]
    FEEDBACK_PROMPT = "Review your answer ... end with [[CORRECT]] or [[INCORRECT]]."

given as ``reflectlab run --prompts FILE.toml`` (every listed strategy) or as the strategy
parameter ``prompts=PATH`` (that strategy's table), or as a ``{NAME: text}`` dict from Python.
An unknown strategy or template name, a template the strategy does not read through
``ctx.prompt``, or a ``{placeholder}`` the default does not have is a :class:`ConfigError`
naming the file and the key, before any model call. The run's stored prompt hash covers the
overrides, so two runs with different prompts can be told apart.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import string
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from reflectlab.errors import ConfigError
from reflectlab.strategy._context import StrategyContext

#: ``prompts=`` as a strategy parameter: a TOML file's path, or ``{NAME: text}``.
PromptsParam = str | dict[str, str] | None

# A lookup names the template and passes the same-named constant as the default:
# ``ctx.prompt("NAME", NAME)`` (or a ``("NAME", NAME)`` pair handed to it).
_LOOKUP_RE = re.compile(r"""["']([A-Z][A-Z0-9_]*)["']\s*,\s*\1\b""")
_IMPORT_RE = re.compile(r"^from reflectlab\.strategy\.(\w+) import", re.M)


def _constants(factory: Callable[..., Any]) -> dict[str, str]:
    """Every UPPERCASE string constant of the strategy's module (what the run hashes)."""
    module = inspect.getmodule(factory)
    if module is None:
        return {}
    return {k: v for k, v in sorted(vars(module).items()) if k.isupper() and isinstance(v, str)}


def templates(factory: Callable[..., Any]) -> dict[str, str]:
    """The default templates of the strategy built by ``factory``: its module's public
    UPPERCASE string constants, by name."""
    return {k: v for k, v in _constants(factory).items() if not k.startswith("_")}


def overridable(factory: Callable[..., Any]) -> set[str]:
    """The templates the strategy reads through ``ctx.prompt("NAME", NAME)`` (so an override
    takes effect): lookups in its module or in the strategy modules it imports from."""
    module = inspect.getmodule(factory)
    if module is None:
        return set()
    found: set[str] = set()
    for mod in [module, *_imported(module)]:
        try:
            found.update(_LOOKUP_RE.findall(inspect.getsource(mod)))
        except (OSError, TypeError):
            continue
    return found & set(templates(factory))


def _imported(module: ModuleType) -> list[ModuleType]:
    import importlib

    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return []
    return [importlib.import_module(f"reflectlab.strategy.{m}") for m in _IMPORT_RE.findall(source)]


def _placeholders(text: str) -> set[str]:
    try:
        return {f.split(".")[0].split("[")[0] for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError:
        return {"<malformed>"}


def load_prompts_file(path: str | Path) -> dict[str, dict[str, str]]:
    """A prompts TOML file: ``{strategy: {TEMPLATE: text}}`` (names not yet checked)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"prompts file {p}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"prompts file {p}: not valid TOML: {exc}") from None
    out: dict[str, dict[str, str]] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"prompts file {p}: key {section!r} must be a table [{section}] of templates"
            )
        for key, text in table.items():
            if not isinstance(text, str):
                raise ConfigError(f"prompts file {p}: [{section}] {key} must be a string")
        out[section] = dict(table)
    return out


def check_overrides(
    name: str, factory: Callable[..., Any], overrides: Mapping[str, str], origin: str
) -> dict[str, str]:
    """``overrides`` for strategy ``name`` checked against its templates (``origin`` names the
    file in errors)."""
    defaults, readable = templates(factory), overridable(factory)
    for key, text in overrides.items():
        where = f"{origin}: [{name}] {key}"
        if key not in defaults:
            raise ConfigError(
                f"{where}: strategy {name!r} has no prompt template {key!r}; its templates: "
                f"{', '.join(sorted(readable)) or 'none'} (see `reflectlab strategies show {name}`)"
            )
        if key not in readable:
            raise ConfigError(
                f"{where}: strategy {name!r} does not read {key!r} through ctx.prompt, so an "
                f"override would be ignored; overridable: {', '.join(sorted(readable)) or 'none'}"
            )
        if not isinstance(text, str):
            raise ConfigError(f"{where} must be a string")
        extra = _placeholders(text) - _placeholders(defaults[key])
        if extra:
            allowed = ", ".join("{" + p + "}" for p in sorted(_placeholders(defaults[key])))
            raise ConfigError(
                f"{where}: unknown placeholder(s) {sorted(extra)}; the template fills "
                f"{allowed or 'none'} (write {{{{ and }}}} for literal braces)"
            )
    return dict(overrides)


def resolve_prompts(name: str, factory: Callable[..., Any], value: PromptsParam) -> dict[str, str]:
    """The checked overrides of the ``prompts`` parameter: a TOML file's ``[name]`` table (the
    file must have one, and no table for another strategy), or a ``{NAME: text}`` dict."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return check_overrides(name, factory, value, "prompts")
    if not isinstance(value, str):
        raise ConfigError(f"strategy {name!r}: prompts must be a TOML file path or a dict")
    tables = load_prompts_file(value)
    if name not in tables:
        raise ConfigError(
            f"prompts file {value}: no [{name}] table (it has: {', '.join(tables) or 'none'})"
        )
    return check_overrides(name, factory, tables[name], f"prompts file {value}")


def prompts_digest(factory: Callable[..., Any], overrides: Mapping[str, str]) -> str:
    """sha256 (16 hex digits) of the templates a strategy sends: defaults with overrides."""
    merged = {**_constants(factory), **overrides}
    text = "\n".join(sorted(f"{k}={v}" for k, v in merged.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def with_prompts(
    fn: Callable[[StrategyContext], Any], overrides: Mapping[str, str]
) -> Callable[[StrategyContext], Any]:
    """The strategy ``fn`` with ``overrides`` installed in its context before it runs."""
    frozen = dict(overrides)

    async def run(ctx: StrategyContext) -> str:
        ctx.set_prompts(frozen)
        result: str = await fn(ctx)
        return result

    run.__wrapped__ = fn  # type: ignore[attr-defined]
    return run
