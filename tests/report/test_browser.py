"""The report in a real browser: headless Chromium, no network, driven over the DevTools
protocol (aiohttp websocket; no extra dependency).

It checks what a reader relies on: the page opens from disk with no request leaving the
machine, the charts draw, the summary table is there, one sample's trace opens with its
messages, model-written markup stays text, and the console has no error. Screenshots are saved
in the test's tmp dir for a person to look at.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from reflectlab.report import write_report
from report.cdp import STEP_LIMIT_S, chromium, needs_chromium, open_report

pytestmark = needs_chromium


async def test_report_opens_offline_and_shows_a_trace(
    tmp_path: Path, oracle_run: tuple[Any, str]
) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html")
    async with chromium(tmp_path / "profile") as page:
        await open_report(page, report)
        summary_rows = await page.js("document.querySelectorAll('#summary-table tbody tr').length")
        assert summary_rows == len(store.get_run(run_id).strategies) + 6  # 2 x 3 baselines
        charts = await page.js(
            "Array.from(document.querySelectorAll('figure.chart'), f => f.querySelectorAll('svg "
            "path, svg rect, svg line').length)"
        )
        assert len(charts) == 4 and all(n > 0 for n in charts), charts
        assert await page.js("document.getElementById('oracle-banner') !== null")
        listed = await page.js("document.querySelectorAll('#trace-rows tr').length")
        assert 0 < listed <= 50  # a page of rows, not every result
        await page.screenshot(tmp_path / "report.png", full_page=True)

        # Open the first sample whose answer reflection broke (right -> wrong).
        await page.js(
            "(() => { const f = document.getElementById('f-flip'); f.value = 'rw';"
            " f.dispatchEvent(new Event('change')); return true; })()"
        )
        first = await page.js("document.querySelector('#trace-rows tr td').textContent")
        assert first == "q2"
        await page.js("document.querySelector('#trace-rows tr').click(); true")
        await page.js("window.reflectlab.pending.then(() => true)")
        view = await page.js("document.getElementById('trace-view').textContent")
        assert "Review your answer above" in view  # the critique prompt, in order
        assert "right→wrong" in await page.js("document.querySelector('#trace-rows tr').innerText")
        assert view.index("answer · round 0") < view.index("call 2 · feedback")
        assert view.index("call 3 · refine") < view.index("answer · round 1")
        # Model-written markup is shown as text and never runs.
        assert '<img src=x onerror="window.__pwned=1">' in view
        assert (
            await page.js("document.querySelectorAll('#trace-view img, #trace-view script').length")
            == 0
        )
        assert await page.js("window.__pwned === undefined")
        assert (await page.js("location.hash")).startswith("#trace=")
        await page.js("document.getElementById('trace-view').scrollIntoView(); true")
        await page.screenshot(tmp_path / "trace.png", full_page=False)

        assert page.errors == []
        remote = [u for u in page.requests if not u.startswith(("file:", "data:", "blob:"))]
        assert remote == []
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "trace.png").read_bytes().startswith(b"\x89PNG")


async def test_deep_link_and_message_search(tmp_path: Path, oracle_run: tuple[Any, str]) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html")
    async with chromium(tmp_path / "profile") as page:
        # A link to one trace opens it directly.
        loaded = page.event("Page.loadEventFired")
        loaded.clear()
        await page.send("Page.navigate", url=report.resolve().as_uri() + "#trace=self_refine/q1")
        await asyncio.wait_for(loaded.wait(), STEP_LIMIT_S)
        await page.js("window.reflectlab.ready.then(() => window.reflectlab.pending)")
        heading = await page.js("document.querySelector('#trace-view h3 span').textContent")
        assert heading == "sample q1 · self_refine"
        # Searching inside model messages finds the samples whose conversation has the text.
        search = (
            "(async () => {{ document.getElementById('f-deep').checked = {deep};"
            " const s = document.getElementById('f-search'); s.value = 'onerror';"
            " s.dispatchEvent(new Event('input')); await window.reflectlab.filtering;"
            " return document.getElementById('p-info').textContent; }})()"
        )
        assert await page.js(search.format(deep="false")) == "no sample matches these filters"
        info = await page.js(search.format(deep="true"))
        assert info.startswith("rows 1–")
        assert page.errors == []
