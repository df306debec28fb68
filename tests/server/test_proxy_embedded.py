"""``reflectlab serve`` with no upstream: the embedded default model, offline, through the
openai client (slow: runs the real SmolLM2-135M)."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from reflectlab.server import ServerConfig, create_app
from reflectlab.server._state import STATE
from reflectlab.store import Store
from server.proxy_support import serve_app

pytestmark = pytest.mark.integration


async def test_embedded_default_model_direct_and_self_refine(tmp_path: Path) -> None:
    store = Store(tmp_path / "db")
    app = create_app(ServerConfig(), store=store)  # upstream defaults to llamacpp/default
    async with serve_app(app) as url:
        client = openai.AsyncOpenAI(base_url=url + "/v1", api_key="unused", max_retries=0)
        question = [{"role": "user", "content": "What is 2+3? Answer with a number."}]
        out = await client.chat.completions.create(
            model="default", messages=question, max_tokens=8, temperature=0
        )
        assert out.choices[0].message.content
        assert out.usage is not None and out.usage.prompt_tokens > 0
        out = await client.chat.completions.create(
            model="self_refine:max_rounds=1/default",
            messages=question,
            max_tokens=16,
            temperature=0,
        )
        info = out.model_extra["reflectlab"]  # type: ignore[index]
        assert info["calls"] >= 2 and info["answers"][0]["round"] == 0
        assert out.usage is not None and out.usage.total_tokens > 0
        stream = await client.chat.completions.create(
            model="default", messages=question, max_tokens=8, stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text
        run_id = app[STATE].traces.run_id
    assert len(store.results(run_id)) == 3
    store.close()
