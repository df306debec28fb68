"""An empty or broken 200 reply is an error, never an answer: retried, never cached, counted.
Real HTTP on 127.0.0.1 (a scripted aiohttp server), and the mock provider for the shared path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from reflectlab._util.fake_openai import FakeOpenAI, Faults
from reflectlab.errors import EmptyCompletionError, InvalidResponseError, InvalidUsageError
from reflectlab.model import (
    MemoryCache,
    ModelOutput,
    Price,
    PriceTable,
    RetryPolicy,
    UsageTotals,
    as_messages,
    capture_calls,
    get_model,
    request_hash,
)
from reflectlab.model.providers.mock import MockReply
from support.servers import serve

NO_WAIT = RetryPolicy(max_attempts=3, initial_delay_s=0.0, jitter=False)
USAGE = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}


def completion(*contents: Any, finish: str = "stop", **extra: Any) -> dict[str, Any]:
    """A chat.completion body with one choice per content (``None``: null content)."""
    body: dict[str, Any] = {
        "id": "x",
        "object": "chat.completion",
        "model": "fake",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": c}, "finish_reason": finish}
            for i, c in enumerate(contents)
        ],
        "usage": USAGE,
    }
    body.update(extra)
    return body


@asynccontextmanager
async def scripted(*bodies: Any) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A server answering 200 with ``bodies`` in turn (bytes are sent as they are, anything
    else as JSON); the last one repeats. Yields the base URL and the requests it received."""
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(json.loads(await request.read()))
        body = bodies[min(len(seen), len(bodies)) - 1]
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        return web.Response(body=raw, status=200, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        await runner.cleanup()


def _choice_with(message: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


BROKEN: list[tuple[str, Any, type[Exception], str]] = [
    ("choices []", {"choices": [], "usage": USAGE}, EmptyCompletionError, "no choices"),
    ("message null", _choice_with(None), EmptyCompletionError, "no message"),
    ("content null", completion(None), EmptyCompletionError, "content is null"),
    (
        "content null, tool_calls",
        _choice_with({"role": "assistant", "content": None, "tool_calls": [{"id": "t"}]}),
        EmptyCompletionError,
        "tool_calls only",
    ),
    ("content empty", completion(""), EmptyCompletionError, "content is empty"),
    ("content blank", completion(" \n\t "), EmptyCompletionError, "only whitespace"),
    (
        "empty and cut by the limit",
        completion("", finish="length"),
        EmptyCompletionError,
        "finish_reason='length'",
    ),
    ("content not a string", completion(42), InvalidResponseError, "not a string"),
    ("not JSON", b"<html>502 Bad Gateway</html>", InvalidResponseError, "not JSON"),
    ("JSON not an object", [1, 2], InvalidResponseError, "not an object"),
    ("choices not a list", {"choices": {"0": "4"}}, InvalidResponseError, "not a list"),
    ("choices missing", {"error": None}, InvalidResponseError, "not a list"),
]


@pytest.mark.parametrize(
    ("body", "error", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
async def test_broken_200_is_retried_then_fails_and_is_never_cached(
    body: Any, error: type[Exception], message: str
) -> None:
    cache = MemoryCache()
    async with scripted(body) as (url, seen):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT, cache=cache)
        with capture_calls() as events, pytest.raises(error, match=message) as info:
            await model.generate("2 + 2?")
        await model.aclose()
    assert len(seen) == 3, "retried like a 5xx, bounded by the policy"
    assert "gave up after 3 attempts" in str(info.value)
    assert f"url={url}" in str(info.value) and "model=openai/fake" in str(info.value)
    assert len(cache) == 0
    (event,) = events
    assert event.error_type == error.__name__ and event.invalid_replies == 3
    assert event.choices == []


async def test_n_choices_with_one_empty_is_an_error() -> None:
    async with scripted(completion("4", ""), completion("4", "5")) as (url, seen):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT, cache=MemoryCache())
        with capture_calls() as events:
            out = await model.generate("q", n=2, temperature=1.0)
        await model.aclose()
    assert out.choices == ["4", "5"] and len(seen) == 2
    assert events[0].attempts == 2 and events[0].invalid_replies == 1


async def test_an_empty_reply_then_a_good_one_caches_only_the_good_one() -> None:
    cache = MemoryCache()
    async with scripted(completion(None), completion("Answer: 4")) as (url, _):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT, cache=cache)
        first = await model.generate("2 + 2?")
        again = await model.generate("2 + 2?")
        await model.aclose()
    assert first.text == "Answer: 4" and not first.from_cache
    assert again.text == "Answer: 4" and again.from_cache


async def test_a_refusal_is_the_models_answer_not_an_empty_one() -> None:
    body = _choice_with({"role": "assistant", "content": None, "refusal": "I can't help."})
    async with scripted({**body, "usage": USAGE}) as (url, seen):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT)
        out = await model.generate("q")
        await model.aclose()
    assert out.text == "I can't help." and len(seen) == 1


async def test_server_that_ignores_n_gets_the_rest_one_by_one() -> None:
    async with scripted(completion("a")) as (url, seen):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT)
        out = await model.generate("q", n=3, temperature=1.0)
        await model.aclose()
    assert out.choices == ["a", "a", "a"]
    assert [r.get("n", 1) for r in seen] == [3, 1, 1]


# -- usage -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "usage",
    [None, "absent", {"total_tokens": 7}, {"prompt_tokens": 5}],
    ids=["null", "absent", "total only", "no completion count"],
)
async def test_missing_usage_is_flagged_unknown_not_zero(usage: Any) -> None:
    body = completion("Answer: 4")
    if usage == "absent":
        del body["usage"]
    else:
        body["usage"] = usage
    prices = PriceTable({"openai/fake": Price(input=1.0, output=1.0)})
    async with scripted(body) as (url, seen):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT, prices=prices)
        with capture_calls() as events:
            out = await model.generate("q")
        await model.aclose()
    assert out.text == "Answer: 4" and len(seen) == 1  # an answer, not an error
    assert out.usage.known is False and events[0].usage.known is False
    assert out.usage.cost_usd == 0.0  # unknown, flagged by known=False: not a price of 0 tokens
    totals = UsageTotals()
    totals.add(events[0])
    assert (totals.calls, totals.usage_unknown) == (1, 1)


@pytest.mark.parametrize(
    ("usage", "field"),
    [
        ({"prompt_tokens": "5", "completion_tokens": 2}, "usage.prompt_tokens is '5'"),
        ({"prompt_tokens": 5, "completion_tokens": -1}, "usage.completion_tokens is -1"),
        ({"prompt_tokens": True, "completion_tokens": 2}, "usage.prompt_tokens is True"),
        ({"prompt_tokens": {"n": 5}, "completion_tokens": 2}, "usage.prompt_tokens is {'n': 5}"),
        ({"prompt_tokens": 5, "completion_tokens": 2.5}, "usage.completion_tokens is 2.5"),
        (
            {"prompt_tokens": 5, "completion_tokens": 2, "prompt_tokens_details": "junk"},
            "prompt_tokens_details is 'junk'",
        ),
        (
            {
                "prompt_tokens": 5,
                "completion_tokens": 2,
                "prompt_tokens_details": {"cached_tokens": "a"},
            },
            "cached_tokens is 'a'",
        ),
        ("lots", "usage is 'lots'"),
    ],
)
async def test_garbage_usage_is_a_clear_error_not_retried(usage: Any, field: str) -> None:
    async with scripted(completion("4", usage=usage)) as (url, seen):
        model = get_model("openai/fake", base_url=url, retry=NO_WAIT, cache=MemoryCache())
        with pytest.raises(InvalidUsageError) as info:
            await model.generate("q")
        await model.aclose()
    assert len(seen) == 1
    message = str(info.value)
    assert field in message and "model=openai/fake" in message and f"url={url}" in message


async def test_integral_float_counts_are_accepted() -> None:
    usage = {"prompt_tokens": 5.0, "completion_tokens": 2, "total_tokens": 7}
    async with scripted(completion("4", usage=usage)) as (url, _):
        model = get_model("openai/fake", base_url=url)
        out = await model.generate("q")
        await model.aclose()
    assert (out.usage.prompt_tokens, out.usage.completion_tokens, out.usage.known) == (5, 2, True)


async def test_finish_reason_is_kept_on_the_output_and_the_event() -> None:
    async with scripted(completion("Answer: 1", finish="length")) as (url, _):
        model = get_model("openai/fake", base_url=url)
        with capture_calls() as events:
            out = await model.generate("q", max_tokens=3)
        await model.aclose()
    assert out.finish_reasons == ["length"] and out.truncated
    assert events[0].finish_reasons == ["length"] and events[0].truncated


# -- the shared path, any provider -------------------------------------------------------------
@pytest.mark.parametrize("reply", ["", "   ", MockReply("\n", finish_reason="length")])
async def test_mock_empty_reply_is_retried_and_never_cached(reply: str | MockReply) -> None:
    cache = MemoryCache()
    model = get_model("mock/m", outputs=[reply, "Answer: 4"], cache=cache, retry=NO_WAIT)
    with capture_calls() as events:
        out = await model.generate("q")
    assert out.text == "Answer: 4" and events[0].attempts == 2 and events[0].invalid_replies == 1
    assert [o.text for o in cache._entries.values()] == ["Answer: 4"]


async def test_mock_empty_reply_that_persists_fails_with_its_reason() -> None:
    cache = MemoryCache()
    model = get_model("mock/m", outputs=[""], cycle=True, retry=NO_WAIT, cache=cache)
    with pytest.raises(EmptyCompletionError, match="choice 0 of the reply is empty"):
        await model.generate("q")
    assert len(cache) == 0


async def test_an_empty_entry_already_in_the_cache_is_not_served() -> None:
    cache = MemoryCache()
    model = get_model("mock/m", outputs=["Answer: 4"], cache=cache)
    key = request_hash(model.name, None, as_messages("q"), model.config, 0)
    cache.cache_put(key, ModelOutput(model=model.name, choices=[""]))  # an old reflectlab's
    out = await model.generate("q")
    assert out.text == "Answer: 4" and not out.from_cache
    assert cache.cache_get(key).text == "Answer: 4"  # type: ignore[union-attr]


async def test_mock_scripts_truncation_and_missing_usage() -> None:
    model = get_model(
        "mock/m", outputs=[MockReply("Answer: 1", finish_reason="length", usage=False)]
    )
    out = await model.generate("q")
    assert out.truncated and out.usage.known is False and out.usage.total_tokens == 0


# -- fault injection, end to end ---------------------------------------------------------------
async def test_under_30_percent_faults_every_answer_is_the_fault_free_one() -> None:
    def solver(body: dict[str, Any]) -> str:
        return f"Answer: {len(body['messages'][-1]['content'])}"

    prompts = [f"question number {i}" + "?" * (i % 7) for i in range(60)]
    retry = RetryPolicy(max_attempts=8, initial_delay_s=0.0, jitter=False)

    async def answers(faults: Faults) -> tuple[list[str], FakeOpenAI, list[Any]]:
        fake = FakeOpenAI(responder=solver, faults=faults)
        async with serve(fake) as url:
            model = get_model("openai/fake", base_url=url, retry=retry, cache=MemoryCache())
            with capture_calls() as events:
                outs = [await model.generate(p) for p in prompts]
            await model.aclose()
        return [o.text for o in outs], fake, events

    clean, _, _ = await answers(Faults())
    faulty, fake, events = await answers(Faults(rate=0.3, seed=1))
    assert sum(fake.injected.values()) >= 10 and set(fake.injected) >= {"empty", "null", "500"}
    assert faulty == clean
    unknown = sum(not e.usage.known for e in events)
    assert unknown == fake.injected["no_usage"] > 0
