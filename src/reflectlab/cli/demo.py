"""``reflectlab demo``: the field's central finding, measured on the embedded offline model.

Huang et al. (2023, "Large Language Models Cannot Self-Correct Reasoning Yet") found that a
model critiquing its own answer, with no outside information, does not get better and often
talks itself out of right answers; gains reported for self-correction mostly came from
feedback that carried information (a tool, or the gold label itself), or vanished against a
baseline given the same compute. The demo runs that experiment small: one-step arithmetic
questions (``demo_items.jsonl`` beside this file: ones a 135M model gets partly right, so
there are right answers to break and wrong ones to fix), ``direct``, intrinsic
``self_refine``, ``self_refine:feedback=oracle`` (ORACLE-ASSISTED: told from the gold label
whether it is wrong), ``retry:feedback=oracle`` (the same signal, resampling without a
critique), and for each reflection strategy the compute-matched baselines at equal calls.
Every sentence of its conclusion is computed from the run's own numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from reflectlab.analysis import Comparison, RunSummary, StrategySummary
from reflectlab.cli._app import app
from reflectlab.cli._common import console, open_store
from reflectlab.cli._runview import run_with_progress
from reflectlab.run import RunConfig, StrategySpec, start_run, summarize_stored_run

DEMO_ITEMS = Path(__file__).with_name("demo_items.jsonl")
DEMO_STRATEGIES = ("direct", "self_refine", "self_refine:feedback=oracle", "retry:feedback=oracle")
INTRINSIC, ORACLE, ORACLE_RETRY = DEMO_STRATEGIES[1:]
EMBEDDED = "llamacpp/default"


def demo_config(
    model: str, limit: int, max_tokens: int | None, base_url: str | None = None
) -> RunConfig:
    """The demo's run: small, one round of reflection, equal-calls baselines."""
    return RunConfig(
        task=f"jsonl:{DEMO_ITEMS}",
        task_options={"input_field": "question", "target_field": "answer", "answer": "numeric"},
        strategies=[StrategySpec.parse(s) for s in DEMO_STRATEGIES],
        model=model,
        base_url=base_url,
        limit=limit,
        seed=0,
        concurrency=4,
        max_rounds=1,
        # Room for a short critique: at 48 tokens most critiques were cut off (the report
        # counted them as truncated), which would have made the lesson an artefact.
        max_tokens=max_tokens or (128 if model.startswith("llamacpp/") else 256),
        baselines="equal-calls",
    )


@app.command()
def demo(
    model: Annotated[
        str, typer.Option("--model", "-m", help="provider/model (default: the embedded model).")
    ] = EMBEDDED,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=24, help="How many questions (1-24).")
    ] = 8,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens", min=1, help="Per call (default: 128 on llamacpp/ models, else 256)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar="OPENAI_BASE_URL",
            help="OpenAI-compatible server for openai/ models, e.g. http://localhost:8000/v1.",
        ),
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Can a model fix its own answers? Intrinsic self-refine against oracle-assisted
    self-refine and equal-calls baselines, on small arithmetic questions, offline by default;
    ends with what the run showed, in its own numbers."""
    config = demo_config(model, limit, max_tokens, base_url)
    where = " (SmolLM2-135M, offline)" if model == EMBEDDED else ""
    console.print(
        f"reflectlab demo: can a model fix its own answers? {limit} arithmetic questions, "
        f"{model}{where}."
    )
    console.print(INTRO, highlight=False)
    store = open_store(db)
    run_id = run_with_progress(
        lambda on_result, on_start: start_run(
            config, store, on_result=on_result, on_start=on_start
        ),
        quiet=False,
    )
    _, summary = summarize_stored_run(store, run_id)
    console.print(demo_table(summary))
    for line in findings(summary):
        console.print(escape(line))
    console.print("\nNext: the same experiment on your own model (any OpenAI-compatible server):")
    for command in next_commands(run_id):
        console.print(f"  {command}", soft_wrap=True, markup=False, highlight=False)


INTRO = """\
  direct                       one answer
  self_refine                  answers, critiques itself, revises (intrinsic)
  self_refine:feedback=oracle  revises when the gold label says it is wrong
  retry:feedback=oracle        resamples when the gold label says it is wrong
  = NAME                       a baseline given the same calls per question"""


def _rows(summary: RunSummary) -> dict[str, StrategySummary]:
    return {row.name: row for row in summary.strategies}


def demo_table(summary: RunSummary) -> Table:
    """One line per strategy, its equal-calls baselines indented under it; fits 80 columns."""
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, padding=(0, 1), collapse_padding=True
    )
    table.add_column("strategy", no_wrap=True)
    table.add_column("feedback", no_wrap=True)
    table.add_column("accuracy", no_wrap=True)
    table.add_column("broke", justify="right", no_wrap=True)
    table.add_column("fixed", justify="right", no_wrap=True)
    table.add_column("calls", justify="right", no_wrap=True)
    for row in summary.strategies:
        name = f"  = {row.name.split('@')[0]}" if row.baseline_of else row.name
        rounds = row.accuracy_by_round
        accuracy = (
            f"{rounds[0]:.2f}→{row.accuracy:.2f}" if len(rounds) > 1 else f"{row.accuracy:.2f}"
        )
        reflects = not row.baseline_of and row.name != "direct"
        table.add_row(
            escape(name),
            row.provenance,
            accuracy,
            str(row.flips_total.right_wrong) if reflects else "",
            str(row.flips_total.wrong_right) if reflects else "",
            str(row.calls + row.cache_hits),
        )
    table.caption = "accuracy: first→final answer; broke: right→wrong; fixed: wrong→right"
    return table


def _matched(summary: RunSummary, reflection: str) -> list[StrategySummary]:
    return [row for row in summary.strategies if row.baseline_of == reflection]


def _comparison(summary: RunSummary, strategy: str, baseline: str) -> Comparison | None:
    for c in summary.comparisons:
        if c.strategy == strategy and c.baseline == baseline:
            return c
    return None


def _moved(row: StrategySummary) -> str:
    broke, fixed = row.flips_total.right_wrong, row.flips_total.wrong_right
    rounds = row.accuracy_by_round
    first = rounds[0] if rounds else row.accuracy
    return (
        f"broke {broke} right answer{'s' if broke != 1 else ''} and fixed {fixed} "
        f"(accuracy {first:.2f} → {row.accuracy:.2f})"
    )


def findings(summary: RunSummary) -> list[str]:
    """What the run showed, each sentence computed from its numbers (never a canned claim)."""
    rows = _rows(summary)
    lines = ["", "What this run showed:"]
    intrinsic = rows.get(INTRINSIC)
    if intrinsic is not None:
        net = intrinsic.flips_total.net
        verdict = (
            "a net gain on this run: check the paired test below before believing it"
            if net > 0
            else "no net gain"
            if net == 0
            else "a net loss: it talked itself out of right answers"
        )
        lines.append(f"- Intrinsic self-correction: self_refine {_moved(intrinsic)}; {verdict}.")
        lines.extend(_against_matched(summary, intrinsic))
    oracle = rows.get(ORACLE)
    if oracle is not None:
        fixed = oracle.flips_total.wrong_right
        wrong = _wrong_drafts(oracle)
        lines.append(
            f"- ORACLE-ASSISTED: told by the gold label when it was wrong, self_refine "
            f"{_moved(oracle)}."
            + (
                " Its first answers were all right, so the gold label had nothing to correct."
                if wrong == 0
                else " The gain comes from information in the feedback, which a user without "
                "the answer does not have: an upper bound, not self-correction. The honest "
                "version is a label-free check, e.g. unit tests on --task code (feedback=tool)."
                if fixed
                else f" Told which {wrong} answers were wrong, its revisions fixed none."
            )
        )
        lines.extend(_against_matched(summary, oracle))
    retry = rows.get(ORACLE_RETRY)
    if retry is not None and oracle is not None:
        # Compare what each did with the wrong first answers it was told about: the two
        # start from their own first answers, so final accuracies alone would mix in how
        # good those first answers happened to be.
        o_wrong, r_wrong = _wrong_drafts(oracle), _wrong_drafts(retry)
        o_fixed, r_fixed = oracle.flips_total.wrong_right, retry.flips_total.wrong_right
        lines.append(
            f"  With the same gold-label signal and no critique, retry {_moved(retry)}: "
            f"resampling fixed {r_fixed} of {r_wrong} wrong first answers, the critique "
            f"{o_fixed} of {o_wrong}."
        )
    tests = [
        c
        for name in (INTRINSIC, ORACLE)
        for c in summary.comparisons
        if c.strategy == name and (c.baseline == "direct" or c.baseline == f"retry@{name}")
    ]
    if tests:
        lines.append("Paired tests (exact McNemar, Holm-corrected):")
        lines.extend(f"  {c.verdict}" for c in tests)
    return lines


def _wrong_drafts(row: StrategySummary) -> int:
    """How many first answers were wrong (what feedback could have corrected)."""
    return row.flips_total.wrong_right + row.flips_total.wrong_wrong


def _against_matched(summary: RunSummary, row: StrategySummary) -> list[str]:
    matched = _matched(summary, row.name)
    if not matched:
        return []
    best = max(matched, key=lambda m: m.accuracy)
    listed = ", ".join(f"{m.name.split('@')[0]} {m.accuracy:.2f}" for m in matched)
    if best.accuracy >= row.accuracy:
        judged = (
            f"spending those calls without a critique did at least as well "
            f"({best.name.split('@')[0]}: {best.accuracy:.2f} vs {row.accuracy:.2f})"
        )
    else:
        judged = (
            f"{row.name} beat every equal-calls baseline on this run "
            f"({row.accuracy:.2f} vs at best {best.accuracy:.2f})"
        )
    return [f"  With the same calls per question: {listed}; {judged}."]


def next_commands(run_id: str) -> list[str]:
    """Commands to copy, printed whole (never wrapped)."""
    strategies = ",".join(DEMO_STRATEGIES)
    return [
        "reflectlab demo --model openai/<model> --base-url http://localhost:8000/v1",
        f"reflectlab run --task arith --strategy {strategies} --model openai/<model> "
        "--base-url http://localhost:8000/v1 --limit 200",
        f"reflectlab report {run_id} -o report.html   # every step of every question",
        f"reflectlab export {run_id} --format csv -o demo.csv",
    ]
