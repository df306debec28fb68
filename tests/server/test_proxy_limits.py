"""Security and robustness: keys, sizes, saturation, disconnects, upstream errors, probes,
metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import openai
import pytest
from pydantic import SecretStr

from reflectlab.errors import ConfigError
from reflectlab.server import Limits, ServerConfig, create_app
from reflectlab.store import Store
from server.proxy_support import FakeUpstream, Proxy, running_proxy

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


def aclient(proxy: Proxy, key: str = "unused") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=proxy.base_url, api_key=key, max_retries=0)


def test_binding_beyond_loopback_needs_a_client_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"refusing to listen on '0\.0\.0\.0'"):
        create_app(ServerConfig(upstream="http://127.0.0.1:1/v1", host="0.0.0.0"))
    store = Store(tmp_path / "db")
    create_app(
        ServerConfig(upstream="http://127.0.0.1:1/v1", host="0.0.0.0", api_key=SecretStr("k")),
        store=store,
    )
    store.close()


async def test_client_key_is_required_and_probes_stay_open(tmp_path: Path) -> None:
    async with running_proxy(FakeUpstream(), tmp_path / "db", api_key=SecretStr("s3cret")) as p:
        with pytest.raises(openai.AuthenticationError):
            await aclient(p, "wrong").chat.completions.create(model="fake", messages=QUESTION)
        with pytest.raises(openai.AuthenticationError):
            await aclient(p, "s3cre").chat.completions.create(model="fake", messages=QUESTION)
        out = await aclient(p, "s3cret").chat.completions.create(model="fake", messages=QUESTION)
        assert out.choices[0].message.content
        async with aiohttp.ClientSession() as http:
            for path in ("/healthz", "/readyz", "/openapi.json"):
                async with http.get(p.url + path) as r:
                    assert r.status == 200, path
            for path in ("/metrics", "/v1/models"):
                async with http.get(p.url + path) as r:
                    assert r.status == 401, path
        # the client's key is not forwarded upstream
        assert all("s3cret" not in str(h) for h in p.fake.headers_seen)


async def test_upstream_key_is_sent_but_never_echoed_or_stored(tmp_path: Path) -> None:
    fake = FakeUpstream(echo_auth_on_401=True)
    secret = "sk-upstream-0123456789"
    async with running_proxy(fake, tmp_path / "db", upstream_api_key=SecretStr(secret)) as p:
        client = aclient(p)
        for model in ("fake", "self_refine/fake"):
            with pytest.raises(openai.APIStatusError) as err:
                await client.chat.completions.create(model=model, messages=QUESTION)
            assert err.value.status_code == 502
            assert secret not in err.value.response.text
        assert fake.headers_seen[0]["Authorization"] == f"Bearer {secret}"
        stored = [e.model_dump_json() for e in p.store.calls()]
        assert stored and all(secret not in s for s in stored)
        assert secret not in str(p.store.get_run(p.state.traces.run_id))


async def test_body_over_the_limit_is_413(tmp_path: Path) -> None:
    limits = Limits(max_body_bytes=2048)
    async with running_proxy(FakeUpstream(), tmp_path / "db", limits=limits) as p:
        big = [{"role": "user", "content": "x" * 4000}]
        with pytest.raises(openai.APIStatusError) as err:
            await aclient(p).chat.completions.create(model="fake", messages=big)  # type: ignore[arg-type]
        assert err.value.status_code == 413
        assert err.value.code == "request_too_large"
        async with aiohttp.ClientSession() as http:  # chunked, no Content-Length

            async def body():  # type: ignore[no-untyped-def]
                yield b'{"model": "fake", "messages": [{"role": "user", "content": "'
                yield b"x" * 4000
                yield b'"}]}'

            async with http.post(p.base_url + "/chat/completions", data=body()) as r:
                assert r.status == 413
                assert (await r.json())["error"]["code"] == "request_too_large"
        assert p.fake.requests == []


async def test_saturation_is_429_with_retry_after(tmp_path: Path) -> None:
    fake = FakeUpstream(gate=asyncio.Event())
    limits = Limits(max_concurrency=1, retry_after_s=3)
    async with running_proxy(fake, tmp_path / "db", limits=limits) as p:
        client = aclient(p)
        first = asyncio.ensure_future(
            client.chat.completions.create(model="self_refine/fake", messages=QUESTION)
        )
        await fake.arrived.wait()
        with pytest.raises(openai.RateLimitError) as err:
            await client.chat.completions.create(model="fake", messages=QUESTION)
        assert err.value.response.headers["Retry-After"] == "3"
        assert err.value.code == "proxy_saturated"
        assert fake.gate is not None
        fake.gate.set()
        assert (await first).choices[0].message.content
        async with aiohttp.ClientSession() as http, http.get(p.url + "/metrics") as r:
            text = await r.text()
        assert 'kind="proxy_saturated"' in text


@pytest.mark.parametrize("model", ["fake", "self_refine/fake"])
async def test_client_disconnect_cancels_internal_calls(tmp_path: Path, model: str) -> None:
    fake = FakeUpstream(gate=asyncio.Event())  # never opened: the call can only be cancelled
    async with running_proxy(fake, tmp_path / "db") as p:
        request = asyncio.ensure_future(
            aclient(p).chat.completions.create(model=model, messages=QUESTION)
        )
        await fake.arrived.wait()
        request.cancel()  # the client goes away
        await asyncio.wait_for(fake.cancelled_event.wait(), timeout=30)
        assert fake.cancelled == 1
        for _ in range(100):  # let the proxy's handler finish unwinding
            if p.state.gate.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert p.state.gate.in_flight == 0
        assert 'kind="client_disconnected"' in p.state.metrics.render()


@pytest.mark.parametrize(
    ("status", "expected", "code"),
    [
        (429, 429, "upstream_rate_limited"),
        (503, 502, None),
        (400, 400, "upstream_bad_request"),
        (404, 404, "upstream_bad_request"),
    ],
)
async def test_upstream_errors_keep_their_meaning(
    tmp_path: Path, status: int, expected: int, code: str | None
) -> None:
    fake = FakeUpstream(fail_statuses=[status])
    async with running_proxy(fake, tmp_path / "db") as p:
        with pytest.raises(openai.APIStatusError) as err:
            await aclient(p).chat.completions.create(model="fake", messages=QUESTION)
        assert err.value.status_code == expected
        assert "Traceback" not in err.value.response.text
        body = err.value.response.json()["error"]
        assert "scripted failure" in body["message"] and "url=" not in body["message"]
        if code:
            assert body["code"] == code


async def test_strategy_upstream_failure_maps_after_retries(tmp_path: Path) -> None:
    fake = FakeUpstream(fail_statuses=[400])
    async with running_proxy(fake, tmp_path / "db") as p:
        with pytest.raises(openai.BadRequestError) as err:
            await aclient(p).chat.completions.create(model="self_refine/fake", messages=QUESTION)
        assert err.value.code == "upstream_bad_request"
        assert len(fake.requests) == 1  # a 400 is not retried


async def test_models_probes_metrics_and_openapi(proxy: Proxy) -> None:
    client = aclient(proxy)
    await client.chat.completions.create(model="self_refine:max_rounds=1/fake", messages=QUESTION)
    await client.chat.completions.create(model="fake", messages=QUESTION)
    ids = [m.id async for m in client.models.list()]
    assert "fake" in ids and "self_refine/fake" in ids and "reflexion/fake" in ids
    assert "direct/fake" not in ids
    before = len(proxy.fake.requests)
    async with aiohttp.ClientSession() as http:
        async with http.get(proxy.url + "/healthz") as r:
            assert r.status == 200
        async with http.get(proxy.url + "/readyz") as r:
            assert r.status == 200 and (await r.json())["status"] == "ready"
        async with http.get(proxy.url + "/metrics") as r:
            metrics = await r.text()
        async with http.get(proxy.url + "/openapi.json") as r:
            doc = await r.json()
        async with http.get(proxy.url + "/nope") as r:
            assert r.status == 404 and (await r.json())["error"]["code"] == "not_found"
    assert len(proxy.fake.requests) == before  # probes make no model call
    s = 'strategy="self_refine:max_rounds=1"'
    assert f'reflectlab_proxy_requests_total{{{s},status="200"}} 1' in metrics
    assert f'reflectlab_proxy_upstream_calls_total{{{s},role="refine"}} 1' in metrics
    assert f'reflectlab_proxy_upstream_calls_total{{{s},role="draft"}} 1' in metrics
    assert 'reflectlab_proxy_upstream_calls_total{strategy="direct",role="direct"} 1' in metrics
    assert f'reflectlab_proxy_tokens_total{{{s},kind="prompt"}}' in metrics
    assert f"reflectlab_proxy_request_duration_seconds_count{{{s}}} 1" in metrics
    assert "reflectlab_proxy_requests_in_flight 0" in metrics
    assert doc["openapi"].startswith("3.")
    assert "/v1/chat/completions" in doc["paths"]


async def test_malformed_bodies_are_400_never_500(proxy: Proxy) -> None:
    bodies = [
        b"not json",
        b"[1, 2]",
        b"{}",
        b'{"model": "fake", "messages": []}',
        b'{"model": "fake", "messages": [{"content": "x"}]}',
        b'{"model": "fake", "messages": [{"role": "user", "content": 5}]}',
        b'{"model": "fake", "messages": [{"role": "user", "content": "x"}], "n": 0}',
        b'{"model": "fake", "messages": [{"role": "user", "content": "x"}], "temperature": 9}',
        b'{"model": "self_refine/fake", "messages": [{"role": "tool", "content": "x"}]}',
        b'{"model": "self_refine/fake", "messages": [{"role": "system", "content": "x"}]}',
        b'{"model": "fake", "messages": [{"role": "user", "content": "x"}], '
        b'"reflectlab": {"strategy": 3}}',
        b'{"model": "fake", "messages": [{"role": "user", "content": "x"}], '
        b'"reflectlab": {"strategy": "self_refine:=x"}}',
    ]
    async with aiohttp.ClientSession() as http:
        for body in bodies:
            async with http.post(
                proxy.base_url + "/chat/completions",
                data=body,
                headers={"Content-Type": "application/json"},
            ) as r:
                text = await r.text()
                assert r.status == 400, (body, text)
                assert "Traceback" not in text
                assert (await r.json())["error"]["message"]
    assert proxy.fake.requests == []


def _is_feedback(body: dict[str, object]) -> bool:
    return "Review your answer" in str(body["messages"])


async def test_wall_time_cap_returns_the_last_answer_or_504(tmp_path: Path) -> None:
    fake = FakeUpstream(gate=asyncio.Event(), hold=_is_feedback)  # feedback never comes back
    limits = Limits(request_timeout_s=0.5)
    async with running_proxy(fake, tmp_path / "db", limits=limits) as p:
        out = await aclient(p).chat.completions.create(model="self_refine/fake", messages=QUESTION)
        info = out.model_extra["reflectlab"]  # type: ignore[index]
        assert info["stop_reason"].startswith("wall_time")
        assert out.choices[0].message.content == info["answers"][0]["text"]  # the draft
        fake.hold = None  # now even the draft never comes back
        with pytest.raises(openai.APIStatusError) as err:
            await aclient(p).chat.completions.create(model="self_refine/fake", messages=QUESTION)
        assert err.value.status_code == 504 and err.value.code == "request_timeout"
        assert fake.cancelled >= 2  # the calls cut off by the cap were cancelled upstream


async def test_server_token_cap_is_the_default_for_every_call(tmp_path: Path) -> None:
    fake = FakeUpstream()
    async with running_proxy(fake, tmp_path / "db", limits=Limits(max_tokens_per_call=32)) as p:
        client = aclient(p)
        await client.chat.completions.create(model="fake", messages=QUESTION)
        await client.chat.completions.create(
            model="self_refine:max_rounds=1/fake", messages=QUESTION
        )
        await client.chat.completions.create(model="fake", messages=QUESTION, max_tokens=8)
        assert [r["max_tokens"] for r in fake.requests] == [32, 32, 32, 32, 8]


async def test_cost_header_when_the_price_is_known(proxy: Proxy, tmp_path: Path) -> None:
    client = aclient(proxy)
    raw = await client.chat.completions.with_raw_response.create(model="fake", messages=QUESTION)
    assert "X-Reflectlab-Cost-USD" not in raw.headers  # no price for openai/fake
    prices = tmp_path / "prices.json"
    prices.write_text('{"openai/fake": {"input": 1.0, "output": 2.0}}')
    proxy.state.upstream.prices.update_from_file(prices)
    for model in ("fake", "self_refine:max_rounds=1/fake"):
        raw = await client.chat.completions.with_raw_response.create(model=model, messages=QUESTION)
        out = raw.parse()
        assert out.usage is not None
        cost = float(raw.headers["X-Reflectlab-Cost-USD"])
        expected = (out.usage.prompt_tokens * 1.0 + out.usage.completion_tokens * 2.0) / 1e6
        assert cost == pytest.approx(expected)


async def test_a_failed_passthrough_is_traced(tmp_path: Path) -> None:
    fake = FakeUpstream(fail_statuses=[400])
    async with running_proxy(fake, tmp_path / "db") as p:
        with pytest.raises(openai.BadRequestError):
            await aclient(p).chat.completions.create(model="fake", messages=QUESTION)
        (result,) = p.store.results(p.state.traces.run_id)
        assert result.final_response is None and result.stop_reason == "upstream_error"
        (call,) = p.store.calls(run_id=p.state.traces.run_id)
        assert call.error is not None and "scripted failure" in call.error
