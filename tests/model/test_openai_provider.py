"""The openai provider against a real local HTTP server (aiohttp, 127.0.0.1)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from reflectlab._util.fake_openai import FakeOpenAI
from reflectlab.errors import (
    AuthenticationError,
    ContextWindowError,
    ModelNotFoundError,
    ProviderUnavailableError,
)
from reflectlab.model import GenerateConfig, MemoryCache, RetryPolicy, capture_calls, get_model
from support.servers import serve

NO_WAIT = RetryPolicy(max_attempts=3, initial_delay_s=0.0, jitter=False)


async def test_chat_completion_usage_and_cached_tokens() -> None:
    fake = FakeOpenAI(cached_tokens=3, responder=lambda body: "The answer is 5")
    async with serve(fake) as url:
        model = get_model("openai/fake", base_url=url, api_key="sk-test")
        out = await model.generate(
            [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2 + 3 ?"}],
            GenerateConfig(temperature=0.0, max_tokens=8, stop=("\n",)),
        )
        await model.aclose()
    assert out.text == "The answer is 5"
    assert out.usage.prompt_tokens == 6 and out.usage.completion_tokens == 4
    assert out.usage.cached_tokens == 3
    sent = fake.requests[0]
    assert sent["model"] == "fake" and sent["max_tokens"] == 8 and sent["stop"] == ["\n"]
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}


async def test_n_is_sent_natively_when_supported() -> None:
    fake = FakeOpenAI()
    async with serve(fake) as url:
        model = get_model("openai/fake", base_url=url)
        out = await model.generate("q", n=3, temperature=1.0)
        await model.aclose()
    assert len(out.choices) == 3
    assert len(fake.requests) == 1 and fake.requests[0]["n"] == 3


async def test_server_that_rejects_n_falls_back_to_separate_calls() -> None:
    fake = FakeOpenAI(reject_n=True)
    async with serve(fake) as url:
        model = get_model("openai/fake", base_url=url)
        out = await model.generate("q", n=4, temperature=1.0)
        again = await model.generate("q2", n=2, temperature=1.0)
        await model.aclose()
    assert len(out.choices) == 4 and len(again.choices) == 2
    # one rejected request, then n=1 requests only; the rejection is remembered
    assert [r.get("n", 1) for r in fake.requests] == [4, 1, 1, 1, 1, 1, 1]


async def test_retries_429_and_503_then_succeeds() -> None:
    fake = FakeOpenAI(fail_statuses=[429, 503])
    async with serve(fake) as url:
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT)
        with capture_calls() as events:
            out = await model.generate("q")
        await model.aclose()
    assert out.text.startswith("echo:")
    assert events[0].attempts == 3 and len(fake.requests) == 3


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationError), (404, ModelNotFoundError)],
)
async def test_client_errors_are_translated_and_not_retried(status: int, error: type) -> None:
    fake = FakeOpenAI(fail_statuses=[status])
    async with serve(fake) as url:
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT)
        with pytest.raises(error) as info:
            await model.generate("q")
        await model.aclose()
    assert len(fake.requests) == 1
    assert url in str(info.value) and "openai/fake" in str(info.value)


async def test_context_window_error_is_recognised() -> None:
    from aiohttp import web

    async def too_long(request: web.Request) -> web.Response:
        return web.json_response(
            {"error": {"message": "This model's maximum context length is 4096 tokens"}},
            status=400,
        )

    app = web.Application()
    app.router.add_post("/v1/chat/completions", too_long)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    model = get_model("openai/fake", base_url=f"http://127.0.0.1:{port}/v1", retry=NO_WAIT)
    try:
        with pytest.raises(ContextWindowError):
            await model.generate("q")
    finally:
        await model.aclose()
        await runner.cleanup()


async def test_connection_refused_is_unavailable_after_bounded_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = get_model("openai/fake", base_url=f"http://127.0.0.1:{port}/v1", retry=NO_WAIT)
    with capture_calls() as events, pytest.raises(ProviderUnavailableError, match="is it running"):
        await model.generate("q")
    await model.aclose()
    assert events[0].attempts == 3


async def test_many_requests_in_flight_and_cache_across_them() -> None:
    fake = FakeOpenAI(latency_s=0.01)
    async with serve(fake) as url:
        model = get_model("openai/fake", base_url=url, cache=MemoryCache(), max_connections=16)
        outs = await asyncio.gather(*(model.generate(f"q{i}") for i in range(64)))
        again = await model.generate("q5")
        await model.aclose()
    assert len(fake.requests) == 64
    assert fake.max_in_flight <= 16
    assert again.from_cache and again.text == outs[5].text


def test_reply_bodies_orjson_refuses_still_parse() -> None:
    # orjson reads replies on the hot path; a body json accepts (NaN from a sloppy server)
    # must not become an invalid-reply error because of it.
    import orjson
    import pytest as _pytest

    from reflectlab.model.providers.openai import _loads

    body = b'{"choices": [{"message": {"content": "ok"}}], "score": NaN}'
    with _pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    assert _loads(body)["choices"][0]["message"]["content"] == "ok"
    with _pytest.raises(ValueError):
        _loads(b"<html>502 Bad Gateway</html>")


def test_request_body_is_json_with_the_text_as_written() -> None:
    import json as _json

    from reflectlab.model import ChatMessage, GenerateConfig
    from reflectlab.model.providers.openai import OpenAIAPI

    api = OpenAIAPI("m", base_url="http://127.0.0.1:9/v1", api_key="k")
    text = 'é漢字🙂 "quoted" \\ \n\t\x00'
    raw = api._body([ChatMessage(role="user", content=text)], GenerateConfig(temperature=1e-05), 1)
    body = _json.loads(raw)
    assert body["messages"] == [{"role": "user", "content": text}]
    assert body["temperature"] == 1e-05 and "n" not in body
    big = api._body([ChatMessage(role="user", content="q")], GenerateConfig(seed=2**70), 1)
    assert _json.loads(big)["seed"] == 2**70  # past orjson's 64 bits: json writes it
