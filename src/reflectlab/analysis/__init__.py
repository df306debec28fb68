"""Honest statistics over scored runs: pure functions, no model calls, no store access.

The runner turns stored results into :class:`Outcome` objects (one per strategy and sample)
and calls :func:`summarize_run`; the CLI prints its ``model_dump()`` or renders it with
:func:`render_summary`, and the HTML report reads the same shape.

- accuracy with a Wilson interval; accuracy and right/wrong flips per round, carrying a sample
  that stopped early forward (:func:`accuracy_by_round`, :func:`flips_by_round`);
- paired comparisons on the same samples: exact McNemar, paired bootstrap interval of the
  difference, Holm across the comparisons made together (:func:`compare`);
- tokens, cost and cost per correct answer; provenance (``ORACLE-ASSISTED`` whenever a gold
  label was used) on every summary and comparison.

Example::

    from reflectlab.analysis import Outcome, render_summary, summarize_run
    summary = summarize_run(outcomes)          # baseline "direct" when present
    console.print(*render_summary(summary))
"""

from reflectlab.analysis._compare import compare, compare_pairs, verdict_sentence
from reflectlab.analysis._render import comparisons_table, render_summary, strategies_table
from reflectlab.analysis._rounds import (
    accuracy_by_round,
    correct_at_round,
    flips_by_round,
    flips_first_to_final,
    n_rounds,
)
from reflectlab.analysis._stats import (
    holm_adjust,
    mcnemar_exact,
    paired_bootstrap_ci,
    wilson_interval,
)
from reflectlab.analysis._summary import (
    DEFAULT_BASELINE,
    group_by_strategy,
    provenance_label,
    summarize_run,
    summarize_strategy,
)
from reflectlab.analysis._types import (
    Comparison,
    FlipCounts,
    Outcome,
    RunSummary,
    StrategySummary,
)

__all__ = [
    "DEFAULT_BASELINE",
    "Comparison",
    "FlipCounts",
    "Outcome",
    "RunSummary",
    "StrategySummary",
    "accuracy_by_round",
    "compare",
    "compare_pairs",
    "comparisons_table",
    "correct_at_round",
    "flips_by_round",
    "flips_first_to_final",
    "group_by_strategy",
    "holm_adjust",
    "mcnemar_exact",
    "n_rounds",
    "paired_bootstrap_ci",
    "provenance_label",
    "render_summary",
    "strategies_table",
    "summarize_run",
    "summarize_strategy",
    "verdict_sentence",
    "wilson_interval",
]
