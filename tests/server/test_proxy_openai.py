"""The proxy end to end over real HTTP, with the official openai client as the caller."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import openai
import pytest

from reflectlab.report import render_report, report_data
from reflectlab.server import Limits
from server.proxy_support import FakeUpstream, Proxy, running_proxy

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


def _reply(body: dict[str, Any]) -> str:
    """Drafts and refinements say "4"; feedback always asks for another round."""
    last = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
    if "Review your answer" in last:
        return "The answer is wrong. [[INCORRECT]]"
    return f"The answer is 4 (turn {len(body['messages'])})."


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream(responder=_reply)


def aclient(proxy: Proxy, **kw: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, **kw)


def ext(completion: Any) -> dict[str, Any]:
    data: dict[str, Any] = completion.model_extra["reflectlab"]
    return data


async def test_direct_passes_the_request_through_unchanged(proxy: Proxy) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    out = await aclient(proxy).chat.completions.create(
        model="fake",
        messages=QUESTION,
        tools=tools,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
        logprobs=True,
        temperature=0.3,
        seed=7,
        extra_body={"custom_field": {"a": 1}},
    )
    sent = proxy.fake.requests[-1]
    assert sent["tools"] == tools and sent["response_format"] == {"type": "json_object"}
    assert sent["logprobs"] is True and sent["custom_field"] == {"a": 1}
    assert sent["temperature"] == 0.3 and sent["seed"] == 7 and "reflectlab" not in sent
    assert out.choices[0].message.content == "The answer is 4 (turn 1)."
    assert out.usage is not None and out.usage.prompt_tokens == 3
    assert out.created > 0 and out.object == "chat.completion"
    assert ext(out)["strategy"] == "direct"


async def test_self_refine_by_model_prefix_runs_every_round(proxy: Proxy) -> None:
    out = await aclient(proxy).chat.completions.create(
        model="self_refine:max_rounds=2/fake", messages=QUESTION, max_tokens=50, temperature=0.2
    )
    info = ext(out)
    # draft, feedback, refine, feedback, refine
    assert info["calls"] == 5 and len(proxy.fake.requests) == 5
    assert info["strategy"] == "self_refine:max_rounds=2" and info["selected_by"] == "model"
    assert [a["round"] for a in info["answers"]] == [0, 1, 2]
    assert info["stop_reason"] == "max_rounds=2"
    assert {f["kind"] for f in info["feedback"]} == {"intrinsic"}
    assert out.choices[0].message.content == info["answers"][-1]["text"]
    # Every internal call got the client's parameters and the upstream model name.
    assert all(r["max_tokens"] == 50 and r["temperature"] == 0.2 for r in proxy.fake.requests)
    assert {r["model"] for r in proxy.fake.requests} == {"fake"}
    # usage sums the five calls, as the upstream counted them
    prompt = sum(sum(len(m["content"].split()) for m in r["messages"]) for r in proxy.fake.requests)
    assert out.usage is not None and out.usage.prompt_tokens == prompt
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens
    assert out.model == "self_refine:max_rounds=2/fake"


async def test_strategy_by_extra_body_and_by_header(proxy: Proxy) -> None:
    client = aclient(proxy)
    out = await client.chat.completions.create(
        model="fake",
        messages=QUESTION,
        extra_body={"reflectlab": {"strategy": "self_refine", "params": {"max_rounds": 1}}},
    )
    assert ext(out)["calls"] == 3 and ext(out)["selected_by"] == "body"
    out = await client.chat.completions.create(
        model="fake",
        messages=QUESTION,
        extra_headers={"X-Reflectlab-Strategy": "self_refine:max_rounds=1"},
    )
    assert ext(out)["calls"] == 3 and ext(out)["selected_by"] == "header"


async def test_sync_client(proxy: Proxy) -> None:
    client = openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0)
    out = await asyncio.to_thread(
        client.chat.completions.create, model="self_refine:max_rounds=1/fake", messages=QUESTION
    )
    assert ext(out)["calls"] == 3
    assert (
        out.choices[0].message.content == "The answer is 4 (turn 5)."
    )  # draft, critique, refine turns
    client.close()


async def test_streaming_strategy_sends_deltas_usage_and_done(proxy: Proxy) -> None:
    stream = await aclient(proxy).chat.completions.create(
        model="self_refine:max_rounds=1/fake",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    deltas = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert "".join(deltas) == "The answer is 4 (turn 5)."
    assert len(deltas) >= 2  # real deltas, not the whole answer in one chunk
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish[-1].model_extra is not None and finish[-1].model_extra["reflectlab"]["calls"] == 3


async def test_streaming_direct_relays_the_upstream_stream(proxy: Proxy) -> None:
    stream = await aclient(proxy).chat.completions.create(
        model="fake", messages=QUESTION, stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == "The answer is 4 (turn 1)."
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 3
    assert proxy.fake.requests[-1]["stream"] is True


async def test_n_against_an_upstream_that_rejects_n(tmp_path: Path) -> None:
    fake = FakeUpstream(responder=_reply, reject_n=True)
    async with running_proxy(fake, tmp_path / "db") as proxy:
        client = aclient(proxy)
        out = await client.chat.completions.create(model="fake", messages=QUESTION, n=3)
        assert [c.index for c in out.choices] == [0, 1, 2]
        assert out.usage is not None and out.usage.prompt_tokens == 9
        # llama.cpp's refusal was seen once, then each request is looped
        assert [r.get("n", 1) for r in fake.requests] == [3, 1, 1, 1]
        out = await client.chat.completions.create(model="fake", messages=QUESTION, n=2)
        assert len(out.choices) == 2 and all(r.get("n", 1) == 1 for r in fake.requests[4:])
        stream = await client.chat.completions.create(
            model="fake", messages=QUESTION, n=2, stream=True
        )
        indexes = {c.choices[0].index async for c in stream if c.choices}
        assert indexes == {0, 1}
        # a strategy with n runs n times; no internal call asks for n > 1
        before = len(fake.requests)
        out = await client.chat.completions.create(
            model="self_refine:max_rounds=1/fake", messages=QUESTION, n=2
        )
        assert len(out.choices) == 2 and ext(out)["calls"] == 6
        assert [c["calls"] for c in ext(out)["choices"]] == [3, 3]
        assert all(r.get("n", 1) == 1 for r in fake.requests[before:])
        stream = await client.chat.completions.create(
            model="self_refine:max_rounds=1/fake", messages=QUESTION, n=2, stream=True
        )
        texts: dict[int, str] = {}
        async for chunk in stream:
            for c in chunk.choices:
                texts[c.index] = texts.get(c.index, "") + (c.delta.content or "")
        assert texts == {0: "The answer is 4 (turn 5).", 1: "The answer is 4 (turn 5)."}


async def test_parameters_never_leak_between_concurrent_requests(proxy: Proxy) -> None:
    client = aclient(proxy)

    async def ask(rounds: int, how: str) -> tuple[int, dict[str, Any]]:
        if how == "prefix":
            out = await client.chat.completions.create(
                model=f"self_refine:max_rounds={rounds}/fake", messages=QUESTION
            )
        else:
            out = await client.chat.completions.create(
                model="self_refine/fake",
                messages=QUESTION,
                extra_body={"reflectlab": {"params": {"max_rounds": rounds}}},
            )
        return rounds, ext(out)

    jobs = [ask(r, how) for r in (0, 1, 2, 3) for how in ("prefix", "body") for _ in range(3)]
    for rounds, info in await asyncio.gather(*jobs):
        assert info["calls"] == 1 + 2 * rounds
        assert info["stop_reason"] == f"max_rounds={rounds}"


async def test_bad_strategy_and_parameters_are_400_listing_what_exists(proxy: Proxy) -> None:
    client = aclient(proxy)
    with pytest.raises(openai.BadRequestError) as err:
        await client.chat.completions.create(
            model="fake", messages=QUESTION, extra_body={"reflectlab": {"strategy": "nope"}}
        )
    body = err.value.body
    assert isinstance(body, dict) and "self_refine" in body["message"]
    assert "self_refine" in body["available"]
    cases = [
        ("self_refine:max_round=2/fake", "max_rounds"),  # typo: lists the real parameters
        ("self_refine:max_rounds=two/fake", "must be a int"),
        ("self_refine:feedback=oracle/fake", "gold label"),
        ("self_refine:max_rounds=99/fake", "cap"),
    ]
    for model, needle in cases:
        with pytest.raises(openai.BadRequestError) as err:
            await client.chat.completions.create(model=model, messages=QUESTION)
        assert needle in str(err.value), model
    assert proxy.fake.requests == []  # all refused before any model call


async def test_every_request_lands_in_the_store_and_opens_in_the_report(proxy: Proxy) -> None:
    client = aclient(proxy)
    await client.chat.completions.create(model="fake", messages=QUESTION)
    out = await client.chat.completions.create(
        model="self_refine:max_rounds=1/fake", messages=QUESTION
    )
    run_id = proxy.state.traces.run_id
    assert [r.run_id for r in proxy.store.list_runs()] == [run_id]
    results = {r.strategy: r for r in proxy.store.results(run_id)}
    assert set(results) == {"passthrough", "self_refine:max_rounds=1"}
    refined = results["self_refine:max_rounds=1"]
    assert refined.sample_id == ext(out)["trace_id"] and refined.calls == 3
    assert [c.round for c in refined.checkpoints] == [0, 1]
    calls = proxy.store.calls(run_id=run_id)
    assert len(calls) == 4
    assert {c.tags["sample_id"] for c in calls} == {r.sample_id for r in results.values()}
    data = report_data(render_report(proxy.store, run_id))
    traced = json.dumps(data["chunks"])
    assert "What is 2+2?" in traced and "Review your answer" in traced


async def test_system_prompt_and_history_reach_the_strategy(proxy: Proxy) -> None:
    messages = [
        {"role": "system", "content": "Answer tersely."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "What is 2+2?"},
    ]
    await aclient(proxy).chat.completions.create(
        model="self_refine:max_rounds=0/fake",
        messages=messages,  # type: ignore[arg-type]
    )
    prompt = proxy.fake.requests[0]["messages"][0]["content"]
    for part in ("Answer tersely.", "User: Hi", "Assistant: Hello", "What is 2+2?"):
        assert part in prompt


async def test_over_limit_requests_are_refused(tmp_path: Path) -> None:
    fake = FakeUpstream(responder=_reply)
    limits = Limits(max_messages=2, max_message_chars=100, max_n=2, max_tokens_per_call=64)
    async with running_proxy(fake, tmp_path / "db", limits=limits) as proxy:
        client = aclient(proxy)
        for kw in (
            {"messages": QUESTION * 3},
            {"messages": [{"role": "user", "content": "x" * 101}]},
            {"messages": QUESTION, "n": 3},
            {"messages": QUESTION, "max_tokens": 65},
        ):
            with pytest.raises(openai.BadRequestError) as err:
                await client.chat.completions.create(model="fake", **kw)  # type: ignore[call-overload]
            assert err.value.code == "over_limit"
        assert fake.requests == []


async def test_a_cut_off_final_answer_reports_length(tmp_path: Path) -> None:
    fake = FakeUpstream(responder=_reply)
    async with running_proxy(fake, tmp_path / "db") as proxy:
        original = fake._handle

        async def cut_off(request: Any) -> Any:
            resp = await original(request)
            data = json.loads(resp.body)
            data["choices"][0]["finish_reason"] = "length"
            return type(resp)(body=json.dumps(data), content_type="application/json")

        fake._handle = cut_off  # type: ignore[method-assign]
        out = await aclient(proxy).chat.completions.create(
            model="self_refine:max_rounds=1/fake", messages=QUESTION, max_tokens=5
        )
        assert out.choices[0].finish_reason == "length"
