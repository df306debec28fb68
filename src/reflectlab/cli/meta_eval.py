"""``reflectlab meta-eval``: how good is a pairwise judge? Accuracy, positional agreement, kappa."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import build_model, console, open_store, print_json
from reflectlab.errors import ConfigError
from reflectlab.judge.formats import PairwiseExample, PairwiseVerdicts
from reflectlab.judge.meta import (
    MetaEvalReport,
    PairsFormat,
    judge_pairs,
    meta_eval_report,
    read_pairs,
    read_verdicts,
)
from reflectlab.judge.metrics import CohenKappaResult
from reflectlab.judge.protocols import PairwiseJudge, PairwiseJudgment
from reflectlab.model import Model


@app.command("meta-eval")
def meta_eval(
    fmt: Annotated[str, typer.Option("--format", "-f", help="llmbar | judgebench | jsonl")],
    pairs: Annotated[
        Path | None,
        typer.Option(
            "--pairs",
            help="Labelled pairs: LLMBar dataset.json, JudgeBench .jsonl, or JSONL "
            '{"id","instruction","response_a","response_b","label":"A"|"B"}.',
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Run this judge on the pairs.")
    ] = None,
    verdicts: Annotated[
        Path | None,
        typer.Option(
            "--verdicts",
            help="Existing verdicts: LLMBar result.json, JudgeBench output .jsonl, or the JSONL "
            "of `reflectlab judge --protocol pairwise`.",
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="With --model: write verdicts (JSONL).")
    ] = None,
    tie: Annotated[
        bool | None,
        typer.Option(
            "--tie/--no-tie",
            help="With --model: allow ties (default: no for llmbar, whose pairs force a choice).",
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N pairs only.")] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="With --model: pairs judged at once.")
    ] = 8,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens", min=1, help="With --model: most tokens per verdict (default: model's)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible server URL."),
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Meta-evaluate a pairwise judge against gold labels, running it (--model) or reading its
    verdicts (--verdicts). Reports the benchmark's headline accuracy (LLMBar: mean over both
    orders; JudgeBench: net vote over both orders; jsonl: correct in both orders), positional
    agreement and Cohen's kappa."""
    if fmt not in ("llmbar", "judgebench", "jsonl"):
        raise ConfigError(f"unknown --format {fmt!r}; use llmbar, judgebench or jsonl")
    kind = cast(PairsFormat, fmt)
    if (model is None) == (verdicts is None):
        raise ConfigError("give exactly one of --model (run a judge) or --verdicts (read them)")
    if model is not None and pairs is None:
        raise ConfigError("--model needs --pairs (the pairs to judge)")
    examples = read_pairs(pairs, kind) if pairs is not None else None
    if verdicts is not None:
        if output is not None:
            raise ConfigError("--output writes the verdicts of --model; with --verdicts drop it")
        read = read_verdicts(verdicts, kind, examples)
        # Only LLMBar's own result files follow its rule that two unparsed verdicts agree.
        report = meta_eval_report(
            read[:limit] if limit is not None else read, kind, unparsed_agree=kind == "llmbar"
        )
    else:
        assert model is not None and examples is not None
        store = open_store(db)
        m = build_model(model, store, base_url=base_url)
        allow_tie = tie if tie is not None else kind != "llmbar"
        judge = PairwiseJudge(m, allow_tie=allow_tie, max_tokens=max_tokens)
        chosen = examples[:limit] if limit is not None else examples
        results = asyncio.run(_run(judge, m, chosen, concurrency))
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(
                "".join(
                    json.dumps({"id": v.id, "gold": v.gold, **j.model_dump(mode="json")}) + "\n"
                    for v, j in results
                ),
                encoding="utf-8",
            )
        report = meta_eval_report([v for v, _ in results], kind)
    if as_json:
        print_json(report.model_dump(mode="json"))
    else:
        _print_report(report)


async def _run(
    judge: PairwiseJudge, m: Model, examples: list[PairwiseExample], concurrency: int
) -> list[tuple[PairwiseVerdicts, PairwiseJudgment]]:
    try:
        return await judge_pairs(judge, examples, concurrency=concurrency)
    finally:
        await m.aclose()


def _print_report(report: MetaEvalReport) -> None:
    meta = report.meta
    n = report.n
    no_pair = "n/a (no pair has both orders parsed)"
    table = Table(title=f"meta-eval ({report.format}, {n} pairs)", show_header=False)
    parsed = report.n_verdicts - report.unparsed_verdicts
    counted = (
        f"; {report.unparsed_verdicts} unparsed verdicts count as wrong"
        if report.accuracy is not None and report.unparsed_verdicts
        else ""
    )
    table.add_row(
        "accuracy",
        _rate(report.accuracy, f"{parsed} of {report.n_verdicts} verdicts parsed")
        + f"  ({escape(report.accuracy_rule)}{counted})",
    )
    table.add_row(
        "  original order",
        _rate(meta.accuracy_original, f"{meta.n_parsed_original} of {n} parsed"),
    )
    table.add_row(
        "  swapped order", _rate(meta.accuracy_swapped, f"{meta.n_parsed_swapped} of {n} parsed")
    )
    table.add_row(
        "  both orders", _rate(meta.accuracy_both, None) if meta.n_both_parsed else no_pair
    )
    table.add_row(
        "  net vote", _rate(meta.net_vote_accuracy, f"{parsed} of {report.n_verdicts} parsed")
    )
    if report.positional_agreement is None:
        agreement = no_pair
    else:
        of = n if meta.unparsed_agree else meta.n_both_parsed
        agreement = f"{report.positional_agreement:.4f}  ({meta.equal} of {of} pairs"
        if meta.unparsed_agree and meta.both_unparsed:
            agreement += f", {meta.both_unparsed} of them unparsed in both orders"
        agreement += f"; {escape(report.positional_agreement_rule)})"
    table.add_row("positional agreement", agreement)
    table.add_row("kappa vs gold", _kappa(report.kappa_vs_gold, report.kappa_vs_gold_detail))
    table.add_row(
        "kappa original vs swapped", _kappa(report.kappa_orders, report.kappa_orders_detail)
    )
    table.add_row("unparsed verdicts", f"{meta.unparsed} of {report.n_verdicts}")
    table.add_row("ties", str(meta.ties))
    console.print(table)


def _rate(value: float | None, missing: str | None) -> str:
    return f"n/a ({missing})" if value is None else f"{value:.4f}"


def _kappa(value: float | None, detail: CohenKappaResult | None) -> str:
    if detail is None:
        return "n/a (no pair has both orders parsed)"
    return "undefined" if value is None else f"{value:.4f}  (over {detail.n} pairs)"
