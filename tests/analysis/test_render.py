"""The rich tables: numbers as the CLI shows them, provenance on every line."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reflectlab.analysis import Outcome, RunSummary, render_summary, summarize_run


def _run() -> RunSummary:
    outs = []
    for i in range(20):
        sid = str(i)
        outs.append(
            Outcome(
                strategy="direct",
                sample_id=sid,
                correct_by_round=[i < 8],
                final_correct=i < 8,
                calls=1,
                prompt_tokens=40,
                completion_tokens=10,
            )
        )
        rounds = [i < 8, i < 9, i < 9]
        outs.append(
            Outcome(
                strategy="self_refine",
                sample_id=sid,
                correct_by_round=rounds,
                final_correct=rounds[-1],
                calls=5,
                feedback_kinds=["intrinsic"],
                cost_usd=0.002,
            )
        )
        oracle = [i < 8, i < 16]
        outs.append(
            Outcome(
                strategy="reflexion",
                sample_id=sid,
                correct_by_round=oracle,
                final_correct=oracle[-1],
                calls=3,
                feedback_kinds=["oracle"],
                oracle_assisted=True,
            )
        )
    return summarize_run(outs)  # fmt: skip


def _text(tables: list[Table]) -> str:
    console = Console(file=io.StringIO(), width=300, record=True)
    console.print(*tables)
    return console.export_text()


def _row(table: Table, name: str) -> list[str]:
    columns = [[str(c) for c in col.cells] for col in table.columns]
    index = columns[0].index(name)
    return [col[index] for col in columns]


def test_strategy_rows_show_accuracy_rounds_flips_and_cost() -> None:
    strategies, comparisons = render_summary(_run())
    direct = _row(strategies, "direct")
    assert direct[1:5] == ["none", "20", "0.40 [0.22, 0.61]", "0.40"]
    assert direct[6:8] == ["20", "1,000"]
    refine = _row(strategies, "self_refine")
    assert refine[4] == "0.40→0.45→0.45"
    assert refine[5] == "0/1  0/0 | 0/1"  # r→w/w→r for 0→1, 1→2, then draft→final
    assert refine[8] == "$0.0400"
    assert refine[9] == "$0.0044"  # 0.04 / 9 correct
    assert "paired comparisons" in str(comparisons.title)


def test_provenance_is_on_every_line_and_oracle_is_a_warning() -> None:
    strategies, comparisons = render_summary(_run())
    cells = list(strategies.columns[1].cells)
    assert [str(c) for c in cells] == ["none", "intrinsic", "ORACLE-ASSISTED"]
    oracle_cell = cells[2]
    assert isinstance(oracle_cell, Text) and "yellow" in str(oracle_cell.style)
    labels = [str(c) for c in comparisons.columns[0].cells]
    assert labels == ["intrinsic vs none", "ORACLE-ASSISTED"]
    text = _text([strategies, comparisons])
    assert "ORACLE-ASSISTED: reflexion vs direct: +40.0 points" in text
    assert "self_refine vs direct: +5.0 points" in text


def test_no_comparison_table_without_a_baseline() -> None:
    only = [Outcome(strategy="cot", sample_id="1", correct_by_round=[True], final_correct=True)]
    tables = render_summary(summarize_run(only))
    assert len(tables) == 1
    assert "cot" in _text(tables)


def test_an_80_column_terminal_gets_one_block_per_strategy_with_nothing_cut() -> None:
    summary = _run()
    console = Console(file=io.StringIO(), width=80, record=True)
    console.print(*render_summary(summary, width=80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "self_refine  intrinsic  n=20" in text
    assert "reflexion  ORACLE-ASSISTED  n=20" in text
    assert "accuracy 0.45 [0.26, 0.66] (95% CI)   by round 0.40→0.45→0.45" in text
    assert "cost $0.0400" in text  # self_refine was priced
    wide = Console(file=io.StringIO(), width=200, record=True)
    wide.print(*render_summary(summary, width=200))
    assert "flips r→w/w→r | draft→final" in wide.export_text()  # the table, when it fits
