"""``reflectlab alt-test``: may an LLM replace the human annotators? (Calderon et al., ACL 2025)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import console, print_json
from reflectlab.errors import ConfigError
from reflectlab.judge.alt_test import (
    EPSILON_PRESETS,
    AltTestMetric,
    AltTestResult,
    alt_test,
    load_alt_test_inputs,
)

_METRICS: dict[str, AltTestMetric] = {"accuracy": "accuracy", "rmse": "neg_rmse"}


@app.command("alt-test")
def alt_test_command(
    humans: Annotated[Path, typer.Option("--humans", help="JSON {annotator: {instance: label}}.")],
    llm: Annotated[
        Path,
        typer.Option("--llm", help="JSON {instance: label} (or {llm: {instance: label}})."),
    ],
    epsilon: Annotated[
        str,
        typer.Option(
            "--epsilon",
            help="The LLM's cost-benefit allowance: a number in [0, 1) or expert (0.2), "
            "skilled (0.15), crowd (0.1).",
        ),
    ],
    metric: Annotated[
        str, typer.Option("--metric", help="accuracy (labels) | rmse (numeric scores)")
    ] = "accuracy",
    q: Annotated[float, typer.Option("--q", help="FDR level of Benjamini-Yekutieli.")] = 0.05,
    min_instances: Annotated[
        int, typer.Option("--min-instances", help="Instances an annotator needs to be tested.")
    ] = 30,
    llm_name: Annotated[
        str | None, typer.Option("--llm-name", help="Which LLM, if the file holds several.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = (
        False
    ),
) -> None:
    """Run the alt-test: the LLM passes when it beats (or ties within epsilon) at least half of
    the human annotators, each left out in turn, with Benjamini-Yekutieli FDR control."""
    if metric not in _METRICS:
        raise ConfigError(f"unknown --metric {metric!r}; use accuracy or rmse")
    human_labels, llm_labels = load_alt_test_inputs(humans, llm, llm_name=llm_name)
    result = alt_test(
        human_labels,
        llm_labels,
        epsilon=parse_epsilon(epsilon),
        q=q,
        metric=_METRICS[metric],
        min_instances=min_instances,
    )
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        _print_result(result)


def parse_epsilon(text: str) -> float:
    """A number, or a preset name (expert, skilled, crowd)."""
    if text in EPSILON_PRESETS:
        return EPSILON_PRESETS[text]
    try:
        return float(text)
    except ValueError:
        raise ConfigError(
            f"--epsilon must be a number or one of {', '.join(EPSILON_PRESETS)}, got {text!r}"
        ) from None


def _print_result(result: AltTestResult) -> None:
    decision = "PASSED" if result.passed else "FAILED"
    console.print(
        f"alt-test {decision}: winning rate {result.winning_rate:.3f} (pass >= 0.5), "
        f"advantage probability {result.advantage_probability:.3f}; epsilon {result.epsilon}, "
        f"q {result.q}, metric {result.metric}, {result.n_instances} instances"
    )
    table = Table("annotator", "n", "mean d", "p-value", "BY threshold", "rejected", "LLM wins")
    for a in result.per_annotator:
        table.add_row(
            escape(a.annotator),
            str(a.n),
            f"{a.mean_d:.3f}",
            f"{a.p_value:.4g}",
            f"{a.by_threshold:.4g}",
            "yes" if a.rejected else "no",
            f"{a.advantage_rate:.3f}",
        )
    console.print(table)
    for skipped in result.skipped_annotators:
        console.print(f"not tested: {escape(skipped.annotator)} ({skipped.n} usable instances)")
