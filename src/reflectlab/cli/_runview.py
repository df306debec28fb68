"""Shared by run, resume, show and compare: the progress bar and the summary output."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reflectlab.analysis import RunSummary, render_summary
from reflectlab.cli._common import console, err_console, print_json
from reflectlab.run import offline_stages_json, summarize_stored_run, summary_json
from reflectlab.store import ResultRecord, RunRecord, Store

RunCoro = Callable[
    [Callable[[ResultRecord], None], Callable[[RunRecord], None]], Coroutine[Any, Any, str]
]


PLAIN_EVERY_S = 30.0
"""Without a terminal, a progress line at least this often (seconds) while results arrive..."""
PLAIN_EVERY_FRACTION = 0.1
"""...and whenever another tenth of the expected results is done."""


def format_elapsed(seconds: float) -> str:
    """``42s``, ``2m10s``, ``1h05m``."""
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    return f"{total // 3600}h{total % 3600 // 60:02d}m"


class PlainProgress:
    """Progress as plain lines for a log file or a CI console (stderr is not a terminal, so a
    live bar would print nothing until the end): one line when the run starts, then one every
    ``every_s`` seconds or every ``every_fraction`` of the expected results, whichever comes
    first, and a last one at the end, e.g.
    ``run 20260101-ab12: 120/800 results (15%), 3 errors, acc 0.42, elapsed 2m10s``.
    ``clock`` is injectable so tests need not sleep."""

    def __init__(
        self,
        write: Callable[[str], None],
        *,
        every_s: float = PLAIN_EVERY_S,
        every_fraction: float = PLAIN_EVERY_FRACTION,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.write = write
        self.every_s = every_s
        self.every_fraction = every_fraction
        self.clock = clock
        self.started = clock()
        self.run_id: str | None = None
        self.total: int | None = None
        self.done = self.correct = self.errors = self.tokens = 0
        self.cost = 0.0
        self._last_time = self.started
        self._last_step = 0
        self._last_done = -1

    def on_start(self, run: RunRecord) -> None:
        self.run_id, self.total, self.done = run.run_id, run.n_expected, run.n_done
        self._last_step = self._step()
        self.emit()

    def on_result(self, r: ResultRecord) -> None:
        self.done += 1
        self.correct += int(r.final_correct)
        self.errors += int(r.error is not None)
        self.tokens += r.prompt_tokens + r.completion_tokens
        self.cost += r.cost_usd
        step = self._step()
        if step > self._last_step or self.clock() - self._last_time >= self.every_s:
            self._last_step = step
            self.emit()

    def finish(self) -> None:
        """The last line, unless the previous one already said the same."""
        if self.run_id is not None and self.done != self._last_done:
            self.emit()

    def line(self) -> str:
        total = self.total or 0
        counts = f"{self.done}/{total} results"
        if total:
            counts += f" ({self.done * 100 // total}%)"
        parts = [counts, f"{self.errors} error{'s' if self.errors != 1 else ''}"]
        if self.done:
            parts.append(f"acc {self.correct / self.done:.2f}")
        parts.append(f"tok {self.tokens:,}")
        if self.cost:
            parts.append(f"${self.cost:.4f}")
        parts.append(f"elapsed {format_elapsed(self.clock() - self.started)}")
        return f"run {self.run_id}: " + ", ".join(parts)

    def emit(self) -> None:
        self._last_time = self.clock()
        self._last_done = self.done
        self.write(self.line())

    def _step(self) -> int:
        """How many ``every_fraction`` steps are done (integer arithmetic: 6 of 20 is 3 tenths,
        where ``int(6 / 20 / 0.1)`` would be 2)."""
        if not self.total or self.every_fraction <= 0:
            return 0
        steps = max(1, round(1 / self.every_fraction))
        return self.done * steps // self.total


def run_with_progress(start: RunCoro, *, quiet: bool) -> str:
    """Run ``start(on_result, on_start)`` with progress on stderr: a live bar (samples done,
    accuracy so far, tokens and cost) on a terminal, else plain :class:`PlainProgress` lines.
    Ctrl-C leaves the run resumable and says how."""
    if not quiet and not err_console.is_terminal:
        return _run_plain(start)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("acc {task.fields[acc]}  tok {task.fields[tokens]:,}  ${task.fields[cost]:.4f}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=False,
    )
    state: dict[str, Any] = {"done": 0, "correct": 0, "tokens": 0, "cost": 0.0, "run_id": None}
    bar = progress.add_task("starting", total=None, acc="-", tokens=0, cost=0.0)

    def on_start(run: RunRecord) -> None:
        # Shown only once the run exists: a bad option fails before any bar is drawn.
        progress.start()
        state["run_id"] = run.run_id
        state["done"] = run.n_done
        progress.update(bar, description=run.run_id, total=run.n_expected, completed=run.n_done)

    def on_result(r: ResultRecord) -> None:
        state["done"] += 1
        state["correct"] += int(r.final_correct)
        state["tokens"] += r.prompt_tokens + r.completion_tokens
        state["cost"] += r.cost_usd
        progress.update(
            bar,
            completed=state["done"],
            acc=f"{state['correct'] / max(1, state['done']):.2f}",
            tokens=state["tokens"],
            cost=state["cost"],
        )

    try:
        return asyncio.run(start(on_result, on_start))
    except KeyboardInterrupt:
        progress.stop()  # the bar's last line first, then the hint below it
        _interrupted(state["run_id"])
    finally:
        progress.stop()


def _run_plain(start: RunCoro) -> str:
    def write(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()  # a log file sees each line as it happens

    plain = PlainProgress(write)
    try:
        run_id = asyncio.run(start(plain.on_result, plain.on_start))
    except KeyboardInterrupt:
        plain.finish()
        _interrupted(plain.run_id)
    plain.finish()
    return run_id


def _interrupted(run_id: str | None) -> NoReturn:
    if run_id:
        err_console.print(  # soft_wrap: never break the command to copy across lines
            f"\ninterrupted; nothing finished is lost. Continue with: reflectlab resume {run_id}",
            soft_wrap=True,
        )
    raise SystemExit(130) from None


def print_summary(
    store: Store,
    run_id: str,
    *,
    as_json: bool,
    baseline: str | None = None,
    out: Console | None = None,
) -> tuple[RunRecord, RunSummary]:
    """Print the run's summary (a table, or ``--json``) and return it, so callers that also
    write or check it do not compute it again."""
    run, summary = summarize_stored_run(store, run_id, baseline=baseline)
    offline = offline_stages_json(store, run.run_id)
    if as_json:
        data = summary_json(run, summary)
        if offline:
            data["offline_stages"] = offline
        print_json(data)
        return run, summary
    target = out or console
    target.print(
        f"run {run.run_id}  [{run.status}]  task={run.task}  model={run.model}  "
        f"done {run.n_done}/{run.n_expected}"
    )
    for renderable in render_summary(summary, width=target.width):
        target.print(renderable)
    for name, tok_s in summary.generation_tok_s.items():
        target.print(f"{name}: {tok_s:.1f} generated tok/s per request (fresh calls)")
    for stage in offline:
        print_offline_stage(stage, target)
    return run, summary


def print_offline_stage(stage: dict[str, Any], target: Console) -> None:
    """A strategy's offline stage: on what it learned, where its labels came from, what it
    cost (not in any sample's figures above) and the guidelines it wrote."""
    source = f" ({stage['train_source']})" if stage.get("train_source") else ""
    target.print(
        f"\n{stage['strategy']}: offline stage on {stage['train_samples']} training samples"
        f"{source}, never scored",
        markup=False,
        soft_wrap=True,
    )
    target.print(f"  feedback: {stage['provenance']}", markup=False, soft_wrap=True)
    target.print(
        f"  {stage['calls']} calls ({stage['cache_hits']} cache hits), "
        f"{stage['prompt_tokens'] + stage['completion_tokens']:,} tokens, "
        f"${stage['cost_usd']:.4f}, {stage['wall_s']:.1f} s; "
        f"{stage['important_states']} important states, {stage['states_reflected']} reflected, "
        f"{stage['policies']} policies"
        + (
            f"; {stage['truncated_calls']} replies cut by max_tokens"
            if stage["truncated_calls"]
            else ""
        ),
        markup=False,
        soft_wrap=True,
    )
    text = stage.get("guidelines") or "(none: no important state was found)"
    target.print("  guidelines:", markup=False)
    for line in text.splitlines():
        target.print(f"    {line}", markup=False, soft_wrap=True)


#: Exit status of ``run``/``resume`` when the run finished but some samples errored.
EXIT_SAMPLES_ERRORED = 3


def exit_for_errors(summary: RunSummary, run_id: str) -> None:
    """Say which samples errored and exit with :data:`EXIT_SAMPLES_ERRORED`; return if none.
    Errored samples are counted apart from wrong answers (``errors_by_kind`` of each
    strategy's summary)."""
    kinds: Counter[str] = Counter()
    for row in summary.strategies:
        kinds.update(row.errors_by_kind)
    if not kinds:
        return
    listed = ", ".join(f"{kind} x{n}" for kind, n in kinds.most_common())
    err_console.print(
        f"{sum(kinds.values())} samples errored ({listed}); they count as not correct and are "
        f"left out of paired tests. Retry them with: reflectlab resume {run_id}",
        soft_wrap=True,
    )
    raise SystemExit(EXIT_SAMPLES_ERRORED)
