"""``reflectlab chat``: one prompt, one reply."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from reflectlab.cli._app import app
from reflectlab.cli._common import build_model, open_store, print_json
from reflectlab.model import ChatMessage, GenerateConfig, ModelOutput


@app.command()
def chat(
    prompt: Annotated[str, typer.Argument(help="The user message.")],
    model: Annotated[str, typer.Option("--model", "-m", help="provider/model")] = (
        "llamacpp/default"
    ),
    system: Annotated[str | None, typer.Option("--system", help="System message.")] = None,
    temperature: Annotated[
        float | None,
        typer.Option(min=0.0, max=2.0, help="Sampling temperature, 0-2 (default: the model's)."),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens", min=1, help="Most tokens in the reply (default: the model's)."
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar="OPENAI_BASE_URL",
            help="OpenAI-compatible server URL (openai/ models).",
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not reuse a cached reply.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print text, usage and cost as JSON.")
    ] = False,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
) -> None:
    """Send one prompt to a model and print its reply (cached: the same prompt twice is free)."""
    store = open_store(db)
    m = build_model(model, store, base_url=base_url, cache=not no_cache)
    messages = [ChatMessage(role="user", content=prompt)]
    if system:
        messages.insert(0, ChatMessage(role="system", content=system))
    config = GenerateConfig(temperature=temperature, max_tokens=max_tokens)

    async def go() -> ModelOutput:
        try:
            return await m.generate(messages, config, role="chat")
        finally:
            await m.aclose()

    out = asyncio.run(go())
    if as_json:
        print_json(
            {
                "model": out.model,
                "text": out.text,
                "from_cache": out.from_cache,
                "usage": out.usage.model_dump(),
                "cost_usd": out.usage.cost_usd,
                "latency_s": round(out.latency_s, 4),
                "finish_reason": out.finish_reasons[0] if out.finish_reasons else None,
            }
        )
    else:
        typer.echo(out.text)
