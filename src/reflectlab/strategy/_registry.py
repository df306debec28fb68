"""``@strategy``: register a strategy factory by name, with its paper and parameters.

As Inspect AI's ``@solver``: the decorated function is a factory whose keyword arguments are
the strategy's parameters; it returns ``async (ctx) -> str``. The registry records the
parameters and their defaults, so ``reflectlab strategies --json`` can list them and a stored
run can rebuild the strategy exactly.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reflectlab.errors import ConfigError
from reflectlab.feedback import FEEDBACK_KINDS
from reflectlab.strategy._context import StrategyContext

StrategyFn = Callable[[StrategyContext], Awaitable[str]]
Factory = Callable[..., StrategyFn]
F = TypeVar("F", bound=Factory)


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    paper: str
    year: int | None
    feedback: tuple[str, ...]
    factory: Factory
    params: dict[str, Any] = field(default_factory=dict)
    summary: str = ""
    baseline: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "paper": self.paper,
            "year": self.year,
            "feedback_kinds": list(self.feedback),
            "parameters": self.params,
            "summary": self.summary,
            "baseline": self.baseline,
        }


_REGISTRY: dict[str, StrategyInfo] = {}


def strategy(
    *,
    name: str | None = None,
    paper: str,
    year: int | None,
    feedback: tuple[str, ...] = (),
    baseline: bool = False,
) -> Callable[[F], F]:
    """Register a strategy factory. ``feedback`` lists the feedback kinds it can use."""
    for kind in feedback:
        if kind not in FEEDBACK_KINDS:
            raise ConfigError(f"unknown feedback kind {kind!r}")

    def decorate(factory: F) -> F:
        key = name or factory.__name__
        params = {
            p.name: (None if p.default is inspect.Parameter.empty else p.default)
            for p in inspect.signature(factory).parameters.values()
        }
        doc = inspect.getdoc(factory) or ""
        _REGISTRY[key] = StrategyInfo(
            name=key,
            paper=paper,
            year=year,
            feedback=feedback,
            factory=factory,
            params=params,
            summary=doc.split("\n\n", 1)[0].replace("\n", " "),
            baseline=baseline,
        )
        return factory

    return decorate


def strategy_info(name: str) -> StrategyInfo:
    info = _REGISTRY.get(name)
    if info is None:
        raise ConfigError(
            f"unknown strategy {name!r}; known: {', '.join(sorted(_REGISTRY))} "
            "(see `reflectlab strategies`)"
        )
    return info


def list_strategies() -> list[StrategyInfo]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_strategy(name: str, **params: Any) -> StrategyFn:
    """Build a registered strategy with parameters; an unknown parameter is an error."""
    info = strategy_info(name)
    unknown = set(params) - set(info.params)
    if unknown:
        raise ConfigError(
            f"strategy {name!r} has no parameter(s) {sorted(unknown)}; "
            f"its parameters: {sorted(info.params)}"
        )
    feedback = params.get("feedback")
    if feedback is not None and info.feedback and feedback not in info.feedback:
        raise ConfigError(
            f"strategy {name!r} cannot use feedback {feedback!r}; it supports {info.feedback}"
        )
    return info.factory(**params)
