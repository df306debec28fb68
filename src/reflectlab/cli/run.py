"""``reflectlab run``: strategies x task x model, with compute-matched baselines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import open_store
from reflectlab.cli._runview import exit_for_errors, print_summary, run_with_progress
from reflectlab.errors import ConfigError
from reflectlab.run import RunConfig, StrategySpec, start_run
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


@app.command()
def run(
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
    baseline: Annotated[
        str | None,
        typer.Option(
            "--compare-to", help="Strategy every other is compared with (default: direct)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    db: Annotated[Path | None, typer.Option("--db", help="Store path.")] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            help="I/N: run only the samples at positions p with p % N == I (0 <= I < N), "
            "each shard into its own --db; `reflectlab merge` joins the shards into one run.",
        ),
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
    )
    shard_spec = Shard.parse(shard) if shard is not None else None
    store = open_store(db)
    run_id = run_with_progress(
        lambda on_result, on_start: start_run(
            config, store, on_result=on_result, on_start=on_start, shard=shard_spec
        ),
        quiet=quiet,
    )
    print_summary(store, run_id, as_json=as_json, baseline=baseline)
    exit_for_errors(store, run_id)
