"""The embedded engine's settings, its log capture and its context-overflow message.

Deterministic unless marked ``integration`` (those run the real SmolLM2-135M in a child
process, a few tokens each)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reflectlab.errors import ConfigError, ContextWindowError
from reflectlab.model.providers import llamacpp
from reflectlab.model.providers._llamacpp_models import resolve_model
from reflectlab.model.providers.llamacpp import (
    _EmbeddedHTTP,
    _RunningServer,
    _StderrCapture,
    default_ctx_per_slot,
    default_slots,
    engine_plan,
    overflow_message,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REFLECTLAB_HOME", str(tmp_path / "home"))
    for name in ("THREADS", "CTX", "SLOTS"):
        monkeypatch.delenv(f"REFLECTLAB_LLAMACPP_{name}", raising=False)


# --------------------------------------------------------------------------- settings


def test_ctx_per_slot_is_the_models_training_context_capped(tmp_path: Path) -> None:
    assert default_ctx_per_slot(resolve_model("default")) == 8192  # SmolLM2: 8192
    gguf = tmp_path / "x.gguf"
    gguf.write_bytes(b"GGUF")
    assert default_ctx_per_slot(resolve_model(str(gguf))) == 4096  # unknown file


def test_env_sets_ctx_slots_and_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_CTX", "2048")
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_SLOTS", "2")
    assert default_ctx_per_slot(resolve_model("default")) == 2048
    assert default_slots() == 2
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_CTX", "lots")
    with pytest.raises(ConfigError, match="REFLECTLAB_LLAMACPP_CTX"):
        default_ctx_per_slot()
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_SLOTS", "0")
    with pytest.raises(ConfigError, match=">= 1"):
        default_slots()


def test_provider_takes_env_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_CTX", "1024")
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_SLOTS", "3")
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_THREADS", "2")
    api = llamacpp.LlamaCppAPI("default")
    assert (api._key.ctx_per_slot, api._key.n_parallel, api._key.threads) == (1024, 3, 2)
    assert api.max_connections == 6
    explicit = llamacpp.LlamaCppAPI("default", ctx_per_slot=512, n_parallel=1, threads=1)
    assert (explicit._key.ctx_per_slot, explicit._key.n_parallel) == (512, 1)


def test_engine_plan_names_the_settings_and_scales_with_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REFLECTLAB_LLAMACPP_THREADS", "1")
    monkeypatch.setattr(llamacpp, "_cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    idle = engine_plan("llamacpp/default")
    assert idle is not None
    assert (idle.threads, idle.slots, idle.ctx_per_slot) == (1, 4, 8192)
    assert 100 < idle.gen_tok_s < 140  # ~120 measured for SmolLM2 on one thread
    assert idle.describe() == "llamacpp/default (1 thread, 4 slots, load 0.0)"
    monkeypatch.setattr(os, "getloadavg", lambda: (3.0, 0.0, 0.0))
    busy = engine_plan("llamacpp/default")
    assert busy is not None and busy.gen_tok_s == pytest.approx(idle.gen_tok_s * (2 / 4) ** 2)
    assert engine_plan("openai/gpt-4o") is None


# --------------------------------------------------------------------------- log capture


def test_engine_lines_go_to_the_log_and_others_pass_through(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "stderr.txt"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT)
    try:
        capture = _StderrCapture(fd)
        with caplog.at_level(logging.DEBUG, logger="reflectlab.llamacpp"):
            os.write(fd, b"0.01.561.185 E srv    send_error: task id = 0, error: boom\n")
            os.write(fd, b"W a warning without a timestamp\nplain line from some library\n")
            os.write(fd, b"partial")
            capture.close()
    finally:
        os.close(fd)
    records = [
        (r.levelno, r.getMessage()) for r in caplog.records if r.name == "reflectlab.llamacpp"
    ]
    assert records == [
        (logging.ERROR, "srv    send_error: task id = 0, error: boom"),
        (logging.WARNING, "a warning without a timestamp"),
    ]
    assert out.read_text() == "plain line from some library\npartial\n"
    assert list(capture.errors) == ["srv    send_error: task id = 0, error: boom"]


# --------------------------------------------------------------------------- context overflow


def test_overflow_message_is_one_line_with_model_tokens_and_slot() -> None:
    line = overflow_message(
        "llamacpp/default",
        "request (4144 tokens) exceeds the available context size (4096 tokens), try increasing it",
        ctx_per_slot=4096,
        trained=8192,
    )
    assert "\n" not in line
    assert line.startswith("llamacpp/default: the conversation outgrew the slot context")
    assert "4144 prompt tokens > 4096 per slot" in line and "trained on 8192" in line
    assert "--llamacpp-ctx" in line


def test_overflow_fails_the_call_and_tells_stderr_once(capsys: pytest.CaptureFixture[str]) -> None:
    running = _RunningServer(None, "http://127.0.0.1:1/v1", "k", ctx_per_slot=256)
    http = _EmbeddedHTTP(
        "llamacpp/default", running=running, trained=8192, base_url=running.base_url, api_key="k"
    )
    body = json.dumps(
        {
            "error": {
                "type": "exceed_context_size_error",
                "message": "request (431 tokens) exceeds the available context size (256 tokens)",
            }
        }
    ).encode()
    errors = [http._error(400, body, None) for _ in range(2)]
    assert all(isinstance(e, ContextWindowError) for e in errors)
    assert "431 prompt tokens > 256 per slot" in str(errors[0])
    err = capsys.readouterr().err
    assert err.count("outgrew the slot context") == 1


# --------------------------------------------------------------------------- the real engine

_CHILD = textwrap.dedent(
    """
    import asyncio, logging, sys
    from reflectlab.errors import ContextWindowError
    from reflectlab.model import get_model

    seen = []
    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
    logging.getLogger("reflectlab.llamacpp").addHandler(Keep())

    async def main():
        model = get_model("llamacpp/default", n_parallel=1, ctx_per_slot=128)
        try:
            await model.generate("word " * 300, max_tokens=4)
        except ContextWindowError as exc:
            print("ERROR", exc)
        out = await model.generate("Say hi", max_tokens=4)
        print("OK", out.usage.completion_tokens)
        await model.aclose()

    asyncio.run(main())
    import time; time.sleep(0.3)  # the engine's log thread is asynchronous
    print("LOGGED", any("send_error" in m for m in seen))
    """
)


@pytest.mark.integration
def test_real_engine_logs_are_captured_and_overflow_is_one_clear_line(tmp_path: Path) -> None:
    env = {**os.environ, "REFLECTLAB_HOME": str(tmp_path / "home")}
    env.pop("REFLECTLAB_LLAMACPP_LOG_STDERR", None)
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "ERROR llamacpp/default: the conversation outgrew the slot context" in proc.stdout
    assert "OK " in proc.stdout and "LOGGED True" in proc.stdout
    assert "send_error" not in proc.stderr  # llama.cpp's own line went to the log
    lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "prompt tokens > 256 per slot" in lines[0], proc.stderr  # min 256
