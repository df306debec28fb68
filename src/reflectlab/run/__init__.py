"""The experiment runner: tasks x strategies x models, durable in the store, resumable.

Example::

    from reflectlab.run import RunConfig, StrategySpec, run_experiment
    config = RunConfig(task="arith", strategies=[StrategySpec(name="direct"),
                       StrategySpec(name="self_refine")], model="llamacpp/default", limit=20)
    run_id = run_experiment(config)
"""

from __future__ import annotations

import asyncio
from typing import Any

from reflectlab.run._baselines import MATCHED_BASELINES, matched_baselines
from reflectlab.run._compare_runs import RunComparison, StrategyRunComparison, compare_runs
from reflectlab.run._config import BaselineMode, RunConfig, StrategySpec
from reflectlab.run._export import (
    EXPORT_FORMATS,
    EXPORT_KINDS,
    ExportFormat,
    ExportKind,
    export_columns,
    export_rows,
    export_run,
    export_text,
)
from reflectlab.run._offline import offline_stages_json
from reflectlab.run._runner import Runner, load_task, resume_run, start_run
from reflectlab.run._summary import (
    get_run_or_fail,
    outcome_from_result,
    summarize_stored_run,
    summary_json,
)
from reflectlab.store import Store

__all__ = [
    "EXPORT_FORMATS",
    "EXPORT_KINDS",
    "MATCHED_BASELINES",
    "BaselineMode",
    "ExportFormat",
    "ExportKind",
    "RunComparison",
    "RunConfig",
    "Runner",
    "StrategyRunComparison",
    "StrategySpec",
    "compare_runs",
    "export_columns",
    "export_rows",
    "export_run",
    "export_text",
    "get_run_or_fail",
    "load_task",
    "matched_baselines",
    "offline_stages_json",
    "outcome_from_result",
    "resume_run",
    "run_experiment",
    "start_run",
    "summarize_stored_run",
    "summary_json",
]


def run_experiment(config: RunConfig, store: Store | None = None, **kwargs: Any) -> str:
    """Blocking wrapper over :func:`start_run` for scripts; returns the run id."""
    return asyncio.run(start_run(config, store or Store(), **kwargs))
