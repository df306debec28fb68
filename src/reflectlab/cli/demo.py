"""``reflectlab demo``: a small real comparison on the embedded offline model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import console, open_store
from reflectlab.cli._runview import print_summary, run_with_progress
from reflectlab.run import RunConfig, StrategySpec, start_run

DEMO_STRATEGIES = ("direct", "self_consistency", "self_refine")


@app.command()
def demo(
    model: Annotated[
        str, typer.Option("--model", "-m", help="provider/model (default: the embedded model).")
    ] = "llamacpp/default",
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many word problems.")] = 8,
    baselines: Annotated[
        str,
        typer.Option(
            "--baselines",
            help="Compute-matched baselines for self_refine: equal-calls | equal-tokens | none.",
        ),
    ] = "none",
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Run direct, self_consistency and self_refine on built-in arithmetic word problems with
    the embedded model (no network), and print accuracy, flips per round and cost."""
    config = RunConfig(
        task="arith",
        strategies=[StrategySpec(name=s) for s in DEMO_STRATEGIES],
        model=model,
        limit=limit,
        seed=0,
        concurrency=4,
        max_rounds=2,
        max_tokens=192,
        baselines=baselines,  # type: ignore[arg-type]
    )
    console.print(
        f"reflectlab demo: {', '.join(DEMO_STRATEGIES)} on {limit} arithmetic word problems "
        f"with {model} (offline).\nSmall models are weak critics: watch the right->wrong flips."
    )
    store = open_store(db)
    run_id = run_with_progress(
        lambda on_result, on_start: start_run(
            config, store, on_result=on_result, on_start=on_start
        ),
        quiet=False,
    )
    print_summary(store, run_id, as_json=False)
    console.print(
        "\nNext steps:\n"
        f"  reflectlab report {run_id} -o report.html     # the HTML report and trace viewer\n"
        "  reflectlab run --task gsm8k:PATH/test.jsonl --strategy direct,self_refine,critic \\\n"
        "      --model openai/<model> --base-url http://localhost:8000/v1 --limit 200\n"
        "  (any OpenAI-compatible server: vLLM, llama.cpp server, Ollama, OpenAI)"
    )
