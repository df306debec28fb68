"""Several endpoints of one model: balancing, take-out and cool-down, the served endpoint on
every call, and a cache key that does not depend on the replica."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from typer.testing import CliRunner

from reflectlab._util.fake_openai import FakeOpenAI, fake_server_process, start_fake_server
from reflectlab.cli import app
from reflectlab.errors import BadRequestError, ConfigError, ProviderUnavailableError
from reflectlab.model import MemoryCache, RetryPolicy, capture_calls, get_model, request_hash
from reflectlab.model.providers.balanced import BalancedAPI
from reflectlab.model.providers.openai import OpenAIAPI
from support.servers import serve

NO_WAIT = RetryPolicy(max_attempts=4, initial_delay_s=0.0, jitter=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_requests_are_spread_with_per_endpoint_limits() -> None:
    fakes = [FakeOpenAI(latency_s=0.02) for _ in range(3)]
    async with serve(fakes[0]) as a, serve(fakes[1]) as b, serve(fakes[2]) as c:
        model = get_model("openai/fake", base_url=[a, b, c], max_connections=3, retry=NO_WAIT)
        assert isinstance(model.api, BalancedAPI)
        with capture_calls() as events:
            outs = await asyncio.gather(*(model.generate(f"q{i}") for i in range(45)))
        await model.aclose()
    assert all(o.text.startswith("echo:") for o in outs)
    served = Counter(e.base_url for e in events)
    # every call names the replica that answered it, and each replica saw exactly those
    assert served == {
        a: len(fakes[0].requests),
        b: len(fakes[1].requests),
        c: len(fakes[2].requests),
    }
    assert all(f.requests for f in fakes)
    assert all(f.max_in_flight <= 3 for f in fakes)  # the per-endpoint limit held


async def test_least_outstanding_prefers_the_idle_endpoint() -> None:
    slow, fast = FakeOpenAI(latency_s=0.3), FakeOpenAI(latency_s=0.0)
    async with serve(slow) as s, serve(fast) as f:
        model = get_model("openai/fake", base_url=f"{s},{f}", max_connections=8)
        first = asyncio.ensure_future(model.generate("held"))
        while not slow.requests and not fast.requests:
            await asyncio.sleep(0.005)
        busy = s if slow.requests else f
        with capture_calls() as events:
            await model.generate("next")
        await first
        await model.aclose()
    # the second request goes to the endpoint with nothing in flight
    assert events[0].base_url != busy


async def test_cache_key_does_not_depend_on_the_replica_and_single_url_keys_stay() -> None:
    fa, fb = FakeOpenAI(), FakeOpenAI()
    cache = MemoryCache()
    async with serve(fa) as a, serve(fb) as b:
        first = get_model("openai/fake", base_url=[a, b], cache=cache)
        out1 = await first.generate("same question")
        # the same endpoints in another order, and a trailing slash: the same entry
        again = get_model("openai/fake", base_url=f"{b}/,{a}", cache=cache)
        out2 = await again.generate("same question")
        single = get_model("openai/fake", base_url=a)
        out3 = await single.generate("same question")
        for m in (first, again, single):
            await m.aclose()
    assert out2.from_cache and out2.request_hash == out1.request_hash
    assert len(fa.requests) + len(fb.requests) == 2  # the first call and the single-URL one
    # one URL: exactly the key it always had
    assert out3.request_hash == request_hash("openai/fake", a, single_msgs(), single.config, 0)
    assert out1.request_hash != out3.request_hash


def single_msgs() -> list:  # type: ignore[type-arg]
    from reflectlab.model import as_messages

    return as_messages("same question")


async def test_a_killed_endpoint_is_taken_out_and_the_run_goes_on() -> None:
    fakes = [FakeOpenAI(latency_s=0.02), FakeOpenAI(latency_s=0.02)]
    proc, doomed = start_fake_server(0.02)
    try:
        async with serve(fakes[0]) as a, serve(fakes[1]) as b:
            model = get_model(
                "openai/fake", base_url=[a, b, doomed], max_connections=4, retry=NO_WAIT
            )
            api = model.api
            assert isinstance(api, BalancedAPI)
            api.cooldown_s = 3600.0  # once out, it stays out for this test
            done: list[str] = []

            async def one(i: int) -> None:
                out = await model.generate(f"q{i}")
                done.append(out.text)

            with capture_calls() as events:
                tasks = [asyncio.ensure_future(one(i)) for i in range(60)]
                while len(done) < 12:
                    await asyncio.sleep(0.005)
                proc.kill()
                proc.wait()
                served_before = sum(e.base_url == doomed for e in events)
                await asyncio.gather(*tasks)
            await model.aclose()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(done) == 60 and all(e.error is None for e in events)  # no call was lost
    assert served_before > 0  # it took its share while it was up
    # nothing after the kill was served by it; every call after it went to the survivors
    assert sum(e.base_url == doomed for e in events) == served_before
    assert {e.base_url for e in events} <= {a, b, doomed}
    dead = next(ep for ep in api.endpoints if ep.url == doomed)
    assert dead.failures >= 1 and dead.down_until > time.monotonic()
    # the requests in flight when it died failed over, at most once each, not retried on it
    assert dead.failures <= 4


async def test_cool_down_backs_off_then_a_probe_brings_the_endpoint_back() -> None:
    now = [1000.0]
    port = free_port()
    late = f"http://127.0.0.1:{port}/v1"
    fake_up, fake_late = FakeOpenAI(), FakeOpenAI()
    async with serve(fake_up) as up:
        api = BalancedAPI(
            [OpenAIAPI("fake", base_url=up), OpenAIAPI("fake", base_url=late)],
            cooldown_s=10.0,
            clock=lambda: now[0],
        )
        model = get_model("openai/fake", base_url=up)  # the facade only; swap the API in
        model.api = api
        dead = api.endpoints[1]

        async def calls(n: int) -> list[str | None]:
            with capture_calls() as events:
                for i in range(n):
                    await model.generate(f"q{now[0]}-{i}")
            return [e.base_url for e in events]

        served = await calls(4)
        assert set(served) == {up} and dead.failures == 1  # failed once, then left alone
        assert dead.down_until == 1010.0
        now[0] = 1005.0
        await calls(3)
        assert dead.failures == 1  # still cooling down: not tried
        now[0] = 1011.0
        await calls(3)  # one probe, it fails again: the cool-down doubles
        assert dead.failures == 2 and dead.down_until == 1031.0
        runner = web.AppRunner(fake_late.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            now[0] = 1032.0
            served = await calls(6)
        finally:
            await model.aclose()
            await runner.cleanup()
    assert late in served and fake_late.requests  # the probe succeeded and it serves again
    assert dead.streak == 0 and dead.down_until == 0.0


async def test_every_endpoint_down_is_a_retryable_error_naming_the_wait() -> None:
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    model = get_model(
        "openai/fake",
        base_url=urls,
        retry=RetryPolicy(max_attempts=1, initial_delay_s=0.0, jitter=False),
    )
    with capture_calls() as events, pytest.raises(ProviderUnavailableError) as info:
        await model.generate("q")
    with pytest.raises(ProviderUnavailableError) as again:
        await model.generate("q")  # both are cooling down now: refused without a request
    await model.aclose()
    assert info.value.retryable and "cannot reach the server" in str(info.value)
    assert again.value.retry_after is not None and again.value.retry_after > 0
    assert "2 of 2 cooling down" in str(again.value)
    assert events[0].error is not None


async def test_a_request_error_is_not_an_endpoint_failure() -> None:
    fa = FakeOpenAI(fail_statuses=[400])
    fb = FakeOpenAI(fail_statuses=[400])
    async with serve(fa) as a, serve(fb) as b:
        model = get_model("openai/fake", base_url=[a, b], retry=NO_WAIT)
        with capture_calls() as events, pytest.raises(BadRequestError):
            await model.generate("q")
        api = model.api
        await model.aclose()
    assert isinstance(api, BalancedAPI)
    assert len(fa.requests) + len(fb.requests) == 1  # not sent again elsewhere
    assert all(ep.failures == 0 for ep in api.endpoints)
    assert events[0].base_url in (a, b)  # the endpoint that refused it


def test_base_url_lists_are_validated_before_any_call() -> None:
    with pytest.raises(ConfigError, match=r"not a valid URL|is not an absolute"):
        get_model("openai/fake", base_url="http://127.0.0.1:1/v1,ftp://x")
    with pytest.raises(ConfigError, match="takes one base_url"):
        get_model("mock/x", base_url=["http://a/v1", "http://b/v1"])
    one = get_model("openai/fake", base_url=["http://127.0.0.1:1/v1/", "http://127.0.0.1:1/v1"])
    assert isinstance(one.api, OpenAIAPI) and one.api.base_url == "http://127.0.0.1:1/v1"


def test_run_cli_with_base_url_repeated(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    with fake_server_process(0.0) as a, fake_server_process(0.0) as b:
        result = CliRunner().invoke(
            app,
            [
                "run",
                "--task",
                "arith",
                "--strategy",
                "direct",
                "--model",
                "openai/fake",
                "--base-url",
                a,
                "--base-url",
                b,
                "--limit",
                "12",
                "--concurrency",
                "4",
                "--baselines",
                "none",
                "--json",
                "--quiet",
                "--db",
                str(db),
            ],
        )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["config"]["base_url"] == f"{a},{b}"
    import sqlite3

    con = sqlite3.connect(db)
    rows = dict(con.execute("SELECT base_url, COUNT(*) FROM calls GROUP BY base_url").fetchall())
    con.close()
    assert set(rows) <= {a, b} and sum(rows.values()) == 12
