"""Rich tables of a :class:`RunSummary` for the terminal.

Provenance is a column of every table, and oracle assistance is shown in a warning style, so
a result obtained with gold labels can never be read as self-correction.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from reflectlab.analysis._types import Comparison, RunSummary, StrategySummary

__all__ = ["comparisons_table", "render_summary", "strategies_cards", "strategies_table"]

#: Below this many columns the summary is one block per strategy instead of a wide table,
#: so that nothing is cut into one-letter columns on an 80-column terminal.
WIDE_COLUMNS = 140

WARNING_STYLE = "bold yellow"


def _provenance(label: str, oracle: bool) -> Text:
    return Text(label, style=WARNING_STYLE) if oracle else Text(label)


def _accuracy(s: StrategySummary) -> str:
    if not s.scored:
        return "n/a (unscored)"
    return f"{s.accuracy:.2f} [{s.ci_low:.2f}, {s.ci_high:.2f}]"


def _by_round(s: StrategySummary) -> str:
    if not s.scored:
        return "-"
    return "→".join(f"{a:.2f}" for a in s.accuracy_by_round) or "-"


def _flips(s: StrategySummary) -> str:
    """``r→w/w→r`` per round, then the draft-to-final total after a bar."""
    if not s.scored:
        return "-"
    per_round = "  ".join(f"{f.right_wrong}/{f.wrong_right}" for f in s.flips_by_round)
    total = f"{s.flips_total.right_wrong}/{s.flips_total.wrong_right}"
    return f"{per_round} | {total}" if per_round else "-"


def _cost(value: float | None) -> str:
    if value is None:
        return "-"
    return f"${value:.4f}" if value < 100 else f"${value:,.0f}"


def _notes(s: StrategySummary) -> str:
    parts = []
    if s.errors_by_kind:
        kinds = ", ".join(f"{k} x{n}" for k, n in s.errors_by_kind.items())
        parts.append(f"{sum(s.errors_by_kind.values())} errored ({kinds})")
    elif s.errors:
        parts.append(f"{s.errors} errors")
    if s.no_answer:
        parts.append(f"{s.no_answer} no answer")
    if s.truncated_calls:
        parts.append(f"{s.truncated_calls} calls truncated")
    if s.usage_unknown_calls:
        parts.append(f"{s.usage_unknown_calls} calls without usage (tokens undercounted)")
    return ", ".join(parts)


def strategies_table(summary: RunSummary) -> Table:
    """One row per strategy: accuracy with its interval, accuracy and flips per round, calls,
    tokens, cost, provenance. Columns that would say nothing are left out to keep the table
    readable in a terminal: cost when every strategy cost $0 (local models, or no known price;
    the caption says so) and notes when there are none. A compute-matched baseline is named
    ``baseline@strategy``, so its name already says what it is matched to."""
    level = f"{summary.confidence * 100:g}%"
    priced = any(s.cost_usd > 0 for s in summary.strategies)
    notes = [_notes(s) for s in summary.strategies]
    table = Table(
        title="strategies", caption=None if priced else "cost: $0 (local models or no known price)"
    )
    table.add_column("strategy", no_wrap=True)
    table.add_column("provenance")
    table.add_column("n", justify="right")
    table.add_column(f"accuracy [{level} CI]", justify="right", no_wrap=True)
    table.add_column("by round")
    table.add_column("flips r→w/w→r | draft→final")
    table.add_column("calls (+cached)", justify="right")
    table.add_column("tokens", justify="right")
    if priced:
        table.add_column("cost", justify="right")
        table.add_column("$/correct", justify="right")
    if any(notes):
        table.add_column("notes")
    for s, note in zip(summary.strategies, notes, strict=True):
        row: list[str | Text] = [
            s.name,
            _provenance(s.provenance, s.oracle_assisted),
            str(s.n),
            _accuracy(s),
            _by_round(s),
            _flips(s),
            f"{s.calls:,}" + (f" (+{s.cache_hits:,})" if s.cache_hits else ""),
            f"{s.total_tokens:,}",
        ]
        if priced:
            row += [_cost(s.cost_usd), _cost(s.cost_per_correct)]
        if any(notes):
            row.append(note)
        table.add_row(*row)
    return table


def _comparison_provenance(c: Comparison, summary: RunSummary) -> Text:
    if c.oracle_assisted:
        return _provenance("ORACLE-ASSISTED", True)
    labels = {s.name: s.provenance for s in summary.strategies}
    return Text(f"{labels.get(c.strategy, '?')} vs {labels.get(c.baseline, '?')}")


def comparisons_table(summary: RunSummary) -> Table:
    """One row per comparison, with its verdict sentence and provenance."""
    table = Table(title=f"paired comparisons (Holm-corrected, alpha={summary.alpha:g})")
    table.add_column("provenance")
    table.add_column("n", justify="right")
    table.add_column("b/c", justify="right")
    table.add_column("verdict")
    for c in summary.comparisons:
        table.add_row(
            _comparison_provenance(c, summary),
            str(c.n_paired),
            f"{c.b}/{c.c}",
            Text(c.verdict, style=WARNING_STYLE if c.sets_differ else ""),
        )
    return table


def strategies_cards(summary: RunSummary) -> Group:
    """The strategies table as one short block per strategy, for narrow terminals: each line
    fits 80 columns and nothing is abbreviated."""
    level = f"{summary.confidence * 100:g}%"
    priced = any(s.cost_usd > 0 for s in summary.strategies)
    blocks: list[RenderableType] = [Text("strategies", style="italic")]
    for s in summary.strategies:
        head = Text(s.name, style="bold")
        head.append("  ")
        head.append_text(_provenance(s.provenance, s.oracle_assisted))
        head.append(f"  n={s.n}")
        lines = [
            head,
            Text(f"  accuracy {_accuracy(s)} ({level} CI)   by round {_by_round(s)}"),
            Text(f"  flips r→w/w→r per round | draft→final: {_flips(s)}"),
        ]
        usage = f"  calls {s.calls:,}" + (f" (+{s.cache_hits:,} cached)" if s.cache_hits else "")
        usage += f"   tokens {s.total_tokens:,}"
        if priced:
            usage += f"   cost {_cost(s.cost_usd)}   per correct {_cost(s.cost_per_correct)}"
        lines.append(Text(usage))
        note = _notes(s)
        if note:
            lines.append(Text(f"  notes: {note}"))
        blocks.append(Group(*lines))
    if not priced:
        blocks.append(Text("cost: $0 (local models or no known price)", style="dim"))
    return Group(*blocks)


def render_summary(summary: RunSummary, *, width: int | None = None) -> list[RenderableType]:
    """Renderables for ``console.print(*render_summary(summary, width=console.width))``: the
    strategies (a table, or one block per strategy when ``width`` is under
    :data:`WIDE_COLUMNS`), then the comparisons when there are any."""
    narrow = width is not None and width < WIDE_COLUMNS
    out: list[RenderableType] = [strategies_cards(summary) if narrow else strategies_table(summary)]
    if summary.comparisons:
        if narrow:
            title = f"paired comparisons (Holm-corrected, alpha={summary.alpha:g})"
            out.append(
                Group(
                    Text(title, style="italic"),
                    *(Text(f"- {c.verdict}") for c in summary.comparisons),
                )
            )
        else:
            out.append(comparisons_table(summary))
    return out
