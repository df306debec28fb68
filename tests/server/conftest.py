"""Fixtures: a fake upstream and the proxy in front of it (see proxy_support)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.proxy_support import FakeUpstream, Proxy, running_proxy


@pytest.fixture
def fake() -> FakeUpstream:
    return FakeUpstream()


@pytest.fixture
async def proxy(fake: FakeUpstream, tmp_path: Path) -> AsyncIterator[Proxy]:
    async with running_proxy(fake, tmp_path / "serve.db") as p:
        yield p
