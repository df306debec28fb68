"""The report's views in headless Chromium: charts on a phone-sized screen, a deep link below
the sticky header, the list filters, the diff between rounds, every call's sampling parameters
and one sample of two runs side by side. Screenshots land in the test's tmp dir."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from reflectlab.report import report_data, write_report
from reflectlab.store import Store
from report.cdp import STEP_LIMIT_S, Page, chromium, needs_chromium, open_report, set_viewport

pytestmark = needs_chromium

CHART_BOXES = """Array.from(document.querySelectorAll('figure.chart'), f => {
  const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : null;
  return {id: f.id, width: box ? box.width : -1, right: box ? box.right : -1,
          legends: f.querySelectorAll('svg .role-legend').length};
})"""


NOTES_BOXES = """Array.from(document.querySelectorAll('#summary-table td.notes'), td => {
  const b = td.getBoundingClientRect(); return [b.left, b.right, b.width, td.textContent.trim()];
})"""


async def refitted(page: Page) -> None:
    """Wait for the page to take a new viewport: two frames (the resize event is dispatched in
    the first), then the refit it triggers."""
    await page.js(
        "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        ".then(() => window.reflectlab.redrawn).then(() => true)"
    )


async def _select(page: Page, select_id: str, value: str) -> str:
    """Choose ``value`` in a filter; the pager's text once the list is redrawn."""
    info: str = await page.js(
        f"(async () => {{ const f = document.getElementById('{select_id}'); f.value = '{value}';"
        " f.dispatchEvent(new Event('change')); await window.reflectlab.filtering;"
        " return document.getElementById('p-info').textContent; })()"
    )
    return info


async def _listed(page: Page) -> list[list[str]]:
    """(sample id, strategy, "✓✗" per round, flip tags) of every row on the list's page."""
    rows: list[list[str]] = await page.js(
        "Array.from(document.querySelectorAll('#trace-rows tr'), tr => [tr.children[0].textContent,"
        " tr.children[1].textContent, Array.from(tr.children[5].querySelectorAll('.mark-ok,"
        " .mark-bad'), m => m.textContent).join(''), tr.children[5].textContent])"
    )
    return rows


async def _open_link(page: Page, report: Path, fragment: str) -> None:
    # A new document each time: a link differing only in its fragment would not reload.
    loaded = page.event("Page.loadEventFired")
    loaded.clear()
    await page.send("Page.navigate", url="about:blank")
    await asyncio.wait_for(loaded.wait(), STEP_LIMIT_S)
    loaded.clear()
    await page.send("Page.navigate", url=report.resolve().as_uri() + fragment)
    await asyncio.wait_for(loaded.wait(), STEP_LIMIT_S)
    await page.js("window.reflectlab.ready.then(() => window.reflectlab.pending).then(() => true)")


async def test_charts_fit_a_narrow_screen_with_their_legends(
    tmp_path: Path, oracle_run: tuple[Store, str]
) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html")
    async with chromium(tmp_path / "profile") as page:
        # Drawn wide, then the window narrows: the charts follow it.
        await open_report(page, report)
        wide = await page.js(CHART_BOXES)
        assert len(wide) == 4 and all(c["width"] > 0 and c["legends"] > 0 for c in wide), wide
        await set_viewport(page, 400, 900)
        await refitted(page)
        narrowed = await page.js(CHART_BOXES)
        assert all(0 < c["width"] <= 400 and c["right"] <= 400 for c in narrowed), narrowed
        assert all(c["legends"] > 0 for c in narrowed), narrowed

        # Opened on a phone.
        await open_report(page, report)
        charts = await page.js(CHART_BOXES)
        assert len(charts) == 4
        for c in charts:
            assert 0 < c["width"] <= 400 and c["right"] <= 400, c
            assert c["legends"] > 0, c  # the legend is below the plot, not cut off
        # Nothing on the page scrolls sideways; the notes and stop reasons of every strategy
        # are on screen.
        assert await page.js("document.documentElement.scrollWidth") <= 400
        notes = await page.js(NOTES_BOXES)
        assert notes and all(left >= 0 and right <= 400 and w > 0 for left, right, w, _ in notes)
        assert any("completed" in text for *_, text in notes)  # the stop reasons are there
        await page.screenshot(tmp_path / "narrow.png", full_page=True)

        # In between (a tablet, a half-screen window) too, whether the table fits or not.
        for width in (900, 1400):
            await set_viewport(page, width, 900)
            await refitted(page)
            assert await page.js("document.documentElement.scrollWidth") <= width
            notes = await page.js(NOTES_BOXES)
            assert all(left >= 0 and right <= width and w > 0 for left, right, w, _ in notes)
            await page.js("document.getElementById('strategies').scrollIntoView(); true")
            await page.screenshot(tmp_path / f"strategies-{width}.png", full_page=False)
        assert page.errors == []


async def test_deep_link_title_is_below_the_sticky_header(
    tmp_path: Path, oracle_run: tuple[Store, str]
) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html")
    async with chromium(tmp_path / "profile") as page:
        for width in (1400, 400):
            await set_viewport(page, width, 900)
            await _open_link(page, report, "#trace=self_refine/q2")
            header, title = await page.js(
                "[document.querySelector('header.top').getBoundingClientRect().height,"
                " document.querySelector('#trace-view h3').getBoundingClientRect().top]"
            )
            assert header > 0 and header <= title < header + 80, (width, header, title)
            await page.screenshot(tmp_path / f"deep-link-{width}.png", full_page=False)
        assert page.errors == []


async def test_filters_by_flip_and_by_correct_at_round_k(
    tmp_path: Path, oracle_run: tuple[Store, str]
) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html")
    index = report_data(report.read_text("utf-8"))["index"]

    def expected(k: int, right: str) -> int:
        return sum(1 for r in index["rows"] if r[2] and r[2][min(k, len(r[2]) - 1)] == right)

    async with chromium(tmp_path / "profile") as page:
        await open_report(page, report)
        total = len(index["rows"])
        assert f"of {total} (" in await page.js("document.getElementById('p-info').textContent")
        options = await page.js(
            "Array.from(document.getElementById('f-round').options, o => o.value)"
        )
        assert options == ["", "0:1", "0:0", "1:1", "1:0"]

        info = await _select(page, "f-flip", "wr")
        rows = await _listed(page)
        assert rows and all("wrong→right" in r[3] for r in rows)
        assert {r[0] for r in rows} == {"q1"}
        info = await _select(page, "f-flip", "rw")
        assert {r[0] for r in await _listed(page)} == {"q2"}
        await _select(page, "f-flip", "")

        # Correct at round 1: q1 fixed by self_refine is in, q2 broken by it is out; a
        # one-round strategy (direct) keeps its only answer.
        info = await _select(page, "f-round", "1:1")
        rows = await _listed(page)
        assert info.endswith(f"of {expected(1, '1')} (page 1 of 1)") and len(rows) < total
        assert ["q1", "self_refine"] in [r[:2] for r in rows]
        assert ["q2", "self_refine"] not in [r[:2] for r in rows]
        assert all(r[2][min(1, len(r[2]) - 1)] == "✓" for r in rows)
        info = await _select(page, "f-round", "0:0")
        rows = await _listed(page)
        assert info.endswith(f"of {expected(0, '0')} (page 1 of 1)")
        assert all(r[2][0] == "✗" for r in rows)
        # Both filters at once: wrong at the draft, then fixed.
        await _select(page, "f-flip", "wr")
        assert {r[0] for r in await _listed(page)} == {"q1"}
        assert page.errors == []


async def test_diff_between_rounds_and_sampling_parameters(
    tmp_path: Path, oracle_run: tuple[Store, str]
) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html")
    async with chromium(tmp_path / "profile") as page:
        await _open_link(page, report, "#trace=self_refine/q2")
        diff = await page.js(
            "(() => { const d = document.querySelector('#trace-view .round-diff');"
            " return {summary: d.querySelector('summary').textContent,"
            " removed: Array.from(d.querySelectorAll('del'), n => n.textContent),"
            " inserted: Array.from(d.querySelectorAll('ins'), n => n.textContent)}; })()"
        )
        # q2: right at the draft ("Answer: 4"), broken by the refinement ("Answer: 5").
        assert diff["summary"].startswith("round 0 → 1") and "right→wrong" in diff["summary"]
        assert "4" in diff["removed"] and "5" in diff["inserted"]
        assert (
            await page.js("document.querySelectorAll('#trace-view img, #trace-view script').length")
            == 0
        )
        # The diff is text, whatever the model wrote; removed + kept text is the old reply and
        # inserted + kept the new one, also for replies too long for a word table.
        checked = await page.js(
            r"""(() => {
              const D = reflectlabTextDiff;
              const a = 'ok <img src=x onerror="window.__pwned=1"> Answer: 4';
              const b = 'ok <b>bold</b><script>window.__pwned=2</script> Answer: 5';
              const node = D.render(a, b);
              const side = (parts, op) => parts.filter(p => p[0] !== op).map(p => p[1]).join('');
              const words = n => Array.from({length: n}, (_, i) => 'w' + (i * 7919 % 1000))
                .join(' ');
              const longA = words(3000) + '\n' + words(2000);
              const longB = words(2500) + '\nx\n' + words(2600);
              const long = D.diff(longA, longB);
              return [node.querySelectorAll('img, b, script').length,
                      node.textContent.includes('<img'),
                      side(D.diff(a, b), '+') === a && side(D.diff(a, b), '-') === b,
                      side(long, '+') === longA && side(long, '-') === longB];
            })()"""
        )
        assert checked == [0, True, True, True]
        assert await page.js("window.__pwned === undefined")
        # Every call shows its sampling parameters, the server's defaults named as such.
        calls, sampling = await page.js(
            "[document.querySelectorAll('#trace-view .step-call').length,"
            " Array.from(document.querySelectorAll('#trace-view .step-call .sampling'),"
            " n => n.textContent)]"
        )
        assert calls == 3 and len(sampling) == calls
        for line in sampling:
            for name in ("temperature", "max_tokens", "seed", "n 1", "stop"):
                assert name in line, line
        await page.js(
            "document.querySelector('#trace-view .round-diffs')"
            ".scrollIntoView({block: 'center'}); true"
        )
        await page.screenshot(tmp_path / "diff.png", full_page=False)
        assert page.errors == []


async def test_one_sample_of_two_runs_side_by_side(tmp_path: Path, make_run: Any) -> None:
    store, first = await make_run("direct", "self_refine")
    _, second = await make_run("self_refine", max_rounds=2, temperature=0.7, max_tokens=64)
    report = write_report(store, first, tmp_path / "report.html", compare=second)
    data: dict[str, Any] = report_data(report.read_text("utf-8"))
    assert data["compare"]["run_id"] == second and data["compare"]["shared_samples"] == 6
    async with chromium(tmp_path / "profile") as page:
        await _open_link(page, report, "#trace=self_refine/q2")
        cols = await page.js(
            "Array.from(document.querySelectorAll('#compare-grid > .compare-col'),"
            " c => [c.querySelector('h4').textContent, c.querySelectorAll('.round-diff').length])"
        )
        # The other run refined twice: two round-to-round diffs against one.
        assert [(second in h, n) for h, n in cols] == [(False, 1), (True, 2)], cols
        assert first in cols[0][0]
        sampling = await page.js(
            "Array.from(document.querySelectorAll('#compare-grid > .compare-col'), c =>"
            " Array.from(c.querySelectorAll('.sampling'), n => n.textContent))"
        )
        assert sampling[0] and all("temperature server default" in t for t in sampling[0])
        assert sampling[1] and all(
            "temperature 0.7" in t and "max_tokens 64" in t for t in sampling[1]
        ), sampling[1]
        await page.screenshot(tmp_path / "compare.png", full_page=False)
        await page.js(
            "document.getElementById('compare-toggle').click();"
            " window.reflectlab.pending.then(() => true)"
        )
        assert await page.js("document.getElementById('compare-grid') === null")
        assert "side by side with run" in await page.js(
            "document.getElementById('compare-toggle').textContent"
        )
        # The list says how each result did in the other run, and filters on it.
        tags = await page.js(
            "Array.from(document.querySelectorAll('#trace-rows tr'),"
            " tr => [tr.children[1].textContent])"
        )
        assert all("other run: " in t[0] for t in tags)
        assert await _select(page, "f-compare", "missing") == "rows 1–6 of 6 (page 1 of 1)"
        assert {r[1].split("other run")[0] for r in await _listed(page)} == {"direct"}
        assert await _select(page, "f-compare", "same") == "rows 1–6 of 6 (page 1 of 1)"
        assert await _select(page, "f-compare", "differ") == "no sample matches these filters"
        await _select(page, "f-compare", "")
        await page.js("document.getElementById('trace-filters').scrollIntoView(); true")
        await page.screenshot(tmp_path / "compare-list.png", full_page=False)
        assert page.errors == []


async def test_a_trace_beyond_the_report_s_limit_says_it_is_not_embedded(
    tmp_path: Path, oracle_run: tuple[Store, str]
) -> None:
    store, run_id = oracle_run
    report = write_report(store, run_id, tmp_path / "report.html", max_trace_samples=1)
    index = report_data(report.read_text("utf-8"))["index"]
    last = index["samples"][-1][0]
    assert any(r[7] < 0 for r in index["rows"])
    async with chromium(tmp_path / "profile") as page:
        await _open_link(page, report, f"#trace=self_refine/{last}")
        text = await page.js("document.querySelector('#trace-view').textContent")
        assert "is not in this report" in text and "--traces all" in text
        limit = await page.js("document.querySelector('#trace-limit').textContent")
        assert "first 1 of" in limit
        assert page.errors == []
