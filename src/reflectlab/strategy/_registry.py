"""``@strategy``: register a strategy factory by name, with its paper and parameters.

As Inspect AI's ``@solver``: the decorated function is a factory whose keyword arguments are
the strategy's parameters; it returns ``async (ctx) -> str``. The registry records the
parameters and their defaults, so ``reflectlab strategies --json`` can list them and a stored
run can rebuild the strategy exactly.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from reflectlab.errors import ConfigError
from reflectlab.feedback import FEEDBACK_KINDS
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._offline import OfflineStage
from reflectlab.strategy._prompts import resolve_prompts, with_prompts

StrategyFn = Callable[[StrategyContext], Awaitable[str]]
Factory = Callable[..., StrategyFn]
F = TypeVar("F", bound=Factory)
#: Given a strategy's resolved parameters: does it ask for the task's label-free check?
UsesTaskCheck = Callable[[dict[str, Any]], bool]
#: Model calls one sample costs at most, from the resolved parameters.
CallCount = Callable[[dict[str, Any]], int]


def _default_uses_task_check(params: dict[str, Any]) -> bool:
    """A strategy uses the task's check when its feedback (or selector) is ``tool``."""
    return params.get("feedback") == "tool" or params.get("selector") == "tool"


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
    schema: type[BaseModel] | None = None
    uses_task_check: UsesTaskCheck = _default_uses_task_check
    #: Work done once per run on the task's training split, before any test sample.
    offline: OfflineStage | None = None
    #: The model calls one sample costs at most, from the resolved parameters (for duration
    #: estimates); ``None``: 1 for a baseline, ``1 + 2 * rounds`` for a reflection strategy.
    calls: CallCount | None = None

    def max_calls(self, params: dict[str, Any]) -> int:
        """Model calls one sample costs at most with these resolved parameters (an offline
        stage is not a per-sample cost and is not counted)."""
        if self.calls is not None:
            return max(1, self.calls(params))
        if self.baseline:
            return 1
        rounds = params.get("max_rounds", params.get("rounds", 3))
        return 1 + 2 * int(rounds)

    def needs_training(self, params: dict[str, Any]) -> bool:
        """Whether, with these resolved parameters, the strategy runs an offline stage (and so
        needs a task with a training split)."""
        return self.offline is not None and self.offline.needed(params)

    def validate(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` checked against the factory's signature (names, types, ranges) and
        completed with the defaults; a :class:`ConfigError` names what is wrong.

        ``prompts`` (a TOML file or ``{NAME: text}``: template overrides, see
        :mod:`reflectlab.strategy._prompts`) is accepted by every strategy; it is checked here
        and kept in the result when given."""
        if "prompts" in params:
            prompts = params["prompts"]
            resolve_prompts(self.name, self.factory, prompts)
            rest = {k: v for k, v in params.items() if k != "prompts"}
            return {**self.validate(rest), "prompts": prompts}
        unknown = set(params) - set(self.params)
        if unknown:
            raise ConfigError(
                f"strategy {self.name!r} has no parameter(s) {sorted(unknown)}; "
                f"its parameters: {sorted(self.params) or 'none'}"
            )
        if self.schema is None:
            return {**self.params, **params}
        try:
            model = self.schema.model_validate(params)
        except ValidationError as exc:
            raise ConfigError(_param_errors(self.name, exc, self.param_docs())) from None
        return {k: getattr(model, k) for k in self.params}

    def param_docs(self) -> dict[str, str]:
        """Each parameter's type and allowed values, as ``strategies show`` prints them."""
        if self.schema is None:
            return {k: repr(v) for k, v in self.params.items()}
        return {
            name: _type_text(info.annotation) + _bounds_text(info.metadata)
            for name, info in self.schema.model_fields.items()
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "paper": self.paper,
            "year": self.year,
            "feedback_kinds": list(self.feedback),
            "parameters": self.params,
            "parameter_types": self.param_docs(),
            "summary": self.summary,
            "baseline": self.baseline,
            "offline_stage": self.offline is not None,
        }


_REGISTRY: dict[str, StrategyInfo] = {}


def _bounds_text(metadata: list[Any]) -> str:
    bounds = [
        f"{op} {getattr(m, attr)}"
        for m in metadata
        for attr, op in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
        if getattr(m, attr, None) is not None
    ]
    return f" ({', '.join(bounds)})" if bounds else ""


def _type_text(annotation: Any) -> str:
    """``int (>= 1, <= 128)``, ``'judge' | 'tool'``, ``float (>= 0.0) | None``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0]) + _bounds_text(list(args[1:]))
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if args:
        return " | ".join(_type_text(a) for a in args)
    return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "None")


def _param_errors(name: str, exc: ValidationError, docs: dict[str, str]) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"])
        expected = docs.get(str(err["loc"][0])) if err["loc"] else None
        hint = f" (expected {expected})" if expected else ""
        parts.append(f"parameter {loc!r} = {err.get('input')!r}: {err['msg']}{hint}")
    return f"strategy {name!r}: " + "; ".join(parts)


def _schema(key: str, factory: Factory) -> type[BaseModel] | None:
    """A pydantic model of the factory's keyword parameters (None if a hint won't resolve)."""
    try:
        hints = typing.get_type_hints(factory, include_extras=True)
    except Exception:  # an unresolvable annotation: fall back to names-only checking
        return None
    fields: dict[str, Any] = {}
    for p in inspect.signature(factory).parameters.values():
        default = ... if p.default is inspect.Parameter.empty else p.default
        fields[p.name] = (hints.get(p.name, Any), default)
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        f"{key}_parameters", __config__=ConfigDict(extra="forbid", strict=True), **fields
    )
    return model


def strategy(
    *,
    name: str | None = None,
    paper: str,
    year: int | None,
    feedback: tuple[str, ...] = (),
    baseline: bool = False,
    uses_task_check: UsesTaskCheck | None = None,
    offline: OfflineStage | None = None,
    calls: CallCount | None = None,
) -> Callable[[F], F]:
    """Register a strategy factory. ``feedback`` lists the feedback kinds it can use.

    Its keyword parameters, with their annotations (``Annotated[int, Field(ge=1)]`` for a
    range: see :mod:`reflectlab.strategy._params`), are validated before any model call.
    ``uses_task_check`` says, from the resolved parameters, whether the strategy will ask the
    task's label-free check (default: ``feedback`` or ``selector`` is ``"tool"``), so a run on a
    task without one is refused up front. ``offline``: a stage run once per run on the task's
    training split (see :mod:`reflectlab.strategy._offline`). ``calls``: the model calls one
    sample costs at most, from the resolved parameters, where the default (1 for a baseline,
    ``1 + 2 * rounds`` otherwise) is wrong for it."""
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
            schema=_schema(key, factory),
            uses_task_check=uses_task_check or _default_uses_task_check,
            offline=offline,
            calls=calls,
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
    feedback = params.get("feedback")
    if isinstance(feedback, str) and info.feedback and feedback not in info.feedback:
        raise ConfigError(
            f"strategy {name!r} cannot use feedback {feedback!r}; it supports {info.feedback}"
        )
    validated = info.validate(params)
    prompts = validated.pop("prompts", None)
    fn = info.factory(**validated)
    if prompts is None:
        return fn
    return with_prompts(fn, resolve_prompts(name, info.factory, prompts))
