"""Model.generate: cache, retries, concurrency limit, usage and cost, events."""

from __future__ import annotations

import asyncio

import pytest

from reflectlab.errors import (
    BadRequestError,
    ConfigError,
    ContextWindowError,
    ProviderUnavailableError,
    RateLimitError,
)
from reflectlab.model import (
    GenerateConfig,
    MemoryCache,
    Price,
    PriceTable,
    RetryPolicy,
    call_tags,
    capture_calls,
    get_model,
    request_hash,
)
from reflectlab.model.providers.mock import MockRequest

NO_WAIT = RetryPolicy(max_attempts=4, initial_delay_s=0.0, jitter=False)


async def test_cache_hit_miss_and_sample_index() -> None:
    cache = MemoryCache()
    model = get_model("mock/m", outputs=["first", "second", "third"], cache=cache)
    a = await model.generate("q", temperature=1.0)
    b = await model.generate("q", temperature=1.0)
    c = await model.generate("q", temperature=1.0, sample_index=1)
    assert (a.text, a.from_cache) == ("first", False)
    assert (b.text, b.from_cache) == ("first", True)
    assert (c.text, c.from_cache) == ("second", False)
    assert len(cache) == 2
    # A parameter that changes the output changes the key; the role does not.
    d = await model.generate("q", temperature=0.5, role="other")
    assert d.text == "third"


def test_request_hash_is_canonical() -> None:
    from reflectlab.model import as_messages

    msgs = as_messages([{"role": "user", "content": "hi"}])
    cfg1 = GenerateConfig(temperature=0.7, max_tokens=5)
    cfg2 = GenerateConfig(max_tokens=5, temperature=0.7)
    assert request_hash("mock/a", None, msgs, cfg1, 0) == request_hash(
        "mock/a", None, msgs, cfg2, 0
    )
    assert request_hash("mock/a", None, msgs, cfg1, 0) != request_hash(
        "mock/a", None, msgs, cfg1, 1
    )
    assert request_hash("mock/a", None, msgs, cfg1, 0) != request_hash(
        "mock/b", None, msgs, cfg1, 0
    )


async def test_errors_are_not_cached_and_events_report_them() -> None:
    cache = MemoryCache()
    model = get_model("mock/m", outputs=[BadRequestError("nope"), "ok"], cache=cache, retry=NO_WAIT)
    with capture_calls() as events:
        with pytest.raises(BadRequestError):
            await model.generate("q")
        out = await model.generate("q")
    assert out.text == "ok" and not out.from_cache
    assert len(cache) == 1
    assert events[0].error_type == "BadRequestError" and events[0].attempts == 1
    assert events[1].error is None


async def test_retries_transient_errors_with_bounded_attempts() -> None:
    script = [RateLimitError("slow down"), ProviderUnavailableError("503"), "done"]
    model = get_model("mock/m", outputs=script, retry=NO_WAIT)
    with capture_calls() as events:
        out = await model.generate("q")
    assert out.text == "done"
    assert events[0].attempts == 3

    always = get_model("mock/m", outputs=lambda r: ProviderUnavailableError("down"), retry=NO_WAIT)
    with pytest.raises(ProviderUnavailableError, match="gave up after 4 attempts"):
        await always.generate("q")
    assert always.api.calls == 4  # type: ignore[attr-defined]


async def test_non_retryable_errors_fail_at_once() -> None:
    model = get_model("mock/m", outputs=lambda r: ContextWindowError("too long"), retry=NO_WAIT)
    with pytest.raises(ContextWindowError):
        await model.generate("q")
    assert model.api.calls == 1  # type: ignore[attr-defined]


def test_retry_delay_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_delay_s=1.0, multiplier=2.0, max_delay_s=5.0, jitter=False)
    assert [policy.delay(a) for a in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    assert policy.delay(1, retry_after=3.0) == 3.0
    jittered = RetryPolicy(initial_delay_s=1.0, jitter=True)
    assert all(0.0 <= jittered.delay(2) <= 2.0 for _ in range(50))


async def test_concurrency_limit_under_100_callers() -> None:
    in_flight = 0
    peak = 0

    async def slow(request: MockRequest) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):  # yield to the loop so other callers pile up if they can
            await asyncio.sleep(0)
        in_flight -= 1
        return f"r{request.call_number}"

    model = get_model("mock/m", outputs=slow, max_connections=7)
    outs = await asyncio.gather(*(model.generate(f"q{i}") for i in range(100)))
    assert len({o.text for o in outs}) == 100
    assert peak == 7


async def test_models_sharing_a_connection_share_its_limit() -> None:
    from reflectlab.model import Model

    in_flight = peak = 0

    async def slow(request: MockRequest) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        in_flight -= 1
        return "x"

    first = get_model("mock/m", outputs=slow, max_connections=3)
    second = Model(first.api)
    await asyncio.gather(*(m.generate(f"q{i}") for i in range(20) for m in (first, second)))
    assert peak == 3


async def test_usage_and_cost_accounting() -> None:
    prices = PriceTable({"mock/priced": Price(input=2.0, output=8.0, cached_input=1.0)})
    model = get_model("mock/priced", outputs=["one two three"], prices=prices, cached_tokens=2)
    out = await model.generate("a b c d")
    assert out.usage.prompt_tokens == 4
    assert out.usage.completion_tokens == 3
    assert out.usage.cached_tokens == 2
    # mock is a local provider: it costs nothing, whatever the table says.
    assert out.usage.cost_usd == 0.0
    from reflectlab.model import Usage

    cost = prices.cost("openai/x", Usage(prompt_tokens=1000, completion_tokens=10))
    assert cost == 0.0  # unknown hosted model: no invented price
    prices2 = PriceTable({"openai/x": Price(input=2.0, output=8.0, cached_input=1.0)})
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000, cached_tokens=400_000)
    # 600k fresh prompt tokens at $2 + 400k cached at $1 + 500k completion at $8
    assert prices2.cost("openai/x", usage) == pytest.approx(1.2 + 0.4 + 4.0)


async def test_events_carry_role_round_tags_and_usage_totals() -> None:
    from reflectlab.model import UsageTotals

    model = get_model("mock/m", outputs=["a b", "c"], cache=MemoryCache())
    totals = UsageTotals()
    with call_tags(run_id="r1", sample_id="7"), capture_calls() as events:
        await model.generate("x", role="draft", round=0)
        await model.generate("x", role="draft", round=0)  # cache hit
        await model.generate("y", role="refine", round=1)
    for e in events:
        totals.add(e)
    assert [(e.role, e.round, e.from_cache) for e in events] == [
        ("draft", 0, False),
        ("draft", 0, True),
        ("refine", 1, False),
    ]
    assert all(e.tags == {"run_id": "r1", "sample_id": "7"} for e in events)
    assert (totals.calls, totals.cache_hits) == (2, 1)
    assert totals.completion_tokens == 3 and totals.cache_hit_completion_tokens == 2


def test_sync_wrapper_and_bad_names() -> None:
    model = get_model("mock/m", outputs=["hello"])
    assert model.generate_sync("hi").text == "hello"
    with pytest.raises(ConfigError, match="provider/model"):
        get_model("nomodel")
    with pytest.raises(ConfigError, match="unknown provider"):
        get_model("nosuch/model")


async def test_mock_script_exhaustion_is_a_clear_error() -> None:
    model = get_model("mock/m", outputs=["only"])
    await model.generate("a")
    with pytest.raises(ConfigError, match="script has 1 outputs"):
        await model.generate("b")
    cycling = get_model("mock/m", outputs=["x", "y"], cycle=True)
    assert [(await cycling.generate(str(i))).text for i in range(3)] == ["x", "y", "x"]


def test_price_file_errors_name_the_file_and_field(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from reflectlab.errors import InputError

    good = tmp_path / "prices.toml"
    good.write_text('["openai/mine"]\ninput = 1.0\noutput = 2.0\n')
    table = PriceTable()
    table.update_from_file(good)
    assert table.get("openai/mine") == Price(input=1.0, output=2.0)
    bad = tmp_path / "bad.toml"
    bad.write_text('["openai/mine"]\ninput = "cheap"\noutput = 2.0\n')
    with pytest.raises(InputError, match=r"bad.toml.*field 'input'"):
        table.update_from_file(bad)


def test_user_price_file_in_home_is_applied(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reflectlab.model import Usage

    monkeypatch.setenv("REFLECTLAB_HOME", str(tmp_path))
    (tmp_path / "prices.toml").write_text('["openai/mine"]\ninput = 1.0\noutput = 3.0\n')
    model = get_model("openai/mine", base_url="http://127.0.0.1:9/v1")
    assert (
        model.prices.cost("openai/mine", Usage(prompt_tokens=10**6, completion_tokens=10**6)) == 4.0
    )
