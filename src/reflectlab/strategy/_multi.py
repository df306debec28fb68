"""Shared pieces of the multi-call strategies (debate, MAD, Self-Contrast, DeCRIM).

- :func:`gather_calls`: a group of model calls that belong together (the agents of one debate
  round, one critique per constraint). The group is all-or-nothing against ``max_calls``: a
  round where only some agents spoke would leave the others reading stale answers, so a group
  that does not fit stops the strategy *before* any of its calls. Every call is awaited before
  an error is raised, so no call outlives the strategy that made it.
- :func:`answer_all`: every conversation answers once, concurrently.
- :func:`debate_round`: each agent reads the other agents' latest answers and answers again on
  its own (growing) conversation, so a serving engine reuses its prefix cache. Simultaneous
  (Du et al. 2023: everyone reads last round's answers) or in turn (Liang et al. 2023: the
  second debater answers the first debater's *new* argument).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from reflectlab.errors import BudgetExceeded
from reflectlab.strategy._context import StrategyContext
from reflectlab.strategy._primitives import Conversation, ask

T = TypeVar("T")

#: ``message(i, others)``: what agent ``i`` is told, given the other agents' latest answers.
PeerMessage = Callable[[int, list[str]], str]


def reserve_calls(ctx: StrategyContext, n: int, what: str) -> None:
    """Stop now (``BudgetExceeded``) if ``n`` more calls would not fit in ``max_calls``."""
    limit = ctx.budget.max_calls
    if limit is not None and ctx.calls + n > limit:
        raise BudgetExceeded(
            f"max_calls={limit} reached: {what} needs {n} calls, {limit - ctx.calls} left"
        )


async def gather_calls(
    ctx: StrategyContext, calls: Sequence[Callable[[], Awaitable[T]]], what: str
) -> list[T]:
    """Run a group of model calls concurrently, all-or-nothing against the call budget.

    ``calls`` are zero-argument factories so that nothing starts before the budget check.
    """
    reserve_calls(ctx, len(calls), what)
    results = await asyncio.gather(*(call() for call in calls), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


async def answer_all(
    ctx: StrategyContext, agents: list[Conversation], *, role: str, round: int, **config: Any
) -> list[str]:
    """Each conversation answers once (concurrently); replies are appended to each."""

    def call(convo: Conversation) -> Callable[[], Awaitable[str]]:
        return lambda: ask(ctx, convo, role=role, round=round, **config)

    return await gather_calls(ctx, [call(c) for c in agents], f"{role} round {round}")


async def debate_round(
    ctx: StrategyContext,
    agents: list[Conversation],
    latest: list[str],
    message: PeerMessage,
    *,
    role: str,
    round: int,
    sequential: bool = False,
    **config: Any,
) -> list[str]:
    """One debate round: agent ``i`` is told ``message(i, others)`` and answers again.

    ``latest[i]`` is agent ``i``'s latest answer. Simultaneous (default): every agent reads
    the answers of the previous round and the calls run concurrently. ``sequential``: agents
    speak in order and each reads the answers already given in this round.
    Returns the new latest answers.
    """
    if len(agents) != len(latest):
        raise ValueError(f"{len(agents)} agents but {len(latest)} latest answers")
    if not sequential:
        for i, convo in enumerate(agents):
            convo.user(message(i, latest[:i] + latest[i + 1 :]))
        return await answer_all(ctx, agents, role=role, round=round, **config)
    reserve_calls(ctx, len(agents), f"{role} round {round}")
    current = list(latest)
    for i, convo in enumerate(agents):
        convo.user(message(i, current[:i] + current[i + 1 :]))
        current[i] = await ask(ctx, convo, role=role, round=round, **config)
    return current
