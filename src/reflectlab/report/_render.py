"""Render one stored run as one self-contained HTML file.

Everything the page needs is inside it: styles, the vendored Vega/Vega-Lite, the viewer's
script and the data, so it opens from disk with no network and no server. Rendering reads the
store only; it never calls a model. Output is deterministic: the same store gives the same
bytes (no render timestamp; gzip blocks carry no mtime).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
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
from reflectlab.report._traces import IndexOnlyRow, build_trace_payload, decode_block
from reflectlab.run import offline_stages_json, summarize_stored_run, summary_json
from reflectlab.store import ResultRecord, Store

__all__ = ["MAX_TRACE_SAMPLES", "STATIC_FILES", "render_report", "report_data", "write_report"]

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


def _compare_view(
    store: Store, run_id: str, other_id: str, limit: int | None = None
) -> dict[str, Any]:
    """The traces of run ``other_id`` on the samples it shares with ``run_id`` (those of
    ``run_id``'s first ``limit`` samples, when its traces are limited), for the viewer's
    side-by-side view; the viewer pairs results by strategy name and sample id."""
    other, other_summary = summarize_stored_run(store, other_id)
    mine = {s.sample_id for s in store.run_samples(run_id) if limit is None or s.position < limit}
    mine |= {r.sample_id for r in store.results(run_id, first_samples=limit)}
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


#: Samples whose full traces a report embeds unless told otherwise: past that the file and
#: the time to render grow with the run (100,000 samples: 18 MB and minutes), while the list
#: of every result, the summary and the plots do not need them.
MAX_TRACE_SAMPLES = 5000


def render_report(
    store: Store,
    run_id: str,
    *,
    compare: str | None = None,
    max_trace_samples: int | None = MAX_TRACE_SAMPLES,
) -> str:
    """The HTML report of run ``run_id`` (a unique prefix is enough) as one string. With
    ``compare`` (another run's id or prefix), that run's traces on the samples both runs share
    are embedded too, and the trace viewer shows one sample of both runs side by side.

    Full traces are embedded for the first ``max_trace_samples`` samples (by position; ``None``:
    all); the trace list still has every result, and a result beyond the limit says that its
    trace is not in the file (the report says how many are).

    Example::

        from reflectlab.report import render_report
        from reflectlab.store import Store
        html = render_report(Store(), "20250101-120000-abc123")
    """
    # Exactly what `reflectlab show` computes, so the two can never disagree.
    run, summary = summarize_stored_run(store, run_id)
    samples = store.run_samples(run.run_id)
    limit = max_trace_samples
    if limit is not None and len(samples) <= limit:
        limit = None
    results = store.results(run.run_id, first_samples=limit)
    ordered = display_order(run, summary)
    trace = build_trace_payload(
        samples,
        results,
        _calls_of_sample(store, run.run_id),
        [s.name for s in ordered],
        index_only=_index_only_rows(store, run.run_id, limit) if limit is not None else (),
    )
    charts = build_charts(ordered, summary.confidence)
    strategy_by_name = {s.name: s for s in ordered}
    compared = _compare_view(store, run.run_id, compare, limit) if compare else None
    oracle = oracle_uses(results if limit is None else _oracle_results(store, run.run_id))
    template = _environment().get_template("report.html.j2")
    return template.render(
        run=run,
        summary=summary,
        summary_json=summary_json(run, summary),
        ordered=ordered,
        rows=[_strategy_row(s) for s in ordered],
        provenance={name: s.provenance for name, s in strategy_by_name.items()},
        findings=key_findings(run, summary, ordered),
        oracle=oracle,
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


def _index_only_rows(store: Store, run_id: str, first: int) -> Iterator[IndexOnlyRow]:
    """The trace list's rows of the results of samples at positions ``first`` and after,
    from a few columns (no responses, details or call log), sample by sample."""
    rounds: dict[tuple[str, str], dict[int, bool]] = {}
    for strategy, sample_id, rnd, correct in store.db.execute(
        "SELECT c.strategy, c.sample_id, c.round, c.correct FROM checkpoints c JOIN samples s "
        "ON s.run_id = c.run_id AND s.sample_id = c.sample_id "
        "WHERE c.run_id = ? AND s.position >= ? ORDER BY c.strategy, c.sample_id, c.idx",
        (run_id, first),
    ):
        rounds.setdefault((strategy, sample_id), {})[rnd] = bool(correct)
    for row in store.db.execute(
        "SELECT r.strategy, r.sample_id, r.final_correct, r.final_response IS NOT NULL, "
        "r.oracle_assisted OR r.feedback_kinds LIKE '%\"oracle\"%', r.error IS NOT NULL, "
        "r.final_answer, r.calls + r.cache_hits, r.prompt_tokens + r.completion_tokens "
        "FROM results r JOIN samples s ON s.run_id = r.run_id AND s.sample_id = r.sample_id "
        "WHERE r.run_id = ? AND s.position >= ? ORDER BY s.position, r.strategy",
        (run_id, first),
    ):
        by_round = rounds.pop((row[0], row[1]), {})
        yield IndexOnlyRow(
            strategy=row[0],
            sample_id=row[1],
            trajectory="".join("1" if by_round[k] else "0" for k in sorted(by_round)),
            final_correct=bool(row[2]),
            has_answer=bool(row[3]),
            oracle=bool(row[4]),
            error=bool(row[5]),
            final_answer=row[6],
            calls=int(row[7]),
            tokens=int(row[8]),
        )


def _oracle_results(store: Store, run_id: str) -> list[ResultRecord]:
    """The results a gold label reached, with what :func:`oracle_uses` reads of them."""
    rows = store.db.execute(
        "SELECT strategy, sample_id, oracle_assisted, feedback_kinds, "
        "json_extract(detail_json, '$.oracle_reasons') FROM results WHERE run_id = ? "
        "AND (oracle_assisted = 1 OR feedback_kinds LIKE '%\"oracle\"%')",
        (run_id,),
    )
    return [
        ResultRecord.model_construct(
            strategy=strategy,
            sample_id=sample_id,
            oracle_assisted=bool(assisted),
            feedback_kinds=json.loads(kinds),
            detail={"oracle_reasons": json.loads(reasons) if reasons else []},
        )
        for strategy, sample_id, assisted, kinds, reasons in rows
    ]


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
    store: Store,
    run_id: str,
    path: str | Path,
    *,
    compare: str | None = None,
    max_trace_samples: int | None = MAX_TRACE_SAMPLES,
) -> Path:
    """Render run ``run_id`` (beside run ``compare``, if given) and write it to ``path``
    (parent folders are created); return the path written. ``max_trace_samples``: see
    :func:`render_report`."""
    html = render_report(store, run_id, compare=compare, max_trace_samples=max_trace_samples)
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
