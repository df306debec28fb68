"""``reflectlab run``: strategies x task x model, with compute-matched baselines."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import open_store
from reflectlab.cli._runview import exit_for_errors, print_summary, run_with_progress
from reflectlab.errors import ConfigError
from reflectlab.run import RunConfig, StrategySpec, start_run, summary_json
from reflectlab.run._config import read_config_file
from reflectlab.run._executors import make_executor
from reflectlab.run._shards import Shard


def parse_strategies(text: str) -> list[StrategySpec]:
    """``direct,self_refine:feedback=critic``; commas separate strategies."""
    specs = [StrategySpec.parse(part) for part in text.split(",") if part.strip()]
    if not specs:
        raise ConfigError(
            "--strategy needs at least one strategy name (see `reflectlab strategies`)"
        )
    return specs


def parse_task_options(options: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for opt in options:
        key, sep, value = opt.partition("=")
        if not sep or not key:
            raise ConfigError(f"--task-option {opt!r} must look like key=value")
        out[key.replace("-", "_")] = value
    return out


#: ``reflectlab run --config FILE``: where the callback leaves the file's path and content.
CONFIG_META_KEY = "reflectlab.config_file"


def _file_value(path: Path, key: str, value: Any, multiple: bool) -> Any:
    """A TOML value as the option would take it from the command line."""
    if key == "strategy" and isinstance(value, list):
        return ",".join(str(v) for v in value)
    if key == "task_option" and isinstance(value, dict):
        return [f"{k}={v}" for k, v in value.items()]
    if multiple:
        return value if isinstance(value, list) else [value]
    if isinstance(value, dict | list):
        raise ConfigError(f"--config {path}: {key} must be a single value, not {value!r}")
    return value


def _load_config(click_ctx: typer.Context, param: Any, path: Path | None) -> Path | None:
    """Eager: read the file into the command's defaults, so every flag given beside it wins.
    Keys are the long flag names (``max-tokens`` or ``max_tokens``; also ``strategies`` as a
    list, ``task_options`` as a table, ``compare_to``)."""
    if path is None:
        return None
    content = read_config_file(path)
    by_flag: dict[str, Any] = {}
    for p in click_ctx.command.params:
        for opt in getattr(p, "opts", []):
            if opt.startswith("--") and p.name not in ("config_file", "help"):
                by_flag[opt[2:].replace("-", "_")] = p
    aliases = {"strategies": "strategy", "task_options": "task_option"}
    defaults: dict[str, Any] = {}
    for raw_key, value in content.items():
        key = raw_key.replace("-", "_")
        key = aliases.get(key, key)
        target = by_flag.get(key)
        if target is None or target.name is None:
            known = ", ".join(sorted(by_flag))
            raise ConfigError(f"--config {path}: unknown key {raw_key!r} (known keys: {known})")
        multiple = bool(getattr(target, "multiple", False))
        defaults[target.name] = _file_value(path, key, value, multiple)
    click_ctx.default_map = {**(click_ctx.default_map or {}), **defaults}
    click_ctx.meta[CONFIG_META_KEY] = {"path": str(path), "content": content}
    return path


def _llamacpp_options(
    config: RunConfig, threads: int | None, ctx: int | None, click_ctx: typer.Context
) -> RunConfig:
    """Engine settings go to the environment the embedded provider reads; without an explicit
    --concurrency the run takes the engine's slots (see ``engine_defaults``)."""
    for env, value in (("REFLECTLAB_LLAMACPP_THREADS", threads), ("REFLECTLAB_LLAMACPP_CTX", ctx)):
        if value is not None:
            os.environ[env] = str(value)
    source = click_ctx.get_parameter_source("concurrency")
    if source is not None and source.name == "DEFAULT":
        return RunConfig.model_validate(config.model_dump(exclude={"concurrency"}))
    return config


@app.command()
def run(
    click_ctx: typer.Context,
    task: Annotated[
        str,
        typer.Option(
            "--task",
            "-t",
            help="Built-in name (arith, knights, "
            "constraints, code) or gsm8k:PATH, humaneval:PATH, "
            "ifeval:PATH, jsonl:PATH, csv:PATH.",
        ),
    ],
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="Comma-separated; parameters as name:key=value.")
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="provider/model")],
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file of the same options (keys as the flags: task, strategy, model, "
            "max_tokens, task_options = {...}, ...); flags given beside it override it. "
            "Stored with the run.",
            is_eager=True,
            callback=_load_config,
        ),
    ] = None,
    critic_model: Annotated[
        str | None,
        typer.Option(
            "--critic-model",
            help="provider/model that critiques (feedback=critic, dual_model, mad's judge).",
        ),
    ] = None,
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge-model", help="provider/model that judges (best_of_n's judge selector)."
        ),
    ] = None,
    base_url: Annotated[
        list[str] | None,
        typer.Option(
            "--base-url",
            envvar="OPENAI_BASE_URL",
            help="http(s) URL of an OpenAI-compatible server for openai/ models, "
            "e.g. http://localhost:8000/v1. Repeat it for several replicas of the model: "
            "requests are balanced, a failing one is taken out and retried later.",
        ),
    ] = None,
    models_file: Annotated[
        Path | None,
        typer.Option(
            "--models-file",
            envvar="REFLECTLAB_MODELS_FILE",
            help="TOML file mapping model names to their endpoints (base URLs, concurrency "
            "and API-key variable per endpoint, prices); the models it names use those "
            "endpoints instead of --base-url. Stored with the run.",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="Only the first N samples.")
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of generated tasks and of the bootstrap.")
    ] = 0,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", "-c", min=1, max=4096, help="Samples (and requests) in flight."
        ),
    ] = 8,
    max_rounds: Annotated[
        int,
        typer.Option(
            "--max-rounds",
            min=0,
            max=50,
            help="Rounds for strategies that take max_rounds and were not given their own "
            "(a strategy's own max_rounds=K is honoured).",
        ),
    ] = 3,
    max_tokens: Annotated[
        int | None, typer.Option("--max-tokens", min=1, help="Per model call.")
    ] = None,
    temperature: Annotated[
        float | None,
        typer.Option(
            "--temperature", min=0.0, max=2.0, help="Solver temperature (default: the server's)."
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.001,
            help="Seconds per request attempt (env REFLECTLAB_TIMEOUT; default 120, "
            "600 for llamacpp/).",
        ),
    ] = None,
    connect_timeout: Annotated[
        float | None,
        typer.Option(
            "--connect-timeout",
            min=0.001,
            help="Seconds to connect (env REFLECTLAB_CONNECT_TIMEOUT; default 10).",
        ),
    ] = None,
    max_retries: Annotated[
        int | None,
        typer.Option(
            "--max-retries",
            min=0,
            max=49,
            help="Retries of a failed call (env REFLECTLAB_MAX_RETRIES; default 5).",
        ),
    ] = None,
    budget_tokens: Annotated[
        int | None, typer.Option("--budget-tokens", min=1, help="Whole-run token budget.")
    ] = None,
    budget_usd: Annotated[
        float | None,
        typer.Option("--budget-usd", min=0.0, help="Whole-run cost budget in USD."),
    ] = None,
    sample_budget_tokens: Annotated[
        int | None,
        typer.Option(
            "--sample-budget-tokens", min=1, help="Token budget of one strategy on one sample."
        ),
    ] = None,
    baselines: Annotated[
        str, typer.Option("--baselines", help="equal-calls | equal-tokens | none")
    ] = "equal-calls",
    task_option: Annotated[
        list[str] | None,
        typer.Option(
            "--task-option",
            help="key=value for the task loader, repeatable (e.g. input_field=question).",
        ),
    ] = None,
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="TOML file of prompt overrides, a table per strategy "
            '([self_refine] FEEDBACK_PROMPT = "..."); names: `reflectlab strategies show NAME`.',
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--compare-to", help="Strategy every other is compared with (default: direct)."
        ),
    ] = None,
    llamacpp_threads: Annotated[
        int | None,
        typer.Option(
            "--llamacpp-threads",
            min=1,
            envvar="REFLECTLAB_LLAMACPP_THREADS",
            help="Embedded engine threads (default: one core left free, 1 on 2 CPUs).",
        ),
    ] = None,
    llamacpp_ctx: Annotated[
        int | None,
        typer.Option(
            "--llamacpp-ctx",
            min=64,
            envvar="REFLECTLAB_LLAMACPP_CTX",
            help="Embedded engine context per slot, in tokens (default: the model's "
            "training context up to 8192).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Also write the --json summary to this file."),
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Store path.")] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="I/N: run only the samples at positions p with p % N == I (0 <= I < N), "
            "each shard into its own --db; `reflectlab merge` joins the shards into one run.",
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="local (this process) or ray: samples sharded over Ray workers, the store "
            "written here (pip install 'reflectlab[ray]').",
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option("--ray-address", help="Ray cluster to join (default: start a local Ray)."),
    ] = None,
) -> None:
    """Run strategies on a task with a model; print accuracy per round, flips, cost and
    paired tests against the baseline and compute-matched baselines.

    Exit status: 0 every sample scored; 3 some samples errored (listed; `reflectlab resume`
    retries them); 1 the run failed or was aborted; 2 bad input (nothing ran)."""
    if baselines not in ("equal-calls", "equal-tokens", "none"):
        raise ConfigError(
            f"--baselines must be equal-calls, equal-tokens or none, not {baselines!r}"
        )
    config = RunConfig(
        task=task,
        task_options=parse_task_options(task_option or []),
        strategies=parse_strategies(strategy),
        model=model,
        critic_model=critic_model,
        judge_model=judge_model,
        base_url=",".join(base_url) if base_url else None,
        limit=limit,
        seed=seed,
        concurrency=concurrency,
        max_rounds=max_rounds,
        max_tokens=max_tokens,
        temperature=temperature,
        timeout_s=timeout,
        connect_timeout_s=connect_timeout,
        max_retries=max_retries,
        budget_tokens=budget_tokens,
        budget_usd=budget_usd or None,
        sample_budget_tokens=sample_budget_tokens,
        baselines=baselines,  # type: ignore[arg-type]
        config_file=click_ctx.meta.get(CONFIG_META_KEY),
    )
    if prompts is not None:
        config = config.with_prompts_file(prompts)
    if models_file is not None:
        config = config.with_models_file(models_file)
    config = _llamacpp_options(config, llamacpp_threads, llamacpp_ctx, click_ctx)
    shard_spec = Shard.parse(shard) if shard is not None else None
    runs_on = make_executor(executor, ray_address=ray_address)
    store = open_store(db)
    run_id = run_with_progress(
        lambda on_result, on_start: start_run(
            config,
            store,
            on_result=on_result,
            on_start=on_start,
            shard=shard_spec,
            executor=runs_on,
        ),
        quiet=quiet,
    )
    record, summary = print_summary(store, run_id, as_json=as_json, baseline=baseline)
    if output is not None:
        text = json.dumps(summary_json(record, summary), indent=2, ensure_ascii=False, default=str)
        output.write_text(text + "\n", encoding="utf-8")
    exit_for_errors(summary, run_id)
