"""``reflectlab judge``: judge a JSONL file of items with one protocol."""

from __future__ import annotations

import asyncio
import json
import sys
from functools import partial
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape
from rich.table import Table

from reflectlab.cli._app import app
from reflectlab.cli._common import build_model, console, err_console, open_store, print_json
from reflectlab.errors import BadRequestError, ConfigError, ContextWindowError
from reflectlab.judge._gather import gather_limited
from reflectlab.judge.checkeval import (
    CHECKEVAL_TASKS,
    CHECKEVAL_VERSIONS,
    CheckEvalJudge,
    checkeval_dimensions,
    load_checkeval_checklist,
)
from reflectlab.judge.checklist import ChecklistJudge
from reflectlab.judge.criticbench import (
    CRITICBENCH_PROMPT_TYPES,
    CriticBenchItem,
    CriticBenchJudgment,
    CriticBenchPromptType,
    CriticBenchResult,
    CriticBenchRunner,
    read_criticbench_items,
    summarize_criticbench,
)
from reflectlab.judge.items import (
    JUDGE_PROTOCOLS,
    JudgeProtocol,
    PairwiseItem,
    PointwiseItem,
    read_judge_items,
)
from reflectlab.judge.protocols import Disagreement, PairwiseJudge, PairwisePrompt, PointwiseJudge
from reflectlab.judge.summary import JudgeSummary, Judgment, summarize_judgments
from reflectlab.model import Model, capture_calls

_PROTOCOLS = (*JUDGE_PROTOCOLS, "criticbench")


@app.command()
def judge(
    protocol: Annotated[
        str,
        typer.Option(
            "--protocol",
            "-p",
            help="pointwise | pairwise | reference | checklist | self-taught | self-taught-plan"
            " | checkeval | criticbench",
        ),
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="Judge model, provider/model.")],
    input: Annotated[Path, typer.Option("--input", "-i", help="JSONL file of items.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write verdicts (JSONL) here; default stdout."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Summary as JSON.")] = False,
    scale: Annotated[str, typer.Option("--scale", help="Rating scale LOW-HIGH.")] = "1-10",
    no_tie: Annotated[
        bool, typer.Option("--no-tie", help="Pairwise: forbid ties ([[C]] is then unparseable).")
    ] = False,
    on_disagreement: Annotated[
        str,
        typer.Option(
            "--on-disagreement", help="Pairwise: what orders that disagree give: inconsistent|tie"
        ),
    ] = "inconsistent",
    max_questions: Annotated[
        int, typer.Option("--max-questions", min=1, help="Checklist: most questions kept.")
    ] = 10,
    checkeval_task: Annotated[
        str,
        typer.Option("--checkeval-task", help="CheckEval: summeval | topical_chat checklists."),
    ] = "summeval",
    dimension: Annotated[
        list[str] | None,
        typer.Option("--dimension", help="CheckEval: a dimension to judge (repeat; default all)."),
    ] = None,
    checkeval_version: Annotated[
        str,
        typer.Option(
            "--checkeval-version", help="CheckEval: seed | diversification | elaboration."
        ),
    ] = "elaboration",
    criticbench_prompt: Annotated[
        str,
        typer.Option("--criticbench-prompt", help="CriticBench: fs | zs-crit-cot | zs-crit-ao-1."),
    ] = "fs",
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, help="Items judged at once.")
    ] = 8,
    temperature: Annotated[
        float, typer.Option(min=0.0, max=2.0, help="Judge sampling temperature, 0-2.")
    ] = 0.0,
    max_tokens: Annotated[
        int | None,
        typer.Option("--max-tokens", min=1, help="Most tokens per judge reply (default: model's)."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible server URL."),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached replies.")] = (
        False
    ),
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Judge each item of a JSONL file; write one verdict per line and print a summary.

    Items: pointwise/checklist/checkeval {"id","instruction","response"[,"reference"]} (checkeval:
    instruction = the article or conversation, reference = the Topical-Chat fact); pairwise,
    self-taught, self-taught-plan {"id","instruction","response_a","response_b"[,"reference"]};
    reference: either shape with "reference" required; criticbench: CriticBench's fields
    {"id","question","response","response_label","answer"[,"question_source"]}. Every line is
    validated before the first model call. Verdicts go to --output, else to stdout (the summary
    then goes to stderr).
    """
    if protocol not in _PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}; use {', '.join(_PROTOCOLS)}")
    if checkeval_task not in CHECKEVAL_TASKS:
        raise ConfigError(f"--checkeval-task must be {' or '.join(CHECKEVAL_TASKS)}")
    if checkeval_version not in CHECKEVAL_VERSIONS:
        raise ConfigError(f"--checkeval-version must be one of {', '.join(CHECKEVAL_VERSIONS)}")
    if criticbench_prompt not in CRITICBENCH_PROMPT_TYPES:
        raise ConfigError(
            f"--criticbench-prompt must be one of {', '.join(CRITICBENCH_PROMPT_TYPES)}"
        )
    if protocol == "criticbench":
        _criticbench(
            input,
            model,
            output=output,
            as_json=as_json,
            prompt_type=criticbench_prompt,
            concurrency=concurrency,
            options={"temperature": temperature, "max_tokens": max_tokens},
            base_url=base_url,
            cache=not no_cache,
            db=db,
        )
        return
    if on_disagreement not in ("inconsistent", "tie"):
        raise ConfigError(f"--on-disagreement must be inconsistent or tie, not {on_disagreement!r}")
    bounds = parse_scale(scale)
    items = read_judge_items(input, cast(JudgeProtocol, protocol))
    if protocol == "checkeval" and checkeval_task == "topical_chat":
        missing = [i.id for i in items if i.reference is None]
        if missing:
            raise ConfigError(
                f"topical_chat CheckEval needs each item's fact as 'reference'; missing in "
                f"{', '.join(missing[:5])}"
            )
    checkeval_options: dict[str, Any] | None = None
    if protocol == "checkeval":
        names = dimension or checkeval_dimensions(checkeval_task)
        for name in names:  # a bad --dimension fails before any connection
            load_checkeval_checklist(checkeval_task, name, checkeval_version)
        checkeval_options = {
            "task": checkeval_task,
            "dimensions": names,
            "version": checkeval_version,
        }
    store = open_store(db)
    m = build_model(model, store, base_url=base_url, cache=not no_cache)
    options: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
    with capture_calls() as events:
        rows = asyncio.run(
            _judge_items(
                m,
                protocol,
                items,
                concurrency=concurrency,
                scale=bounds,
                allow_tie=not no_tie,
                on_disagreement="tie" if on_disagreement == "tie" else "inconsistent",
                max_questions=max_questions,
                options=options,
                checkeval_options=checkeval_options,
            )
        )
    judgments = [j for _, j in rows]
    summary = summarize_judgments(
        protocol, judgments, events=[e for e in events if e.role == "judge"]
    )
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record, _ in rows]
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(lines), encoding="utf-8")
    else:
        sys.stdout.write("".join(lines))
    _print_summary(summary, as_json=as_json, to_stderr=output is None)


def parse_scale(text: str) -> tuple[int, int]:
    """``"1-10"`` -> ``(1, 10)``."""
    low, sep, high = text.partition("-")
    try:
        bounds = (int(low), int(high))
    except ValueError:
        bounds = None
    if not sep or bounds is None or bounds[0] >= bounds[1]:
        raise ConfigError(f"--scale must look like LOW-HIGH with integers LOW < HIGH, got {text!r}")
    return bounds


async def _judge_items(
    m: Model,
    protocol: str,
    items: list[PointwiseItem] | list[PairwiseItem],
    *,
    concurrency: int,
    scale: tuple[int, int],
    allow_tie: bool,
    on_disagreement: Disagreement,
    max_questions: int,
    options: dict[str, Any],
    checkeval_options: dict[str, Any] | None = None,
) -> list[tuple[dict[str, Any], Judgment | None]]:
    pointwise = PointwiseJudge(m, scale=scale, **options)
    if protocol in ("self-taught", "self-taught-plan"):
        pairwise = PairwiseJudge(
            m,
            allow_tie=False,
            on_disagreement=on_disagreement,
            prompt=cast(PairwisePrompt, protocol),
            **options,
        )
    else:
        pairwise = PairwiseJudge(m, allow_tie=allow_tie, on_disagreement=on_disagreement, **options)
    checklist = ChecklistJudge(m, max_questions=max_questions, **options)
    checkeval = (
        None if checkeval_options is None else CheckEvalJudge(m, **checkeval_options, **options)
    )

    async def one(item: PointwiseItem | PairwiseItem) -> tuple[dict[str, Any], Judgment | None]:
        try:
            result: Judgment
            if isinstance(item, PairwiseItem):
                result = await pairwise.judge(
                    item.instruction, item.response_a, item.response_b, reference=item.reference
                )
            elif protocol == "checklist":
                result = await checklist.judge(item.instruction, item.response)
            elif checkeval is not None:
                result = await checkeval.judge(item.instruction, item.response, fact=item.reference)
            else:
                result = await pointwise.judge(
                    item.instruction, item.response, reference=item.reference
                )
        except (ContextWindowError, BadRequestError) as exc:
            # About this item (too long, rejected): record it, judge the rest.
            return {"id": item.id, "protocol": protocol, "error": str(exc)}, None
        return {"id": item.id, **result.model_dump(mode="json")}, result

    try:
        return await gather_limited([partial(one, item) for item in items], concurrency)
    finally:
        await m.aclose()


def _print_summary(summary: JudgeSummary, *, as_json: bool, to_stderr: bool) -> None:
    if as_json:
        text = json.dumps(summary.model_dump(mode="json"), indent=2, ensure_ascii=False)
        if to_stderr:
            sys.stderr.write(text + "\n")
        else:
            print_json(summary.model_dump(mode="json"))
        return
    table = Table(title=escape(f"judge: {summary.protocol} ({summary.judge})"), show_header=False)
    table.add_row("items", str(summary.n))
    if summary.n_errors:
        table.add_row("model errors", str(summary.n_errors))
    table.add_row("unparseable", str(summary.unparseable))
    pairwise = summary.n_both_orders_parsed is not None
    if summary.mean_score is not None:
        table.add_row("mean score", f"{summary.mean_score:.3f}")
    elif not pairwise and summary.n > summary.n_errors:
        table.add_row("mean score", "n/a (no score parsed)")
    if summary.distribution:
        table.add_row("verdicts", "")
    for label, count in summary.distribution.items():
        table.add_row(f"  {escape(label)}", str(count))
    if summary.positional_consistency is not None:
        table.add_row(
            "positional consistency",
            f"{summary.positional_consistency:.3f} (of {summary.n_both_orders_parsed})",
        )
    elif pairwise:
        table.add_row("positional consistency", "n/a (no pair has both orders parsed)")
    table.add_row("calls (cached)", f"{summary.calls} ({summary.cache_hits})")
    table.add_row("tokens in / out", f"{summary.prompt_tokens} / {summary.completion_tokens}")
    (err_console if to_stderr else console).print(table)


def _criticbench(
    input: Path,
    model: str,
    *,
    output: Path | None,
    as_json: bool,
    prompt_type: CriticBenchPromptType,
    concurrency: int,
    options: dict[str, Any],
    base_url: str | None,
    cache: bool,
    db: Path | None,
) -> None:
    """``--protocol criticbench``: the three stages per item, one judgment per line, and the
    per-stage scores."""
    items = read_criticbench_items(input)
    store = open_store(db)
    m = build_model(model, store, base_url=base_url, cache=cache)
    runner = CriticBenchRunner(m, prompt_type=prompt_type, **options)

    async def one(item: CriticBenchItem) -> tuple[dict[str, Any], CriticBenchJudgment | None]:
        try:
            result = await runner.run(item)
        except (ContextWindowError, BadRequestError) as exc:
            return {"id": item.id, "protocol": "criticbench", "error": str(exc)}, None
        return result.model_dump(mode="json"), result

    async def run_all() -> list[tuple[dict[str, Any], CriticBenchJudgment | None]]:
        try:
            return await gather_limited([partial(one, item) for item in items], concurrency)
        finally:
            await m.aclose()

    rows = asyncio.run(run_all())
    lines = [json.dumps(record, ensure_ascii=False) + "\n" for record, _ in rows]
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("".join(lines), encoding="utf-8")
    else:
        sys.stdout.write("".join(lines))
    done = [j for _, j in rows if j is not None]
    n_errors = len(rows) - len(done)
    to_stderr = output is None
    if not done:
        raise ConfigError(f"every CriticBench item failed its model call ({n_errors})")
    result = summarize_criticbench(done, judge=runner.name, prompt_type=prompt_type)
    _print_criticbench(result, n_errors=n_errors, as_json=as_json, to_stderr=to_stderr)


def _print_criticbench(
    result: CriticBenchResult, *, n_errors: int, as_json: bool, to_stderr: bool
) -> None:
    data = result.model_dump(mode="json", exclude={"judgments"})
    data["n_errors"] = n_errors
    if as_json:
        if to_stderr:
            sys.stderr.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        else:
            print_json(data)
        return

    def rate(value: float | None, unparsed: int) -> str:
        shown = "n/a" if value is None else f"{value:.3f}"
        return f"{shown} ({unparsed} unparsed)"

    table = Table(
        title=escape(f"judge: criticbench {result.prompt_type} ({result.judge})"), show_header=False
    )
    table.add_row("items", str(result.n + n_errors))
    if n_errors:
        table.add_row("model errors", str(n_errors))
    table.add_row(
        "generation accuracy", rate(result.generation_accuracy, result.generation_unparsed)
    )
    table.add_row("critique accuracy", rate(result.critique_accuracy, result.critique_unparsed))
    table.add_row("critique F1 (wrong)", rate(result.critique_f1, result.critique_unparsed))
    table.add_row(
        "correction accuracy", rate(result.correction_accuracy, result.correction_unparsed)
    )
    for label, value in (
        ("  on wrong responses", result.correction_accuracy_on_wrong),
        ("  on correct responses", result.correction_accuracy_on_correct),
    ):
        table.add_row(label, "n/a" if value is None else f"{value:.3f}")
    (err_console if to_stderr else console).print(table)
