"""Timeouts against real hanging servers on 127.0.0.1, and bad configuration caught at
get_model time: base URLs, timeout and retry values from arguments and the environment."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from reflectlab.errors import ConfigError, ProviderUnavailableError
from reflectlab.model import RetryPolicy, capture_calls, get_model

SHORT = 0.5  # seconds: every hang below surfaces after this (a few times at most)


@asynccontextmanager
async def hanging_server(first_bytes: bytes = b"") -> AsyncIterator[str]:
    """Accepts connections, reads the request, writes ``first_bytes`` (e.g. the status line
    and headers) and then never answers."""
    held: list[asyncio.StreamWriter] = []
    release = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(65536)
        if first_bytes:
            writer.write(first_bytes)
            await writer.drain()
        await release.wait()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        release.set()
        for w in held:
            w.close()
        server.close()
        await server.wait_closed()


async def _time_to_error(url: str, **kwargs: object) -> tuple[float, ProviderUnavailableError, int]:
    model = get_model("openai/fake", base_url=url, **kwargs)  # type: ignore[arg-type]
    start = time.monotonic()
    with capture_calls() as events, pytest.raises(ProviderUnavailableError) as info:
        await model.generate("q")
    elapsed = time.monotonic() - start
    await model.aclose()
    return elapsed, info.value, events[0].attempts


NO_WAIT = RetryPolicy(initial_delay_s=0.0, jitter=False)


async def test_server_that_accepts_and_never_answers_times_out_within_the_bound() -> None:
    async with hanging_server() as url:
        elapsed, error, attempts = await _time_to_error(
            url, timeout_s=SHORT, max_retries=1, retry=NO_WAIT
        )
    assert attempts == 2
    assert "no complete reply within 0.5s" in str(error) and "REFLECTLAB_TIMEOUT" in str(error)
    assert "gave up after 2 attempts" in str(error) and url in str(error)
    assert elapsed < 2 * SHORT + 3.0  # two attempts of 0.5 s, never the old 600 s x 6


async def test_server_that_sends_headers_then_stalls_times_out() -> None:
    headers = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
        b'{"choices": ['
    )
    async with hanging_server(headers) as url:
        elapsed, error, attempts = await _time_to_error(
            url, timeout_s=SHORT, max_retries=0, retry=NO_WAIT
        )
    assert attempts == 1 and "no complete reply within 0.5s" in str(error)
    assert elapsed < SHORT + 3.0


async def test_the_deadline_bounds_a_call_over_all_its_attempts() -> None:
    async with hanging_server() as url:
        elapsed, error, attempts = await _time_to_error(
            url, timeout_s=SHORT, max_retries=20, deadline_s=1.2, retry=NO_WAIT
        )
    assert 2 <= attempts <= 4
    assert "1.2s deadline" in str(error)
    assert elapsed < 1.2 + 3.0  # not 21 attempts


async def test_connect_timeout_on_a_listener_that_never_accepts() -> None:
    # A listening socket whose accept queue is full: the kernel drops further SYNs, so a
    # connect hangs exactly as it does to a firewalled host.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("this kernel completes loopback connects past a full backlog")
        except TimeoutError:
            pass
        finally:
            probe.close()
        elapsed, error, _ = await _time_to_error(
            f"http://127.0.0.1:{port}/v1",
            connect_timeout_s=SHORT,
            timeout_s=30,
            max_retries=0,
            retry=NO_WAIT,
        )
    finally:
        for s in fillers:
            s.close()
        listener.close()
    assert "could not connect within 0.5s" in str(error)
    assert "REFLECTLAB_CONNECT_TIMEOUT" in str(error)
    assert elapsed < SHORT + 3.0


# -- configuration -----------------------------------------------------------------------------
def test_defaults_are_bounded_and_stated() -> None:
    model = get_model("openai/fake", base_url="http://127.0.0.1:9/v1")
    assert model.api.timeout_s == 120.0  # type: ignore[attr-defined]
    assert model.api.connect_timeout_s == 10.0  # type: ignore[attr-defined]
    assert model.retry.max_retries == 5 and model.retry.deadline_s == 600.0


def test_kwargs_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLECTLAB_TIMEOUT", "7.5")
    monkeypatch.setenv("REFLECTLAB_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("REFLECTLAB_MAX_RETRIES", "2")
    monkeypatch.setenv("REFLECTLAB_DEADLINE", "60")
    from_env = get_model("openai/fake", base_url="http://localhost:8000/v1")
    assert (from_env.api.timeout_s, from_env.api.connect_timeout_s) == (7.5, 2.0)  # type: ignore[attr-defined]
    assert (from_env.retry.max_attempts, from_env.retry.deadline_s) == (3, 60.0)
    explicit = get_model(
        "openai/fake",
        base_url="https://example.test/v1",
        timeout_s=3,
        connect_timeout_s=1,
        max_retries=0,
        deadline_s=5,
    )
    assert (explicit.api.timeout_s, explicit.api.connect_timeout_s) == (3.0, 1.0)  # type: ignore[attr-defined]
    assert (explicit.retry.max_attempts, explicit.retry.deadline_s) == (1, 5.0)
    # an explicit policy is not overridden by the environment, only by explicit kwargs
    policy = RetryPolicy(max_attempts=9)
    assert get_model("mock/m", retry=policy).retry.max_attempts == 9
    assert get_model("mock/m", retry=policy, max_retries=1).retry.max_attempts == 2
    # every provider accepts the same options
    assert get_model("mock/m", timeout_s=1, connect_timeout_s=1).name == "mock/m"


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("REFLECTLAB_TIMEOUT", "abc", "REFLECTLAB_TIMEOUT='abc' is not a number"),
        ("REFLECTLAB_TIMEOUT", "0", "REFLECTLAB_TIMEOUT must be > 0"),
        ("REFLECTLAB_TIMEOUT", "-5", "REFLECTLAB_TIMEOUT must be > 0"),
        ("REFLECTLAB_TIMEOUT", "nan", "REFLECTLAB_TIMEOUT must be > 0"),
        ("REFLECTLAB_TIMEOUT", "inf", "REFLECTLAB_TIMEOUT must be > 0"),
        ("REFLECTLAB_CONNECT_TIMEOUT", "10s", "REFLECTLAB_CONNECT_TIMEOUT='10s' is not a number"),
        ("REFLECTLAB_MAX_RETRIES", "three", "REFLECTLAB_MAX_RETRIES='three' is not a whole"),
        ("REFLECTLAB_MAX_RETRIES", "1.5", "REFLECTLAB_MAX_RETRIES='1.5' is not a whole"),
        ("REFLECTLAB_MAX_RETRIES", "-1", "REFLECTLAB_MAX_RETRIES must be between 0 and 49"),
        ("REFLECTLAB_MAX_RETRIES", "100", "REFLECTLAB_MAX_RETRIES must be between 0 and 49"),
        ("REFLECTLAB_DEADLINE", "x", "REFLECTLAB_DEADLINE='x' is not a number"),
    ],
)
def test_bad_environment_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, message: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        get_model("openai/fake", base_url="http://localhost:8000/v1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_s": -1}, "timeout_s must be > 0"),
        ({"timeout_s": "30"}, "timeout_s must be a number"),
        ({"connect_timeout_s": 0}, "connect_timeout_s must be > 0"),
        ({"max_retries": -1}, "max_retries must be between 0 and 49"),
        ({"max_retries": True}, "max_retries must be a whole number"),
        ({"deadline_s": 0}, "deadline_s must be > 0"),
    ],
)
def test_bad_keyword_values_name_the_argument(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        get_model("openai/fake", base_url="http://localhost:8000/v1", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "localhost:8000/v1",
        "ftp://x/v1",
        "http://",
        "http:///v1",
        "127.0.0.1:8000",
        "http://h:port/v1",
    ],
)
def test_invalid_base_url_is_a_config_error_at_get_model_time(url: str) -> None:
    with pytest.raises(ConfigError, match="http:// or https:// URL with a host") as info:
        get_model("openai/fake", base_url=url)
    assert repr(url) in str(info.value)


def test_invalid_base_url_from_the_environment_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8000/v1")
    with pytest.raises(ConfigError, match="OPENAI_BASE_URL 'localhost:8000/v1'"):
        get_model("openai/fake")


def test_valid_base_urls_are_kept() -> None:
    for url in ["http://localhost:8000/v1/", "https://api.example.com/v1", "http://[::1]:8000/v1"]:
        assert get_model("openai/fake", base_url=url).api.base_url == url.rstrip("/")
