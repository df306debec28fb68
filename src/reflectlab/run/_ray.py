"""The Ray executor: strategies on Ray actors, the store written by the driver alone.

See :mod:`reflectlab.run._executors` for the contract. Imported only for ``--executor ray``.

Limits: a worker's cache holds what its own jobs made plus the cache entries the store
already has for the sample being run in this run (what a resume needs); entries from *other*
runs in the store are not served to workers, so a repeated run calls the model again where
the local executor would answer from the cache. Scoring runs on the driver.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import ray
from ray.exceptions import RayActorError

from reflectlab.errors import ConfigError, RunAbortedError
from reflectlab.model import CallEvent, Model, ModelOutput
from reflectlab.run._config import RunConfig
from reflectlab.run._executors import StrategyJob, cancel, execute, write_call
from reflectlab.strategy import Budget, StrategyResult, get_strategy

if TYPE_CHECKING:
    from reflectlab.run._runner import Runner

#: How often one sample's job may lose its actor before the run gives up.
MAX_ACTOR_LOSSES = 3
Payload = tuple[str, str | None, str | None]  # event JSON, cache key, output JSON


class Mailbox:
    """A Ray actor: finished calls from the workers, taken in batches by the driver."""

    def __init__(self) -> None:
        self.items: list[Payload] = []
        self.ready = asyncio.Event()

    async def put(self, item: Payload) -> None:
        self.items.append(item)
        self.ready.set()

    async def take(self, wait_s: float) -> list[Payload]:
        if not self.items:
            self.ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.ready.wait(), wait_s)
        items, self.items = self.items, []
        return items


class _Relay:
    """A worker model's cache and call recorder: memory, plus every call sent to the driver."""

    def __init__(self, mailbox: Any) -> None:
        self.mailbox = mailbox
        self.entries: dict[str, ModelOutput] = {}
        self.fresh: dict[str, tuple[str, str]] = {}

    def cache_get(self, key: str) -> ModelOutput | None:
        return self.entries.get(key)

    def cache_put(self, key: str, output: ModelOutput) -> None:
        self.entries[key] = output

    def record_call(self, event: CallEvent) -> None:
        self.mailbox.put.remote((event.model_dump_json(), None, None))

    def record_cached_call(self, event: CallEvent, key: str, output: ModelOutput) -> None:
        self.entries[key] = output
        out_json = output.model_dump_json()
        self.fresh[event.call_id] = (key, out_json)
        self.mailbox.put.remote((event.model_dump_json(), key, out_json))

    def payload(self, event: CallEvent) -> Payload:
        key, out_json = self.fresh.pop(event.call_id, (None, None))
        return event.model_dump_json(), key, out_json


class StrategyWorker:
    """A Ray actor: its own event loop, task and model connections."""

    def __init__(self, config_json: dict[str, Any], mailbox: Any) -> None:
        from reflectlab.run._runner import load_task, make_model

        self.config = RunConfig.model_validate(config_json)
        self.task, samples = load_task(self.config)
        self.samples = {s.id: s for s in samples}
        self.relay = _Relay(mailbox)

        def model(name: str | None) -> Model | None:
            if name is None:
                return None
            m = make_model(self.config, name, None)
            m.cache = self.relay if self.config.use_cache else None
            m.recorder = self.relay
            return m

        solver = model(self.config.model)
        assert solver is not None
        self.models = (solver, model(self.config.critic_model), model(self.config.judge_model))

    async def ping(self) -> bool:
        return True

    async def run(self, job: dict[str, Any], seed: list[tuple[str, str]]) -> dict[str, Any]:
        for key, out_json in seed:
            self.relay.entries.setdefault(key, ModelOutput.model_validate_json(out_json))
        sample = self.samples[job["sample_id"]]
        spec = StrategyJob(
            run_id=job["run_id"],
            label=job["label"],
            name=job["name"],
            params=job["params"],
            sample=sample,
            position=job["position"],
            budget=Budget.model_validate(job["budget"]),
        )
        fn = get_strategy(spec.name, **spec.params)
        result, events = await execute(spec, fn, self.config, self.task, self.models)
        return {
            "result": result.model_dump_json(),
            "calls": [self.relay.payload(e) for e in events],
        }


class RayExecutor:
    """Shards a run's samples over Ray actors (one per CPU of the cluster unless ``workers``
    is given); connects to ``address`` or starts a local Ray."""

    def __init__(self, *, address: str | None = None, workers: int | None = None) -> None:
        self.address = address
        self.workers = workers
        self.actors: list[Any] = []
        self.replaced = 0
        self._owns_ray = False
        self._mailbox: Any = None
        self._drain: asyncio.Task[None] | None = None
        self._written: set[str] = set()
        self._runner: Runner | None = None
        self._worker_cls: Any = None

    async def start(self, runner: Runner) -> None:
        if not ray.is_initialized():
            ray.init(
                address=self.address,
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
            self._owns_ray = True
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        n = self.workers or max(1, int(resources.get("CPU", 1)))
        self._runner = runner
        self._mailbox = ray.remote(Mailbox).options(num_cpus=0).remote()
        self._worker_cls = ray.remote(StrategyWorker).options(num_cpus=0)
        self.actors = [self._new_actor() for _ in range(n)]
        try:
            await asyncio.gather(*(a.ping.remote() for a in self.actors))
        except ray.exceptions.RayError as exc:
            raise ConfigError(f"the Ray workers could not start: {exc}") from None
        self._drain = asyncio.ensure_future(self._drain_calls())

    def _new_actor(self) -> Any:
        assert self._runner is not None
        config = self._runner.config.model_dump(mode="json")
        return self._worker_cls.remote(config, self._mailbox)

    async def _write(self, item: Payload) -> CallEvent:
        assert self._runner is not None
        event_json, key, out_json = item
        event = CallEvent.model_validate_json(event_json)
        if event.call_id not in self._written:
            self._written.add(event.call_id)  # before the await: written once, not twice
            output = ModelOutput.model_validate_json(out_json) if out_json else None
            try:
                await write_call(self._runner, event, key, output)
            except BaseException:
                self._written.discard(event.call_id)
                raise
        return event

    async def _drain_calls(self) -> None:
        """Write each finished call as soon as a worker reports it (before its sample ends)."""
        while True:
            for item in await self._mailbox.take.remote(0.5):
                await self._write(item)

    def _seed(self, runner: Runner, job: StrategyJob) -> list[tuple[str, str]]:
        """Cache entries of this sample's finished calls in this run (a resumed sample's)."""
        rows = runner.store.db.execute(
            "SELECT key, output_json FROM cache WHERE key IN (SELECT request_hash FROM calls "
            "WHERE run_id = ? AND sample_id = ? AND error IS NULL AND from_cache = 0)",
            (job.run_id, job.sample.id),
        )
        return [(r[0], r[1]) for r in rows]

    async def run_strategy(
        self, runner: Runner, job: StrategyJob, fn: Any
    ) -> tuple[StrategyResult, list[CallEvent]]:
        payload = {
            "run_id": job.run_id,
            "label": job.label,
            "name": job.name,
            "params": job.params,
            "sample_id": job.sample.id,
            "position": job.position,
            "budget": job.budget.model_dump(mode="json"),
        }
        slot = job.position % len(self.actors)
        losses = 0
        while True:
            actor = self.actors[slot]
            try:
                out = await actor.run.remote(payload, self._seed(runner, job))
                break
            except RayActorError as exc:
                losses += 1
                if losses > MAX_ACTOR_LOSSES:
                    raise RunAbortedError(
                        f"sample {job.sample.id} ({job.label}) lost its Ray worker "
                        f"{losses} times; last: {exc}"
                    ) from None
                if self.actors[slot] is actor:  # the first job to notice replaces it
                    self.actors[slot] = self._new_actor()
                    self.replaced += 1
        # Every call of the result is in the store before the result is used.
        events = [await self._write(item) for item in out["calls"]]
        return StrategyResult.model_validate_json(out["result"]), events

    async def aclose(self) -> None:
        await cancel(self._drain)
        self._drain = None
        if self._mailbox is not None:
            with contextlib.suppress(Exception):
                for item in await self._mailbox.take.remote(0.0):
                    await self._write(item)
        for actor in self.actors:
            with contextlib.suppress(Exception):
                ray.kill(actor)
        self.actors = []
        if self._mailbox is not None:
            with contextlib.suppress(Exception):
                ray.kill(self._mailbox)
            self._mailbox = None
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False
