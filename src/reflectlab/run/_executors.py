"""Where a strategy runs on a sample: in this process (the default) or on Ray workers.

The runner keeps everything that decides or writes — which samples run, budgets, baselines,
scoring, the store — and hands an executor one :class:`StrategyJob` at a time;
the executor returns the strategy's result and the call events it made.

- :class:`LocalExecutor`: the strategy runs here, on the run's models, whose cache and call
  log are the store.
- :class:`RayExecutor` (``--executor ray``, needs ``pip install 'reflectlab[ray]'``): strategies
  run on Ray actors, each with its own event loop and model connections; all jobs of one sample
  go to the same actor, so its strategies share cache entries as they do locally. The driver
  stays the single writer of the SQLite store: each finished call is sent to it as it finishes
  (a mailbox actor) and written at once, cache entry and call record in one transaction; a
  job's result is used only after all its calls are written. A job starts with the cache
  entries its sample already has in the store, so a resume repeats no finished call. When an
  actor dies, a new one takes its place and its in-flight jobs run again there (their finished
  calls come from the cache).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from reflectlab.errors import ConfigError
from reflectlab.model import CallEvent, Model, ModelOutput, call_tags, capture_calls
from reflectlab.strategy import Budget, StrategyContext, StrategyResult, run_strategy
from reflectlab.task import Sample, Task

if TYPE_CHECKING:
    from reflectlab.run._config import RunConfig
    from reflectlab.run._runner import Runner


@dataclass(frozen=True)
class StrategyJob:
    """One strategy (by name and resolved parameters) on one sample."""

    run_id: str
    label: str
    name: str
    params: dict[str, Any]
    sample: Sample
    position: int
    budget: Budget


def strategy_context(
    config: RunConfig,
    task: Task,
    sample: Sample,
    budget: Budget,
    solver: Model,
    critic: Model | None,
    judge: Model | None,
) -> StrategyContext:
    ctx = StrategyContext(
        model=solver, critic=critic, judge=judge, task=task, sample=sample, budget=budget
    )
    if config.temperature is not None or config.max_tokens is not None:
        ctx.config = solver.config.merged(
            temperature=config.temperature, max_tokens=config.max_tokens
        )
    return ctx


async def execute(
    job: StrategyJob,
    fn: Any,
    config: RunConfig,
    task: Task,
    models: tuple[Model, Model | None, Model | None],
) -> tuple[StrategyResult, list[CallEvent]]:
    """Run ``job`` here, tagging its calls with run, sample and strategy."""
    ctx = strategy_context(config, task, job.sample, job.budget, *models)
    with (
        call_tags(run_id=job.run_id, sample_id=job.sample.id, strategy=job.label),
        capture_calls() as events,
    ):
        result = await run_strategy(fn, ctx)
    return result, events


class Executor(Protocol):
    async def start(self, runner: Runner) -> None: ...

    async def run_strategy(
        self, runner: Runner, job: StrategyJob, fn: Any
    ) -> tuple[StrategyResult, list[CallEvent]]: ...

    async def aclose(self) -> None: ...


class LocalExecutor:
    """Strategies run in this process, on the runner's models (the default)."""

    async def start(self, runner: Runner) -> None:
        return None

    async def run_strategy(
        self, runner: Runner, job: StrategyJob, fn: Any
    ) -> tuple[StrategyResult, list[CallEvent]]:
        models = (runner.solver, runner.critic, runner.judge)
        return await execute(job, fn, runner.config, runner.task, models)

    async def aclose(self) -> None:
        return None


def make_executor(name: str, *, ray_address: str | None = None) -> Executor:
    """``"local"`` or ``"ray"`` (a ConfigError naming the extra when Ray is not installed)."""
    if name == "local":
        if ray_address is not None:
            raise ConfigError("--ray-address goes with --executor ray")
        return LocalExecutor()
    if name == "ray":
        try:
            importlib.import_module("ray")
        except ImportError:
            raise ConfigError("--executor ray needs Ray: pip install 'reflectlab[ray]'") from None
        from reflectlab.run._ray import RayExecutor

        return RayExecutor(address=ray_address)
    raise ConfigError(f"--executor must be local or ray, not {name!r}")


async def write_call(
    runner: Runner, event: CallEvent, key: str | None, output: ModelOutput | None
) -> None:
    """Write one call that ran elsewhere: a fresh reply with its cache entry in one
    transaction, anything else (a cache hit, a failure) as a call record. Idempotent."""
    store = runner.store
    if key is not None and output is not None and runner.config.use_cache:
        await store.arecord_cached_call(event, key, output)
    else:
        await store.arecord_call(event)


async def cancel(task: asyncio.Task[Any] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
