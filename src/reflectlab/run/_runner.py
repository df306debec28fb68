"""The experiment runner: tasks x strategies x models, concurrent, durable, resumable.

``concurrency`` asyncio workers take the (strategy, sample) jobs in order, so a run holds
the jobs in flight, not one task per job. Every model call is committed to the store as it
finishes (the store is the cache too), and each finished sample's result and scored
checkpoints are committed in one transaction. A run stopped by Ctrl-C or
``kill -9`` resumes with :func:`resume_run`: finished samples are skipped, and an unfinished
sample re-runs with its finished calls served from the cache — no finished call is repeated.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reflectlab import __version__
from reflectlab.errors import (
    ConfigError,
    ModelError,
    ReflectlabError,
    RunAbortedError,
    RunLockedError,
    StoreError,
)
from reflectlab.feedback import no_label_free_check
from reflectlab.model import CallEvent, Model, PriceTable, get_model
from reflectlab.run._baselines import baseline_label, matched_baselines
from reflectlab.run._config import RunConfig, StrategySpec
from reflectlab.run._executors import Executor, LocalExecutor, StrategyJob
from reflectlab.run._offline import prepare_offline
from reflectlab.run._shards import Shard, recorded_shard, shard_versions, sharded_run_id
from reflectlab.store import (
    HEARTBEAT_S,
    CheckpointRecord,
    ResultRecord,
    RunRecord,
    SampleRecord,
    Store,
)
from reflectlab.strategy import (
    Budget,
    StrategyResult,
    get_strategy,
    strategy_info,
)
from reflectlab.strategy._prompts import prompts_digest, resolve_prompts
from reflectlab.task import Sample, Score, Task, get_task

ProgressHook = Callable[[ResultRecord], None]

#: Errors after which going on can only repeat the failure: stop the run at once.
FATAL_ERRORS = {
    "AuthenticationError": "the server refused the credentials",
    "ModelNotFoundError": "the model does not exist there",
}
#: Stop when this many samples failed on a model error and no model call has succeeded yet.
ABORT_AFTER_FIRST_FAILURES = 4


def _versions(config: RunConfig, task: Task) -> dict[str, Any]:
    """Hashes of each strategy's code and prompts, so results can be traced to the exact text."""
    out: dict[str, Any] = {"reflectlab": __version__, "task": task.describe(), "strategies": {}}
    for spec in config.strategies:
        factory = strategy_info(spec.name).factory
        module = inspect.getmodule(factory)
        source = inspect.getsource(module) if module else ""
        # The templates as sent: the module's constants with the run's overrides, if any.
        overrides = resolve_prompts(spec.name, factory, spec.params.get("prompts"))
        entry: dict[str, Any] = {
            "code_sha256": hashlib.sha256(source.encode()).hexdigest()[:16],
            "prompts_sha256": prompts_digest(factory, overrides),
        }
        if overrides:
            entry["prompt_overrides"] = {
                k: hashlib.sha256(v.encode()).hexdigest()[:16] for k, v in sorted(overrides.items())
            }
        out["strategies"][spec.display()] = entry
    return out


def load_task(config: RunConfig) -> tuple[Task, list[Sample]]:
    task = get_task(config.task, seed=config.seed, **config.task_options)
    samples = task.samples()
    if config.limit is not None:
        samples = samples[: config.limit]
    if not samples:
        raise ConfigError(f"task {config.task!r} has no samples")
    return task, samples


class Runner:
    """Executes one run against a store. Use :func:`start_run` / :func:`resume_run`."""

    def __init__(
        self,
        store: Store,
        run_id: str,
        config: RunConfig,
        task: Task,
        samples: list[Sample],
        on_result: ProgressHook | None = None,
        *,
        retry_errors: bool = True,
        executor: Executor | None = None,
    ) -> None:
        self.store = store
        self.executor: Executor = executor or LocalExecutor()
        self.run_id = run_id
        self.config = config
        self.task = task
        self.samples = samples
        self._position = {s.id: i for i, s in enumerate(samples)}
        self.on_result = on_result
        self.retry_errors = retry_errors
        self.tokens_used = 0
        self.cost_used = 0.0
        self.budget_hit: str | None = None
        self.abort: str | None = None
        self.ok_calls = 0
        self.model_errors = 0
        self._fresh = store.fresh_calls(run_id)
        self.solver = make_model(config, config.model, store)
        self.critic = (
            make_model(config, config.critic_model, store) if config.critic_model else None
        )
        self.judge = make_model(config, config.judge_model, store) if config.judge_model else None

    def _budget(self, params: dict[str, Any]) -> Budget:
        """The per-sample budget of a strategy with these (resolved) parameters."""
        c = self.config
        # A strategy's own max_rounds is honoured as given, never clipped by the run default.
        rounds = params.get("max_rounds", c.max_rounds)
        return Budget(
            max_rounds=rounds,
            max_calls=c.sample_budget_calls,
            max_tokens=c.sample_budget_tokens,
        )

    async def run(self) -> str:
        # Errored samples are not finished: unless told to keep them, they run again (their
        # successful calls come from the cache, so nothing that succeeded is paid twice).
        finished = self.store.finished(self.run_id, with_errors=not self.retry_errors)
        await self.executor.start(self)
        sem = asyncio.Semaphore(self.config.concurrency)
        plan = []
        for spec in self.config.strategies:
            label = spec.display()
            params = resolved_params(spec, self.config)  # once per strategy, not per sample
            # A strategy's offline stage (rot's guidelines): once per run, stored, resumable.
            params = await prepare_offline(self, spec, label, params)
            fn = get_strategy(spec.name, **params)
            info = strategy_info(spec.name)
            plan.append((spec, params, label, fn, info.baseline))
        # ``concurrency`` workers take (strategy, sample) jobs in order from one iterator: the
        # memory of a run is that of the jobs in flight, not one task per job of the run.
        todo = ((step, sample) for step in plan for sample in self.samples)
        errors: list[BaseException] = []

        async def worker() -> None:
            for (spec, params, label, fn, is_baseline), sample in todo:
                try:
                    await self._job(sem, spec, params, label, fn, is_baseline, sample, finished)
                except Exception as exc:  # the others go on, as they did under gather
                    errors.append(exc)
                # Yield once per job even when nothing else did (the mock provider, cache
                # hits): the loop then drops the cancelled deadline timers of finished calls,
                # which otherwise keep each call's context (and its trace events) alive.
                await asyncio.sleep(0)

        await asyncio.gather(*(worker() for _ in range(self.config.concurrency)))
        if errors:  # a bug outranks an expected error: raise it first
            raise next((e for e in errors if not isinstance(e, ReflectlabError)), errors[0])
        if self.abort is not None:
            raise RunAbortedError(self.abort)
        await self.aclose()
        return "budget_exhausted" if self.budget_hit else "completed"

    async def aclose(self) -> None:
        await self.executor.aclose()
        for m in (self.solver, self.critic, self.judge):
            if m is not None:
                await m.aclose()

    async def _job(
        self,
        sem: asyncio.Semaphore,
        spec: StrategySpec,
        params: dict[str, Any],
        label: str,
        fn: Any,
        is_baseline: bool,
        sample: Sample,
        finished: set[tuple[str, str]],
    ) -> None:
        async with sem:
            if self.budget_hit or self.abort:
                return
            key = (label, sample.id)
            result: StrategyResult | None = None
            first_tokens = 0
            if key not in finished:
                record, result, first_tokens = await self._run_one(
                    label,
                    fn,
                    sample,
                    self._budget(params),
                    strategy=(spec.name, params),
                )
                self._done(record)
                if record.errored:
                    return  # baselines sized from a failed attempt would measure nothing
            if is_baseline or self.config.baselines == "none":
                return
            # Compute-matched baselines need the reflection result; reload it when resuming.
            if result is None:
                loaded = self._reload(label, sample)
                if loaded is None:
                    return
                result, first_tokens = loaded
            feedback = spec.params.get("feedback")
            if feedback is None:
                feedback = strategy_info(spec.name).params.get("feedback")
            for name, bparams, budget in matched_baselines(
                result,
                first_call_tokens=first_tokens,
                mode=self.config.baselines,
                feedback=feedback,
            ):
                blabel = baseline_label(name, label)
                if (blabel, sample.id) in finished or self.budget_hit or self.abort:
                    continue
                bfn = get_strategy(name, **bparams)
                record, _, _ = await self._run_one(
                    blabel,
                    bfn,
                    sample,
                    budget,
                    baseline_of=label,
                    budget_mode=self.config.baselines,
                    strategy=(name, bparams),
                )
                self._done(record)

    def _reload(self, label: str, sample: Sample) -> tuple[StrategyResult, int] | None:
        """The compute a finished reflection result used, for sizing baselines on resume."""
        stored = self.store.get_result(self.run_id, label, sample.id)
        if stored is None or stored.errored:
            return None
        detail = stored.detail
        result = StrategyResult(
            final_response=None,
            checkpoints=[],
            stop_reason="reloaded",
            calls=int(detail.get("strategy_calls", stored.calls + stored.cache_hits)),
            tokens=int(
                detail.get("strategy_tokens", stored.prompt_tokens + stored.completion_tokens)
            ),
        )
        return result, int(detail.get("first_call_tokens", 0))

    def _done(self, record: ResultRecord) -> None:
        self.tokens_used += record.prompt_tokens + record.completion_tokens
        self.cost_used += record.cost_usd
        kind = record.error_kind
        if kind in FATAL_ERRORS and self.abort is None:
            self.abort = f"{FATAL_ERRORS[kind]}: {record.error}"
        elif record.stop_reason == "model_error":
            self.model_errors += 1
            if (
                self.abort is None
                and self.ok_calls == 0
                and self.model_errors >= ABORT_AFTER_FIRST_FAILURES
            ):
                self.abort = (
                    f"the first {self.model_errors} samples all failed and no model call has "
                    f"succeeded: {record.error}"
                )
        c = self.config
        if c.budget_tokens is not None and self.tokens_used >= c.budget_tokens:
            self.budget_hit = f"run token budget {c.budget_tokens} reached"
        if c.budget_usd is not None and self.cost_used >= c.budget_usd:
            self.budget_hit = f"run cost budget ${c.budget_usd} reached"
        if self.on_result is not None:
            self.on_result(record)

    async def _score(self, sample: Sample, response: str, cache: dict[str, Score]) -> Score:
        """The gold score of a response. A scorer that could not run (the sandbox would not
        start, ...) gives an unscored result carrying ``details["scoring_error"]``: the sample
        is then errored, never counted as a wrong answer."""
        if response not in cache:
            try:
                cache[response] = await self.task.score(sample, response)
            except StoreError:
                raise
            except ReflectlabError as exc:
                cache[response] = Score(
                    correct=False,
                    reason=f"scoring failed: {type(exc).__name__}: {exc}",
                    details={"scoring_error": type(exc).__name__},
                )
        return cache[response]

    async def _run_one(
        self,
        label: str,
        fn: Any,
        sample: Sample,
        budget: Budget,
        *,
        baseline_of: str | None = None,
        budget_mode: str | None = None,
        strategy: tuple[str, dict[str, Any]] = ("", {}),
    ) -> tuple[ResultRecord, StrategyResult, int]:
        job = StrategyJob(
            run_id=self.run_id,
            label=label,
            name=strategy[0],
            params=strategy[1],
            sample=sample,
            position=self._position.get(sample.id, 0),
            budget=budget,
        )
        start = time.perf_counter()
        result, events = await self.executor.run_strategy(self, job, fn)
        wall = time.perf_counter() - start
        first_tokens = _first_tokens(events)
        scores: dict[str, Score] = {}
        checkpoints = []
        for i, cp in enumerate(result.checkpoints):
            s = await self._score(sample, cp.response, scores)
            checkpoints.append(
                CheckpointRecord(
                    idx=i,
                    round=cp.round,
                    response=cp.response,
                    correct=s.correct,
                    score=s.value,
                    answer=s.answer,
                    reason=s.reason,
                    note=cp.note,
                    calls=cp.calls,
                    tokens=cp.tokens,
                )
            )
        if result.final_response is None:
            final = Score(correct=False, reason=result.error or "no answer produced")
        else:
            final = await self._score(sample, result.final_response, scores)
        error, error_kind = result.error, result.error_kind
        failed_scoring = next((s for s in scores.values() if "scoring_error" in s.details), None)
        if error_kind is None and failed_scoring is not None:
            error_kind = str(failed_scoring.details["scoring_error"])
            error = failed_scoring.reason
        record = ResultRecord(
            run_id=self.run_id,
            strategy=label,
            sample_id=sample.id,
            baseline_of=baseline_of,
            budget_mode=budget_mode,
            final_response=result.final_response,
            final_correct=final.correct and error_kind is None,
            final_answer=final.answer,
            final_reason=final.reason,
            stop_reason=result.stop_reason,
            error=error,
            oracle_assisted=result.oracle_assisted,
            feedback_kinds=result.feedback_kinds,
            wall_s=wall,
            checkpoints=checkpoints,
            detail={
                "feedback": [f.model_dump() for f in result.feedback],
                "oracle_reasons": result.oracle_reasons,
                "notes": result.notes,
                "strategy_calls": result.calls,
                "strategy_tokens": result.tokens,
                "first_call_tokens": first_tokens,
                "call_ids": [e.call_id for e in events],
                "error_kind": error_kind,
            },
        )
        self.ok_calls += sum(e.error is None for e in events)
        self._account(record, events)
        await self.store.asave_result(record)
        return record, result, first_tokens

    def _account(self, record: ResultRecord, events: list[CallEvent]) -> None:
        """Fresh calls and cache hits apart, so totals reconcile with the server's own log.

        A cache hit on a call that this same sample of this strategy already paid for before
        a resume counts as that call. Any other hit (e.g. self_refine's first draft, which is
        the very request ``direct`` made) is a cache hit: the server never saw it twice.
        """
        # This record's own fresh calls; the keys name the record, so no other record of
        # this run can hit them (a run-wide set would only grow with every call).
        paid: set[tuple[str, str, str]] = set()
        for e in events:
            if e.error is not None:
                continue
            key = (record.strategy, record.sample_id, e.request_hash)
            if e.from_cache and key not in self._fresh and key not in paid:
                record.cache_hits += 1
                continue
            record.calls += 1
            record.prompt_tokens += e.usage.prompt_tokens
            record.completion_tokens += e.usage.completion_tokens
            record.cached_tokens += e.usage.cached_tokens
            record.cost_usd += e.usage.cost_usd
            if not e.from_cache:
                paid.add(key)


def make_model(config: RunConfig, name: str, store: Store | None) -> Model:
    """A model of the run: the run's base URL, timeouts and retries, the store as cache and
    call log (``store=None``: only to validate the name and options before a run exists)."""
    options: dict[str, Any] = {}
    models = config.models_file()
    named = models.provider_options(name, concurrency=config.concurrency) if models else {}
    if named:  # a models file's endpoints, each with its own limit and key
        options.update(named)
        entry = models.entry(name) if models else None
        if models and entry is not None and entry.prices is not None:
            options["prices"] = models.add_prices(PriceTable.with_user_prices())
    elif config.base_url and name.startswith("openai/"):
        options["base_url"] = config.base_url
    if not name.startswith("mock/") and not named:
        options["max_connections"] = config.concurrency
    for key in ("timeout_s", "connect_timeout_s", "max_retries"):
        if getattr(config, key) is not None:
            options[key] = getattr(config, key)
    return get_model(
        name,
        cache=store if store is not None and config.use_cache else None,
        recorder=store,
        **options,
    )


def resolved_params(spec: StrategySpec, config: RunConfig) -> dict[str, Any]:
    """The strategy's parameters as it will run: validated, defaults filled in, and the run's
    ``max_rounds`` for a strategy that takes one and was not given its own."""
    info = strategy_info(spec.name)
    params = dict(spec.params)
    if "max_rounds" in info.params and "max_rounds" not in params:
        params["max_rounds"] = config.max_rounds
    return info.validate(params)


def validate_plan(config: RunConfig, task: Task) -> None:
    """Everything about the strategies that can be refused before a run exists: names,
    parameters (type and range), a critic model for critic feedback, and tool feedback on a
    task without a label-free check (a check that reads the gold label is an oracle)."""
    config.labels()
    for name in (config.model, config.critic_model, config.judge_model):
        if name is not None:
            try:  # provider, model name, URL, local weights: before a run exists
                make_model(config, name, None)
            except ModelError as exc:  # e.g. an unknown local model: bad input, not a failure
                raise ConfigError(str(exc)) from exc
    for spec in config.strategies:
        params = resolved_params(spec, config)
        get_strategy(spec.name, **params)
        info = strategy_info(spec.name)
        label = spec.display()
        if (params.get("feedback") == "critic" or info.feedback == ("critic",)) and (
            not config.critic_model
        ):
            raise ConfigError(f"strategy {label!r} uses a critic model: pass --critic-model")
        if info.uses_task_check(params) and task.label_free_check is None:
            raise ConfigError(f"strategy {label!r}: {no_label_free_check(task.name)}")
        if info.needs_training(params) and not task.train_samples():
            raise ConfigError(
                f"strategy {label!r} learns on a training split first: give the task one with "
                "--task-option train=N (its first N samples, never scored) or train_file=PATH"
            )


def _first_tokens(events: list[CallEvent]) -> int:
    ok = [e for e in events if e.error is None]
    return ok[0].usage.total_tokens if ok else 0


def _jobs_per_sample(config: RunConfig) -> int:
    """Strategies plus the compute-matched baselines each reflection strategy brings."""
    jobs = len(config.strategies)
    if config.baselines != "none":
        per = len(
            matched_baselines(
                StrategyResult(final_response=None, checkpoints=[], stop_reason="", calls=1),
                first_call_tokens=0,
                mode=config.baselines,
                feedback=None,
            )
        )
        jobs += per * sum(not strategy_info(s.name).baseline for s in config.strategies)
    return jobs


def engine_defaults(config: RunConfig, task: Task, *, n_samples: int) -> RunConfig:
    """On the embedded engine (``llamacpp/``): concurrency = its slots unless the run set one,
    ``max_tokens`` = the task's ``default_max_tokens`` unless set (stored with the run, so a
    resume sends the same requests), and the estimated duration as one line on stderr."""
    from reflectlab.model.providers.llamacpp import engine_plan

    plan = engine_plan(config.model)
    if plan is None:
        return config
    update: dict[str, Any] = {}
    if "concurrency" not in config.model_fields_set:
        update["concurrency"] = plan.slots
    if config.max_tokens is None:
        update["max_tokens"] = task.default_max_tokens
    config = config.model_copy(update=update) if update else config
    calls = n_samples * _calls_per_sample(config)
    offline = _offline_calls(config, len(task.train_samples()))
    low, high = estimate_seconds(calls + offline, config.max_tokens or 0, plan.gen_tok_s)
    also = f" (+ ~{offline} of offline stages on the training split)" if offline else ""
    print(
        f"estimated {_minutes(low)}–{_minutes(high)} min on {plan.describe()}: ~{calls} calls"
        f"{also} of up to {config.max_tokens} tokens at ~{plan.gen_tok_s:.0f} generated tok/s",
        file=sys.stderr,
    )
    return config


def _offline_calls(config: RunConfig, n_train: int) -> int:
    """Model calls the run's offline stages make at most (once per run, on ``n_train``
    training samples; a stage that declares no count is left out)."""
    total = 0
    for spec in config.strategies:
        info = strategy_info(spec.name)
        params = resolved_params(spec, config)
        stage = info.offline
        if stage is not None and stage.calls is not None and info.needs_training(params):
            total += stage.calls(params, n_train)
    return total


def estimate_seconds(calls: int, max_tokens: int, tok_s: float) -> tuple[float, float]:
    """Bounds of a run's duration: each call generating 40 %..90 % of ``max_tokens`` (small
    models often run to the limit), plus ~10 % for the prompt tokens the cache misses."""
    tokens = calls * max_tokens * 1.1
    return 0.4 * tokens / tok_s, 0.9 * tokens / tok_s


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f}" if seconds >= 90 else f"{seconds / 60:.1f}"


def _calls_per_sample(config: RunConfig) -> int:
    """Model calls one sample costs at most: each strategy's own count from its resolved
    parameters (:meth:`StrategyInfo.max_calls`), and as many again for each compute-matched
    baseline of a reflection strategy."""
    reflection = sum(not strategy_info(s.name).baseline for s in config.strategies)
    extra = (_jobs_per_sample(config) - len(config.strategies)) // max(reflection, 1)
    total = 0
    for spec in config.strategies:
        info = strategy_info(spec.name)
        calls = info.max_calls(resolved_params(spec, config))
        total += calls if info.baseline else calls * (1 + extra)
    return max(total, 1)


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


async def start_run(
    config: RunConfig,
    store: Store,
    *,
    on_result: ProgressHook | None = None,
    on_start: Callable[[RunRecord], None] | None = None,
    shard: Shard | None = None,
    executor: Executor | None = None,
) -> str:
    """Create a run in the store and execute it; return its id.

    Everything that can be refused is refused before the run exists: strategy names and
    parameters, the task file, model names and URLs, tool feedback without a label-free check.

    ``shard``: run only that slice of the samples, under the run id all shards of this
    configuration share (see :mod:`reflectlab.run._shards`; ``reflectlab merge`` joins them).
    """
    labels = config.labels()
    for spec in config.strategies:  # names and parameters first: no file is read for a typo
        resolved_params(spec, config)
    task, samples = load_task(config)
    validate_plan(config, task)
    config = engine_defaults(config, task, n_samples=len(samples))
    run_id = _new_run_id()
    positions, versions = list(range(len(samples))), _versions(config, task)
    if shard is not None:
        run_id, positions = _shard_plan(store, config, shard, len(samples))
        versions["shard"] = shard_versions(
            shard, n_total=len(samples), expected_total=len(samples) * _jobs_per_sample(config)
        )
    whole, samples = samples, [samples[i] for i in positions]
    now = time.time()
    run = RunRecord(
        run_id=run_id,
        created_at=now,
        updated_at=now,
        status="running",
        task=config.task,
        model=config.model,
        strategies=labels,
        n_samples=len(samples),
        n_expected=len(samples) * _jobs_per_sample(config),
        config=config.model_dump(mode="json"),
        versions=versions,
    )
    store.create_run(
        run,
        [
            SampleRecord(
                sample_id=s.id, position=i, input=s.input, target=s.target, metadata=s.metadata
            )
            for i, s in ((i, whole[i]) for i in positions)
        ],
    )
    token = store.acquire_lease(run_id)
    if on_start is not None:
        on_start(run)
    await _execute(store, run_id, token, config, task, samples, on_result, executor=executor)
    return run_id


async def resume_run(
    run_id: str,
    store: Store,
    *,
    on_result: ProgressHook | None = None,
    on_start: Callable[[RunRecord], None] | None = None,
    retry_errors: bool = True,
    executor: Executor | None = None,
    models_file: str | Path | None = None,
) -> str:
    """Continue a run: skip finished samples, reuse finished calls, and (unless
    ``retry_errors=False``) run errored samples again. Refused with
    :class:`~reflectlab.errors.RunLockedError` while another live process runs it.
    ``models_file``: reach the models through this file's endpoints instead of the stored
    ones (only where they are served from; the stored configuration is kept)."""
    run = store.get_run(run_id)
    if run is None:
        raise ConfigError(f"no run {run_id!r} in {store.path} (see `reflectlab runs`)")
    config = RunConfig.model_validate(run.config)
    if models_file is not None:
        config = config.with_models_file(models_file)
    task, samples = load_task(config)
    validate_plan(config, task)
    shard = recorded_shard(run.versions)
    if shard is not None:
        samples = [samples[i] for i in shard.positions(len(samples))]
    stored = [s.sample_id for s in store.run_samples(run.run_id)]
    if [s.id for s in samples] != stored:
        raise ConfigError(
            f"run {run.run_id}: the task {config.task!r} no longer yields the same samples "
            "(was its file changed?); start a new run instead"
        )
    token = store.acquire_lease(run.run_id)
    store.set_run_status(run.run_id, "running")
    if on_start is not None:
        on_start(run)
    await _execute(
        store,
        run.run_id,
        token,
        config,
        task,
        samples,
        on_result,
        retry_errors=retry_errors,
        executor=executor,
    )
    return run.run_id


def _shard_plan(
    store: Store, config: RunConfig, shard: Shard, n_samples: int
) -> tuple[str, list[int]]:
    """The shared run id and the positions of ``shard``; refused when that run is already in
    this store (one store per shard) or the shard would be empty."""
    run_id = sharded_run_id(config)
    positions = shard.positions(n_samples)
    if not positions:
        raise ConfigError(f"shard {shard} of {n_samples} samples has no sample; use fewer shards")
    if store.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
        raise ConfigError(
            f"run {run_id} (a shard of this configuration) is already in {store.path}: give "
            f"each shard its own --db, or continue it with `reflectlab resume {run_id}`"
        )
    return run_id, positions


async def _hold_lease(store: Store, run_id: str, token: str, main: asyncio.Task[str]) -> None:
    """Heartbeat the run's lease; if another process took it, stop this runner."""
    while not main.done():
        await asyncio.sleep(HEARTBEAT_S)
        if not store.heartbeat(run_id, token):
            main.cancel(f"lease of run {run_id} was taken over by another process")
            return


async def _execute(
    store: Store,
    run_id: str,
    token: str,
    config: RunConfig,
    task: Task,
    samples: list[Sample],
    on_result: ProgressHook | None,
    *,
    retry_errors: bool = True,
    executor: Executor | None = None,
) -> None:
    runner = Runner(
        store,
        run_id,
        config,
        task,
        samples,
        on_result,
        retry_errors=retry_errors,
        executor=executor,
    )
    main = asyncio.ensure_future(runner.run())
    keeper = asyncio.ensure_future(_hold_lease(store, run_id, token, main))
    try:
        try:
            status = await main
        except asyncio.CancelledError:
            lost = store.lease(run_id)
            if not keeper.done() or lost is None or lost.token == token:
                raise
            raise RunLockedError(
                f"run {run_id}: process {lost.pid} on {lost.host} took the run over; this "
                "process stopped (its finished samples are kept)"
            ) from None
    except (asyncio.CancelledError, KeyboardInterrupt):
        _set_status(store, run_id, "interrupted")
        await runner.aclose()
        raise
    except BaseException as exc:
        _set_status(store, run_id, "failed", error=f"{type(exc).__name__}: {exc}")
        await runner.aclose()
        raise
    finally:
        keeper.cancel()
        with contextlib.suppress(StoreError):
            store.release_lease(run_id, token)
    done = store.get_run(run_id)
    if status == "completed" and done is not None:
        store.update_run_expected(run_id, done.n_done)
    store.set_run_status(run_id, status, error=runner.budget_hit)
    if status == "budget_exhausted":
        print(f"run {run_id}: {runner.budget_hit}; stopped early", file=sys.stderr)


def _set_status(store: Store, run_id: str, status: str, error: str | None = None) -> None:
    """Record how the run ended, if the store still can: a broken store must not hide the
    error that ended the run behind its own."""
    with contextlib.suppress(StoreError):
        store.set_run_status(run_id, status, error=error)
