"""Progress of a long CLI step that is not a run (``score``, ``report``): a rich bar on a
terminal, a few plain lines on stderr otherwise (as :class:`~reflectlab.cli._runview.PlainProgress`
does for runs), nothing when there is too little work to be worth it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reflectlab.cli._common import err_console
from reflectlab.cli._runview import PLAIN_EVERY_FRACTION, PLAIN_EVERY_S, format_elapsed


@contextmanager
def item_progress(
    label: str, total: int, *, min_total: int = 1, clock: Callable[[], float] = time.monotonic
) -> Iterator[Callable[[], None]]:
    """Yield ``advance()``, to call once per finished item of ``total``. Without a terminal, a
    line at the start, every tenth of the items or 30 s, and at the end, e.g.
    ``scoring: 400/1000 (40%), elapsed 12s``. Below ``min_total`` items, no output."""
    if total < min_total:
        yield lambda: None
        return
    if err_console.is_terminal:
        with Progress(
            TextColumn(f"[bold]{label}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
        ) as bar:
            task = bar.add_task(label, total=total)
            yield lambda: bar.advance(task)
        return
    started = last_time = clock()
    done = last_step = 0
    step = max(1, int(total * PLAIN_EVERY_FRACTION))

    def emit() -> None:
        elapsed = format_elapsed(clock() - started)
        sys.stderr.write(f"{label}: {done}/{total} ({done / total:.0%}), elapsed {elapsed}\n")
        sys.stderr.flush()

    def advance() -> None:
        nonlocal done, last_time, last_step
        done += 1
        now = clock()
        if done // step > last_step or now - last_time >= PLAIN_EVERY_S:
            last_step, last_time = done // step, now
            if done < total:
                emit()

    emit()
    yield advance
    emit()
