"""``reflectlab serve``: the OpenAI-compatible proxy that adds a reflection strategy."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from reflectlab.cli._app import app
from reflectlab.errors import ConfigError

CLIENT_KEY_ENV = "REFLECTLAB_SERVE_API_KEY"


def _secret(env: str | None, what: str, *, required: bool) -> SecretStr | None:
    if not env:
        return None
    value = os.environ.get(env)
    if value is None or not value.strip():
        if required:
            raise ConfigError(f"{what}: environment variable {env} is not set")
        return None
    return SecretStr(value.strip())


@app.command()
def serve(
    upstream: Annotated[
        str,
        typer.Option(
            "--upstream",
            "-u",
            help="OpenAI-compatible base URL (http://host:8000/v1) or an embedded model "
            "(llamacpp/default, the offline default).",
        ),
    ] = "llamacpp/default",
    api_key_env: Annotated[
        str | None,
        typer.Option(
            "--api-key-env",
            help="Environment variable holding the upstream's API key "
            "(default OPENAI_API_KEY when set). Never echoed or logged.",
        ),
    ] = None,
    client_key_env: Annotated[
        str,
        typer.Option(
            "--client-key-env",
            help="Environment variable holding the key clients must send "
            "(Authorization: Bearer). Required for any bind but loopback.",
        ),
    ] = CLIENT_KEY_ENV,
    strategy: Annotated[
        str,
        typer.Option("--strategy", "-s", help="Default strategy, e.g. self_refine:max_rounds=2."),
    ] = "direct",
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port to listen on.")
    ] = 8000,
    db: Annotated[
        Path | None, typer.Option("--db", help="Store path (default: REFLECTLAB_HOME).")
    ] = None,
    max_concurrency: Annotated[
        int, typer.Option("--max-concurrency", min=1, help="Requests in flight; then 429.")
    ] = 256,
    max_rounds: Annotated[
        int, typer.Option("--max-rounds", min=0, help="Cap on reflection rounds per request.")
    ] = 5,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            min=1,
            help="Cap on max_tokens per call (also the default when a request sets none).",
        ),
    ] = None,
    max_request_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-request-tokens", min=1, help="Cap on the tokens of all calls of a request."
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Wall-time cap per request (s).")
    ] = 600.0,
) -> None:
    """Serve an OpenAI-compatible API that runs a reflection strategy on every request.

    Clients pick the strategy with a model prefix (self_refine/<model>), extra_body
    {"reflectlab": {...}}, the X-Reflectlab-Strategy header, or get --strategy.
    """
    from reflectlab.server import Limits, ServerConfig, run_server

    if api_key_env is None and upstream.startswith("http") and os.environ.get("OPENAI_API_KEY"):
        api_key_env = "OPENAI_API_KEY"
    config = ServerConfig(
        upstream=upstream,
        upstream_api_key=_secret(api_key_env, "--api-key-env", required=True),
        api_key=_secret(client_key_env, "--client-key-env", required=False),
        strategy=strategy,
        host=host,
        port=port,
        db=str(db) if db is not None else None,
        limits=Limits(
            max_concurrency=max_concurrency,
            max_rounds=max_rounds,
            max_tokens_per_call=max_tokens,
            max_request_tokens=max_request_tokens,
            request_timeout_s=timeout,
        ),
    )

    def ready(base_url: str, run_id: str) -> None:
        auth = "key required" if config.api_key else "no key (loopback only)"
        print(
            f"reflectlab serve: {base_url} -> {upstream} (default strategy {strategy}; {auth}); "
            f"traces in run {run_id}",
            file=sys.stderr,
            flush=True,
        )

    run_server(config, on_ready=ready)
