"""Which strategy runs a request, with which parameters, on which upstream model.

In order of precedence:

1. ``extra_body={"reflectlab": {"strategy": "self_refine", "params": {"max_rounds": 2}}}``;
2. a model prefix, with parameters as on the CLI: ``self_refine/<model>``,
   ``self_refine:max_rounds=2:feedback=intrinsic/<model>`` (only when the first path segment
   names a registered strategy, so upstream names such as ``meta-llama/Llama-3-8B`` pass);
3. the ``X-Reflectlab-Strategy`` header, same syntax (``self_refine:max_rounds=2``);
4. the server's default (``--strategy``, else ``direct``).

The strategy is built fresh for every request from its own parameters, so one request's
parameters can never reach another (optillm keeps them in a process-wide dict). Unknown
strategies, unknown or ill-typed parameters, oracle feedback (a chat has no gold label) and
values over the server's caps are a 400 that lists what is available.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reflectlab.errors import ConfigError
from reflectlab.run import StrategySpec
from reflectlab.server._config import Limits
from reflectlab.server._errors import ApiError
from reflectlab.strategy import StrategyFn, get_strategy, list_strategies, strategy_info

__all__ = ["HEADER", "Selection", "available_strategies", "build_strategy", "select"]

HEADER = "X-Reflectlab-Strategy"


@dataclass(frozen=True)
class Selection:
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    source: str = "default"

    @property
    def label(self) -> str:
        return StrategySpec(name=self.strategy, params=self.params).display()

    @property
    def passthrough(self) -> bool:
        return self.strategy == "direct" and not self.params


def available_strategies() -> list[str]:
    """Strategies a chat request can use: those that need no second model (a critic)."""
    return [i.name for i in list_strategies() if i.feedback != ("critic",)]


def _unknown(name: str) -> ApiError:
    names = available_strategies()
    return ApiError(
        400,
        f"unknown strategy {name!r}; available: {', '.join(names)}",
        param="model",
        code="unknown_strategy",
        extra={"available": names},
    )


def _parse_spec(text: str, where: str) -> StrategySpec:
    try:
        return StrategySpec.parse(text)
    except ConfigError as exc:
        raise ApiError(400, f"{where}: {exc}", param=where, code="invalid_strategy") from None


def _is_strategy(name: str) -> bool:
    try:
        strategy_info(name)
    except ConfigError:
        return False
    return True


def select(
    model: str,
    options_strategy: str | None,
    options_params: dict[str, Any],
    header: str | None,
    default: StrategySpec,
) -> Selection:
    """The request's strategy, parameters and upstream model name (see the module doc)."""
    upstream_model = model
    prefix: StrategySpec | None = None
    head, sep, rest = model.partition("/")
    if sep and rest and _is_strategy(head.split(":", 1)[0].strip()):
        prefix = _parse_spec(head, "model")
        upstream_model = rest
    if options_strategy is not None:
        spec = _parse_spec(options_strategy, "reflectlab.strategy")
        params = {**spec.params, **options_params}
        return Selection(spec.name, params, upstream_model, "body")
    if options_params:
        base = prefix or (_parse_spec(header, HEADER) if header else default)
        return Selection(base.name, {**base.params, **options_params}, upstream_model, "body")
    if prefix is not None:
        return Selection(prefix.name, dict(prefix.params), upstream_model, "model")
    if header:
        spec = _parse_spec(header, HEADER)
        return Selection(spec.name, dict(spec.params), upstream_model, "header")
    return Selection(default.name, dict(default.params), upstream_model, "default")


def _check_type(name: str, key: str, value: Any, default: Any) -> None:
    ok = True
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif default is None:
        ok = value is None or isinstance(value, str | int | float | bool)
    if not ok:
        raise ApiError(
            400,
            f"strategy {name!r}: parameter {key}={value!r} must be a "
            f"{type(default).__name__} (default {default!r})",
            param=f"reflectlab.params.{key}",
            code="invalid_strategy_parameter",
        )


def build_strategy(selection: Selection, limits: Limits) -> StrategyFn:
    """The strategy function for this request, after every check that needs no model call."""
    name, params = selection.strategy, selection.params
    if name not in available_strategies():
        if _is_strategy(name):
            raise ApiError(
                400,
                f"strategy {name!r} needs a critic model, which the proxy does not configure; "
                f"available: {', '.join(available_strategies())}",
                param="model",
                code="unsupported_strategy",
                extra={"available": available_strategies()},
            )
        raise _unknown(name)
    info = strategy_info(name)
    unknown = sorted(set(params) - set(info.params))
    if unknown:
        raise ApiError(
            400,
            f"strategy {name!r} has no parameter(s) {unknown}; its parameters: "
            + ", ".join(f"{k}={v!r}" for k, v in info.params.items()),
            param="reflectlab.params",
            code="invalid_strategy_parameter",
            extra={"parameters": info.params},
        )
    for key, value in params.items():
        _check_type(name, key, value, info.params[key])
    feedback = params.get("feedback", info.params.get("feedback"))
    if feedback == "oracle":
        raise ApiError(
            400,
            "feedback=oracle needs a gold label, and a chat request has none; use intrinsic "
            "feedback (or another kind the strategy supports: "
            f"{', '.join(k for k in info.feedback if k != 'oracle')})",
            param="reflectlab.params.feedback",
            code="oracle_unavailable",
        )
    if feedback == "critic":
        raise ApiError(
            400,
            "feedback=critic needs a critic model, which the proxy does not configure",
            param="reflectlab.params.feedback",
            code="unsupported_strategy",
        )
    rounds = params.get("max_rounds")
    if isinstance(rounds, int) and rounds > limits.max_rounds:
        raise ApiError(
            400,
            f"max_rounds={rounds} is over this server's cap of {limits.max_rounds}",
            param="reflectlab.params.max_rounds",
            code="over_limit",
        )
    try:
        resolved = info.validate(params)
    except ConfigError as exc:
        raise ApiError(400, str(exc), param="reflectlab.params", code="invalid_strategy") from None
    if info.needs_training(resolved):
        raise ApiError(
            400,
            f"strategy {name!r} learns from a training split before it answers, and a chat "
            "request has none; pass what it learned, e.g. guidelines=... from a finished run "
            "(reflectlab show RUN --json: offline_stages)",
            param="reflectlab.params",
            code="unsupported_strategy",
        )
    try:
        return get_strategy(name, **params)
    except (ConfigError, ValueError, TypeError) as exc:
        raise ApiError(
            400, f"strategy {name!r}: {exc}", param="reflectlab.params", code="invalid_strategy"
        ) from None
