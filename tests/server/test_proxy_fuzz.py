"""Fuzz the proxy through its own OpenAPI document with schemathesis (bounded examples): no
5xx the proxy generated itself, no traceback in any body, and every error is OpenAI-style."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from reflectlab.server._openapi import openapi_document
from server.proxy_support import FakeUpstream, running_proxy


def _bounded_document() -> dict[str, Any]:
    """The served document with small sizes, so each example is cheap (the shapes are the
    same; only lengths and counts are bounded)."""
    doc = openapi_document()
    schemas = doc["components"]["schemas"]
    request = schemas["ChatCompletionRequest"]["properties"]
    request["messages"]["maxItems"] = 4
    request["messages"]["items"]["properties"]["content"]["maxLength"] = 200
    request["n"]["maximum"] = 3
    request["max_tokens"]["maximum"] = 64
    request["max_completion_tokens"]["maximum"] = 64
    return doc


SCHEMA = schemathesis.openapi.from_dict(_bounded_document())
CHAT = SCHEMA["/v1/chat/completions"]["POST"]


@pytest.fixture(scope="module")
def proxy_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The proxy and its fake upstream on their own event loop in a thread (schemathesis
    calls are blocking)."""
    db = Path(tmp_path_factory.mktemp("fuzz")) / "db"
    ready: list[str] = []
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def main() -> None:
        async with running_proxy(FakeUpstream(), db) as p:
            ready.append(p.url)
            started.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(30), "the proxy did not start"
    yield ready[0]
    loop.call_soon_threadsafe(stop.set)
    thread.join(30)


def _check(response: requests.Response) -> None:
    text = response.text
    assert response.status_code < 500, (response.status_code, text[:500])
    assert "Traceback" not in text and 'File "' not in text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"]


_FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_chat_completions_fuzz(proxy_url: str, mode: GenerationMode) -> None:
    session = requests.Session()

    @_FUZZ
    @given(case=CHAT.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        _check(case.call(base_url=proxy_url, session=session, timeout=30))

    run()


def test_other_endpoints_fuzz(proxy_url: str) -> None:
    session = requests.Session()
    for path in ("/v1/models", "/healthz", "/readyz", "/metrics"):
        op = SCHEMA[path]["GET"]

        @settings(max_examples=5, deadline=None, database=None)
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            _check(case.call(base_url=proxy_url, session=session, timeout=30))

        run()
