"""Compute-matched baselines: what the same compute buys without reflection.

For each reflection strategy and each sample, the runner gives self-consistency, best-of-N and
plain retry the same number of model calls (``equal-calls``) or about the same number of tokens
(``equal-tokens``) as the reflection strategy used on that sample. Each baseline's parameters
are sized to that compute and a hard per-sample budget caps it, so a baseline never gets more.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reflectlab.strategy import Budget, StrategyResult, strategy_info

# name -> parameters for a compute allowance of `units` model calls.
MATCHED_BASELINES: dict[str, Callable[[int], dict[str, Any]]] = {
    "self_consistency": lambda units: {"n": max(1, units)},
    # n candidates, each scored by one judge call
    "best_of_n": lambda units: {"n": max(1, units // 2)},
    # a first attempt, then (check + resample) pairs
    "retry": lambda units: {"max_rounds": max(0, (units - 1) // 2)},
}


def baseline_label(baseline: str, reflection: str) -> str:
    return f"{baseline}@{reflection}"


def compute_units(result: StrategyResult, first_call_tokens: int, mode: str) -> int:
    """How many calls' worth of compute the reflection strategy used on this sample."""
    if mode == "equal-tokens" and first_call_tokens > 0:
        return max(1, round(result.tokens / first_call_tokens))
    return max(1, result.calls)


def matched_baselines(
    result: StrategyResult,
    *,
    first_call_tokens: int,
    mode: str,
    feedback: str | None,
) -> list[tuple[str, dict[str, Any], Budget]]:
    """(baseline name, parameters, budget) for each registered baseline, sized to the
    reflection strategy's compute on this sample. A baseline that takes a feedback kind gets
    the reflection strategy's own (so an oracle-assisted reflection is compared with an
    oracle-assisted retry, not with a blind one)."""
    units = compute_units(result, first_call_tokens, mode)
    budget = (
        Budget(max_tokens=max(1, result.tokens), max_rounds=units)
        if mode == "equal-tokens"
        else Budget(max_calls=units, max_rounds=units)
    )
    out = []
    for name, sizing in MATCHED_BASELINES.items():
        try:
            info = strategy_info(name)
        except Exception:  # a baseline not registered in this build is simply not run
            continue
        params = {k: v for k, v in sizing(units).items() if k in info.params}
        if (
            feedback is not None
            and "feedback" in info.params
            and (not info.feedback or feedback in info.feedback)
        ):
            params["feedback"] = feedback
        out.append((name, params, budget))
    return out
