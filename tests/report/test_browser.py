"""The report in a real browser: headless Chromium, no network, driven over the DevTools
protocol (aiohttp websocket; no extra dependency).

It checks what a reader relies on: the page opens from disk with no request leaving the
machine, the charts draw, the summary table is there, one sample's trace opens with its
messages, model-written markup stays text, and the console has no error. Screenshots are saved
in the test's tmp dir for a person to look at.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from reflectlab.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install -y chromium; .ci/run installs it)",
)
# Generous bounds so a stuck browser fails the test instead of hanging it; never asserted on.
STARTUP_LIMIT_S = 60
STEP_LIMIT_S = 60


class Page:
    """One browser tab over a flattened DevTools session: commands, events, console errors
    and every network request the page made."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.session: str | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._events: dict[str, asyncio.Event] = {}
        self.errors: list[str] = []
        self.requests: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
                continue
            method, params = data.get("method", ""), data.get("params", {})
            self._events.setdefault(method, asyncio.Event()).set()
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                self.errors.append(
                    str(details.get("exception", {}).get("description") or details.get("text"))
                )
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                self.errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                self.errors.append(f"{params['entry'].get('url', '')}: {params['entry']['text']}")
            elif method == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        await self.ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, STEP_LIMIT_S)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def event(self, method: str) -> asyncio.Event:
        return self._events.setdefault(method, asyncio.Event())

    async def js(self, expression: str) -> Any:
        """Evaluate in the page (awaiting a promise result); raise on a JS exception."""
        out = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in out:
            raise AssertionError(f"{expression!r} threw: {out['exceptionDetails']}")
        return out["result"].get("value")

    async def screenshot(self, path: Path, *, full_page: bool) -> Path:
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = (await self.send("Page.getLayoutMetrics"))["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        shot = await self.send("Page.captureScreenshot", **params)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Page]:
    """Headless Chromium with a throw-away profile, offline: DNS resolves nothing and the tab
    is put in offline mode before the report loads."""
    assert CHROMIUM is not None
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        url = await asyncio.wait_for(_devtools_url(proc.stderr), STARTUP_LIMIT_S)
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url, max_msg_size=0) as ws,
        ):
            page = Page(ws)
            target = await page.send("Target.createTarget", url="about:blank")
            attached = await page.send(
                "Target.attachToTarget", targetId=target["targetId"], flatten=True
            )
            page.session = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                await page.send(f"{domain}.enable")
            await page.send(
                "Network.emulateNetworkConditions",
                offline=True,
                latency=0,
                downloadThroughput=-1,
                uploadThroughput=-1,
            )
            await page.send(
                "Emulation.setDeviceMetricsOverride",
                width=1400,
                height=1000,
                deviceScaleFactor=1,
                mobile=False,
            )
            yield page
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def _devtools_url(stderr: asyncio.StreamReader) -> str:
    while line := await stderr.readline():
        found = re.search(rb"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1).decode()
    raise AssertionError("chromium exited without opening the DevTools port")


async def open_report(page: Page, path: Path) -> None:
    loaded = page.event("Page.loadEventFired")
    loaded.clear()
    await page.send("Page.navigate", url=path.resolve().as_uri())
    await asyncio.wait_for(loaded.wait(), STEP_LIMIT_S)
    await page.js("window.reflectlab.ready.then(() => true)")


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
