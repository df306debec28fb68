"""Vega-Lite specifications of the report's plots, built from a :class:`RunSummary`.

The specs are plain data (the data values are inlined), so they can be checked in tests
without a browser; the report compiles and draws them with the vendored Vega-Lite and Vega.
Colours carry meaning: right->wrong is always the warning colour, and an oracle-assisted
strategy is outlined in it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reflectlab.analysis import StrategySummary

__all__ = [
    "FLIP_COLOURS",
    "WARNING_COLOUR",
    "accuracy_by_round_chart",
    "accuracy_chart",
    "build_charts",
    "cost_chart",
    "flips_chart",
    "strategy_rows",
]

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"  # an identifier only; never fetched
WARNING_COLOUR = "#d9480f"
#: Flip kinds in stacking order (bottom first) with their colours.
FLIP_COLOURS: dict[str, str] = {
    "right→wrong": WARNING_COLOUR,
    "wrong→right": "#2b8a3e",
    "right→right": "#b2f2bb",
    "wrong→wrong": "#ced4da",
}
_THE_STRATEGY = "the strategy itself"


def _series(s: StrategySummary) -> str:
    if s.baseline_of:
        return f"{s.name.split('@', 1)[0]} (matched)"
    return _THE_STRATEGY


def strategy_rows(strategies: Sequence[StrategySummary]) -> list[dict[str, Any]]:
    """One data row per strategy, shared by the accuracy and cost charts."""
    rows = []
    for s in strategies:
        rows.append(
            {
                "strategy": s.name,
                "group": s.baseline_of or s.name,
                "series": _series(s),
                "accuracy": s.accuracy,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
                "n": s.n,
                "correct": s.correct,
                "tokens_per_sample": s.tokens_per_sample,
                "usd_per_sample": s.cost_usd / s.n if s.n else 0.0,
                "cost_usd": s.cost_usd,
                "provenance": s.provenance,
                "oracle": s.oracle_assisted,
                "budget_mode": s.budget_mode or "",
            }
        )
    return rows


def _tooltip() -> list[dict[str, Any]]:
    return [
        {"field": "strategy", "type": "nominal"},
        {"field": "accuracy", "type": "quantitative", "format": ".3f"},
        {"field": "ci_low", "type": "quantitative", "format": ".3f", "title": "CI low"},
        {"field": "ci_high", "type": "quantitative", "format": ".3f", "title": "CI high"},
        {"field": "n", "type": "quantitative"},
        {"field": "tokens_per_sample", "type": "quantitative", "format": ",.0f"},
        {"field": "usd_per_sample", "type": "quantitative", "format": "$.6f"},
        {"field": "provenance", "type": "nominal"},
        {"field": "budget_mode", "type": "nominal", "title": "matched at"},
    ]


def _series_order(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys([_THE_STRATEGY, *(r["series"] for r in rows)]))


def accuracy_chart(strategies: Sequence[StrategySummary], confidence: float) -> dict[str, Any]:
    """Accuracy bars with their interval, each reflection strategy's compute-matched
    baselines beside it (grouped by the strategy they are matched to)."""
    rows = strategy_rows(strategies)
    groups = list(dict.fromkeys(r["group"] for r in rows))
    series = _series_order(rows)
    x = {"field": "group", "type": "nominal", "sort": groups, "title": None}
    x_axis = {"labelAngle": -20, "labelLimit": 240}
    return {
        "$schema": SCHEMA,
        "title": {
            "text": "Accuracy, with compute-matched baselines beside each strategy",
            "subtitle": f"bars: accuracy; lines: {confidence * 100:g}% Wilson interval"
            + ("; orange outline: ORACLE-ASSISTED" if any(r["oracle"] for r in rows) else ""),
        },
        "data": {"values": rows},
        # The figure's width: the plot follows the page down to a phone's (the viewer puts
        # the legend below it on a narrow screen).
        "width": "container",
        "height": 260,
        "encoding": {
            "x": {**x, "axis": x_axis},
            "xOffset": {"field": "series", "type": "nominal", "sort": series},
        },
        "layer": [
            {
                "mark": {"type": "bar", "strokeWidth": 2},
                "encoding": {
                    "y": {
                        "field": "accuracy",
                        "type": "quantitative",
                        "scale": {"domain": [0, 1]},
                        "title": "accuracy",
                    },
                    "color": {
                        "field": "series",
                        "type": "nominal",
                        "sort": series,
                        "title": None,
                        "scale": {"scheme": "tableau10"},
                    },
                    "stroke": {
                        "condition": {"test": "datum.oracle", "value": WARNING_COLOUR},
                        "value": None,
                    },
                    "tooltip": _tooltip(),
                },
            },
            {
                "mark": {"type": "rule", "color": "#212529", "strokeWidth": 1.5},
                "encoding": {
                    "y": {"field": "ci_low", "type": "quantitative"},
                    "y2": {"field": "ci_high"},
                    "tooltip": _tooltip(),
                },
            },
        ],
    }


def _cost_panel(
    rows: list[dict[str, Any]], field: str, title: str, fmt: str, groups: list[str]
) -> dict[str, Any]:
    x = {"field": field, "type": "quantitative", "title": title, "axis": {"format": fmt}}
    y = {
        "field": "accuracy",
        "type": "quantitative",
        "title": "accuracy",
        "scale": {"zero": False},
        "axis": {"format": ".2f"},
    }
    return {
        "width": 340,
        "height": 260,
        "layer": [
            {
                "mark": {"type": "rule", "strokeWidth": 1.5},
                "encoding": {
                    "x": x,
                    "y": {"field": "ci_low", "type": "quantitative"},
                    "y2": {"field": "ci_high"},
                    "color": {"field": "group", "type": "nominal", "sort": groups},
                },
            },
            {
                "mark": {"type": "point", "filled": True, "size": 90, "opacity": 1},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": {
                        "field": "group",
                        "type": "nominal",
                        "sort": groups,
                        "title": "strategy (and its matched baselines)",
                    },
                    "shape": {"field": "series", "type": "nominal", "title": None},
                    "stroke": {
                        "condition": {"test": "datum.oracle", "value": WARNING_COLOUR},
                        "value": None,
                    },
                    "tooltip": _tooltip(),
                },
            },
            {
                "transform": [{"filter": f"datum.series == '{_THE_STRATEGY}'"}],
                "mark": {"type": "text", "align": "left", "dx": 8, "fontSize": 10},
                "encoding": {"x": x, "y": y, "text": {"field": "strategy"}},
            },
        ],
    }


def cost_chart(strategies: Sequence[StrategySummary], with_usd: bool) -> dict[str, Any]:
    """Accuracy against tokens per sample (and USD per sample when prices were known), with
    the interval as a vertical line; a strategy's matched baselines share its colour."""
    rows = strategy_rows(strategies)
    groups = list(dict.fromkeys(r["group"] for r in rows))
    panels = [_cost_panel(rows, "tokens_per_sample", "tokens per sample", "~s", groups)]
    if with_usd:
        panels.append(_cost_panel(rows, "usd_per_sample", "USD per sample", "$.2~g", groups))
    return {
        "$schema": SCHEMA,
        "title": {
            "text": "Accuracy vs cost",
            "subtitle": "up and to the left is better; vertical lines: interval",
        },
        "data": {"values": rows},
        "hconcat": panels,
        "resolve": {"scale": {"color": "shared", "shape": "shared"}},
    }


def accuracy_by_round_chart(strategies: Sequence[StrategySummary]) -> dict[str, Any] | None:
    """Accuracy after each round (0 = first draft) for strategies with more than one round."""
    rows = [
        {
            "strategy": s.name,
            "round": k,
            "accuracy": acc,
            "provenance": s.provenance,
            "line": "matched baseline" if s.baseline_of else "strategy",
        }
        for s in strategies
        if len(s.accuracy_by_round) > 1
        for k, acc in enumerate(s.accuracy_by_round)
    ]
    if not rows:
        return None
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    return {
        "$schema": SCHEMA,
        "title": {
            "text": "Accuracy by round",
            "subtitle": "dashed: a compute-matched baseline; a sample that stopped early keeps "
            "its last answer in later rounds",
        },
        "data": {"values": rows},
        "width": "container",
        "height": 260,
        "mark": {"type": "line", "point": {"size": 60}},
        "encoding": {
            "x": {
                "field": "round",
                "type": "ordinal",
                "title": "round (0 = first draft)",
                "axis": {"labelAngle": 0},
            },
            "y": {
                "field": "accuracy",
                "type": "quantitative",
                "scale": {"zero": False},
                "title": "accuracy",
                "axis": {"format": ".2f"},
            },
            "color": {"field": "strategy", "type": "nominal", "sort": names},
            # Dashed baselines let a strategy's line show through one with the same values.
            "strokeDash": {
                "field": "line",
                "type": "nominal",
                "title": None,
                "scale": {"domain": ["strategy", "matched baseline"], "range": [[1, 0], [6, 4]]},
                "legend": None,
            },
            "tooltip": [
                {"field": "strategy", "type": "nominal"},
                {"field": "round", "type": "ordinal"},
                {"field": "accuracy", "type": "quantitative", "format": ".3f"},
                {"field": "provenance", "type": "nominal"},
            ],
        },
    }


def _transition_order(label: str) -> tuple[int, ...]:
    """Rounds in order ("0→1", "1→2", ... "10→11"), the "draft→final" total last."""
    rounds = [int(part) for part in label.split("→") if part.isdigit()]
    return (0, *rounds) if len(rounds) == 2 else (1,)


def flips_chart(strategies: Sequence[StrategySummary]) -> dict[str, Any] | None:
    """Answer flips per round as stacked bars, one panel per strategy, right->wrong in the
    warning colour at the bottom of each stack so broken answers are never hidden."""
    rows: list[dict[str, Any]] = []
    transitions: list[str] = []
    order = {kind: k for k, kind in enumerate(FLIP_COLOURS)}
    for s in strategies:
        if not s.flips_by_round:
            continue
        for f in [*s.flips_by_round, s.flips_total]:
            transitions.append(f.label)
            counts = {
                "right→wrong": f.right_wrong,
                "wrong→right": f.wrong_right,
                "right→right": f.right_right,
                "wrong→wrong": f.wrong_wrong,
            }
            for kind, count in counts.items():
                rows.append(
                    {
                        "strategy": s.name,
                        "transition": f.label,
                        "flip": kind,
                        "count": count,
                        "order": order[kind],
                        "net": f.net,
                    }
                )
    if not rows:
        return None
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    return {
        "$schema": SCHEMA,
        "title": {
            "text": "Answer flips per round",
            "subtitle": "right→wrong: reflection broke a right answer; wrong→right: it fixed one",
        },
        "data": {"values": rows},
        "facet": {"field": "strategy", "type": "nominal", "sort": names, "title": None},
        "columns": 3,
        "spec": {
            "width": 220,
            "height": 180,
            "mark": "bar",
            "encoding": {
                "x": {
                    "field": "transition",
                    "type": "ordinal",
                    "sort": sorted(set(transitions), key=_transition_order),
                    "title": "rounds",
                    "axis": {"labelAngle": 0},
                },
                "y": {
                    "field": "count",
                    "type": "quantitative",
                    "stack": "zero",
                    "title": "samples",
                },
                "color": {
                    "field": "flip",
                    "type": "nominal",
                    "title": "answer moved",
                    "scale": {"domain": list(FLIP_COLOURS), "range": list(FLIP_COLOURS.values())},
                },
                "order": {"field": "order", "type": "quantitative"},
                "tooltip": [
                    {"field": "strategy", "type": "nominal"},
                    {"field": "transition", "type": "ordinal", "title": "rounds"},
                    {"field": "flip", "type": "nominal"},
                    {"field": "count", "type": "quantitative"},
                    {"field": "net", "type": "quantitative", "title": "net (fixed - broken)"},
                ],
            },
        },
        "resolve": {"scale": {"x": "independent"}},
    }


def build_charts(
    strategies: Sequence[StrategySummary], confidence: float
) -> dict[str, dict[str, Any]]:
    """Every chart that has something to show, by the id of the element that holds it.
    Strategies without gold answers (``scored`` false) have no accuracy to plot."""
    strategies = [s for s in strategies if s.scored]
    with_usd = any(s.cost_usd > 0 for s in strategies)
    charts: dict[str, dict[str, Any] | None] = {
        "chart-accuracy": accuracy_chart(strategies, confidence),
        "chart-cost": cost_chart(strategies, with_usd),
        "chart-rounds": accuracy_by_round_chart(strategies),
        "chart-flips": flips_chart(strategies),
    }
    return {k: v for k, v in charts.items() if v is not None}
