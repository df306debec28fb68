"""Render one stored run as one self-contained HTML file.

Everything the page needs is inside it: styles, the vendored Vega/Vega-Lite, the viewer's
script and the data, so it opens from disk with no network and no server. Rendering reads the
store only; it never calls a model. Output is deterministic: the same store gives the same
bytes (no render timestamp; gzip blocks carry no mtime).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reflectlab import __version__
from reflectlab.analysis import FlipCounts, StrategySummary
from reflectlab.errors import ConfigError
from reflectlab.report._charts import FLIP_COLOURS, WARNING_COLOUR, build_charts
from reflectlab.report._facts import config_view, display_order, key_findings, oracle_uses
from reflectlab.report._steps import CallsOfSample, Event
from reflectlab.report._traces import build_trace_payload, decode_block
from reflectlab.run import offline_stages_json, summarize_stored_run, summary_json
from reflectlab.store import Store

__all__ = ["STATIC_FILES", "render_report", "report_data", "write_report"]

#: Vendored and own assets inlined into every report, in load order.
STATIC_FILES = ("vega.min.js", "vega-lite.min.js", "textdiff.js", "report.js")


@cache
def _asset(name: str) -> str:
    text = (resources.files("reflectlab.report") / "static" / name).read_text("utf-8")
    # An inline script ends at the first "</script"; a vendored file must never contain one.
    if name.endswith(".js") and re.search(r"</script|<!--", text, re.IGNORECASE):
        raise ConfigError(f"static asset {name} contains '</script' or '<!--'; cannot inline it")
    return text


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reflectlab.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["script_json"] = _script_json
    env.filters["num"] = lambda v, digits=0: f"{v:,.{digits}f}"
    env.filters["money"] = _money
    return env


def _script_json(value: Any) -> Markup:
    """JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` can end it early."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:,.4f}" if value < 100 else f"${value:,.0f}"


def _strategy_row(s: StrategySummary) -> dict[str, Any]:
    per_round = "  ".join(f"{f.right_wrong}/{f.wrong_right}" for f in s.flips_by_round)
    notes = []
    if s.baseline_of:  # the row sits under its strategy; say how it was matched
        notes.append(f"matched at {s.budget_mode}" if s.budget_mode else "matched baseline")
    if s.errors_by_kind:
        kinds = ", ".join(f"{k} ×{n}" for k, n in s.errors_by_kind.items())
        notes.append(f"{sum(s.errors_by_kind.values())} errored ({kinds})")
    elif s.errors:
        notes.append(f"{s.errors} errors")
    if s.no_answer:
        notes.append(f"{s.no_answer} no answer")
    if s.truncated_calls:
        notes.append(f"{s.truncated_calls} calls truncated (finish_reason=length)")
    if s.usage_unknown_calls:
        notes.append(f"{s.usage_unknown_calls} calls without usage: tokens undercounted")
    return {
        "s": s,
        "by_round": " → ".join(f"{a:.2f}" for a in s.accuracy_by_round) or "-",
        "flips": (
            f"{per_round} | {s.flips_total.right_wrong}/{s.flips_total.wrong_right}"
            if per_round
            else "-"
        ),
        "stops": ", ".join(f"{k}: {v}" for k, v in sorted(s.stop_reasons.items())),
        "notes": "; ".join(notes),
    }


def _flip_rows(ordered: list[StrategySummary]) -> list[tuple[StrategySummary, list[FlipCounts]]]:
    return [(s, [*s.flips_by_round, s.flips_total]) for s in ordered if s.flips_by_round]


def _compare_view(store: Store, run_id: str, other_id: str) -> dict[str, Any]:
    """The traces of run ``other_id`` on the samples it shares with ``run_id``, for the
    viewer's side-by-side view; the viewer pairs results by strategy name and sample id."""
    other, other_summary = summarize_stored_run(store, other_id)
    mine = {s.sample_id for s in store.run_samples(run_id)}
    mine |= {r.sample_id for r in store.results(run_id)}
    samples = [s for s in store.run_samples(other.run_id) if s.sample_id in mine]
    results = [r for r in store.results(other.run_id) if r.sample_id in mine]
    order = [s.name for s in display_order(other, other_summary)]
    trace = build_trace_payload(samples, results, _calls_of_sample(store, other.run_id), order)
    shared = {r.sample_id for r in results}
    return {
        "run": other,
        "trace": trace,
        "info": {
            "run_id": other.run_id,
            "task": other.task,
            "model": other.model,
            "status": other.status,
            "shared_samples": len(shared),
        },
    }


def render_report(store: Store, run_id: str, *, compare: str | None = None) -> str:
    """The HTML report of run ``run_id`` (a unique prefix is enough) as one string. With
    ``compare`` (another run's id or prefix), that run's traces on the samples both runs share
    are embedded too, and the trace viewer shows one sample of both runs side by side.

    Example::

        from reflectlab.report import render_report
        from reflectlab.store import Store
        html = render_report(Store(), "20250101-120000-abc123")
    """
    # Exactly what `reflectlab show` computes, so the two can never disagree.
    run, summary = summarize_stored_run(store, run_id)
    results = store.results(run.run_id)
    samples = store.run_samples(run.run_id)
    ordered = display_order(run, summary)
    trace = build_trace_payload(
        samples, results, _calls_of_sample(store, run.run_id), [s.name for s in ordered]
    )
    charts = build_charts(ordered, summary.confidence)
    strategy_by_name = {s.name: s for s in ordered}
    compared = _compare_view(store, run.run_id, compare) if compare else None
    template = _environment().get_template("report.html.j2")
    return template.render(
        run=run,
        summary=summary,
        summary_json=summary_json(run, summary),
        ordered=ordered,
        rows=[_strategy_row(s) for s in ordered],
        provenance={name: s.provenance for name, s in strategy_by_name.items()},
        findings=key_findings(run, summary, ordered),
        oracle=oracle_uses(results),
        offline=offline_stages_json(store, run.run_id),
        config=config_view(run, ordered),
        flip_rows=_flip_rows(ordered),
        charts=charts,
        has_usd=any(s.cost_usd > 0 for s in ordered),
        trace=trace,
        compare=compared,
        flip_colours=FLIP_COLOURS,
        warning_colour=WARNING_COLOUR,
        css=_asset("report.css"),
        scripts=[Markup(_asset(name)) for name in STATIC_FILES],
        reflectlab_version=__version__,
    )


def _calls_of_sample(store: Store, run_id: str) -> CallsOfSample:
    """One sample's logged calls as plain JSON, through the calls(run_id, sample_id) index:
    a large run's call log is streamed sample by sample instead of loaded whole, and not
    turned into tens of thousands of validated models to read a few fields of each."""

    def read(sample_id: str) -> list[Event]:
        rows = store.db.execute(
            "SELECT event_json FROM calls WHERE run_id = ? AND sample_id = ? ORDER BY started_at",
            (run_id, sample_id),
        )
        return [json.loads(row[0]) for row in rows]

    return read


def write_report(
    store: Store, run_id: str, path: str | Path, *, compare: str | None = None
) -> Path:
    """Render run ``run_id`` (beside run ``compare``, if given) and write it to ``path``
    (parent folders are created); return the path written."""
    html = render_report(store, run_id, compare=compare)
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {target}: {exc}") from exc
    return target


_BLOCK = re.compile(
    r'<script type="application/(json|gzip\+base64)" id="([\w-]+)">(.*?)</script>', re.DOTALL
)


def report_data(html: str) -> dict[str, Any]:
    """The data embedded in a rendered report, decoded: ``summary`` (what ``reflectlab show
    --json`` prints), ``charts`` (the Vega-Lite specs), ``index`` and ``chunks`` (the traces),
    ``offline`` (what strategies learned on a training split, if any).
    For scripts that post-process a report someone sent, and for tests. A report rendered with
    ``compare`` also has ``compare`` (the other run), ``compare_index`` and ``compare_chunks``."""
    out: dict[str, Any] = {"chunks": []}
    for kind, block_id, body in _BLOCK.findall(html):
        value = json.loads(body) if kind == "json" else decode_block(body)
        if block_id.startswith("trace-chunk-"):
            out["chunks"].append(value)
        elif block_id.startswith("compare-chunk-"):
            out.setdefault("compare_chunks", []).append(value)
        elif block_id == "compare-index":
            out["compare_index"] = value
        else:
            out[block_id.removeprefix("trace-").removesuffix("-json")] = value
    return out
