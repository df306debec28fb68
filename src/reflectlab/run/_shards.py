"""Shards of one run (for SLURM arrays and the like) and their merge into one run.

``reflectlab run ... --shard I/N --db shard-I.db`` runs the samples at positions ``p`` with
``p % N == I`` (positions in the task's full sample list, so the slices are disjoint, cover
everything and do not depend on where or when a shard runs). Every shard of a run gets the
same run id, derived from the configuration (``sharded-<12 hex>``), so N independent jobs agree
on it without talking to each other; the shard itself (index, count, the whole run's size) is
recorded in the run's ``versions["shard"]``. One store holds one shard of a run: give each
shard its own ``--db``.

``reflectlab merge SHARD.db... -o OUT.db`` (:func:`merge_stores`) folds them into one run in
``OUT.db``: runs, samples, results, checkpoints, calls and the cache entries those calls made.
It is idempotent (merging the same shards again changes nothing; a shard resumed since is
brought up to date) and may be done in steps (merge shards 0 and 1 now, 2 later). When every
shard is in, the merged run reads like the same run done in one piece (``show``, ``report``,
``summary_json``). Refused, before anything is written: shards of different configurations or
code versions (transport settings such as the base URL, concurrency and timeouts may differ),
different shard counts, or two different executions of the same shard.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reflectlab.errors import ConfigError
from reflectlab.run._config import RunConfig
from reflectlab.store import Store
from reflectlab.store._merge import MergedPart, copy_run_rows, write_merged_run

#: Settings that change how a run talks to its servers, not what it computes: shards may
#: differ in them (each array job may have its own server).
TRANSPORT_FIELDS = (
    "base_url",
    "models",
    "concurrency",
    "timeout_s",
    "connect_timeout_s",
    "max_retries",
)


class Shard(BaseModel):
    """Shard ``index`` of ``count`` (0-based): the samples at positions ``p % count == index``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    index: int = Field(ge=0)
    count: int = Field(ge=1)

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"I/N"``, e.g. ``"0/4"`` .. ``"3/4"`` (``$SLURM_ARRAY_TASK_ID/N``)."""
        head, sep, tail = text.strip().partition("/")
        try:
            index, count = int(head), int(tail)
        except ValueError:
            index = count = -1
        if not sep or count < 1 or not 0 <= index < count:
            raise ConfigError(
                f"--shard {text!r} must look like I/N with 0 <= I < N, e.g. 0/4 (shards are "
                "numbered from 0, as SLURM_ARRAY_TASK_ID with --array=0-3)"
            )
        return cls(index=index, count=count)

    def positions(self, n_samples: int) -> list[int]:
        return list(range(self.index, n_samples, self.count))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def run_identity(config: dict[str, Any]) -> dict[str, Any]:
    """What must be equal for two shards to be one run: the config without transport."""
    return {k: v for k, v in config.items() if k not in TRANSPORT_FIELDS}


def sharded_run_id(config: RunConfig) -> str:
    """The run id every shard of this configuration shares."""
    canonical = json.dumps(
        run_identity(config.model_dump(mode="json")), sort_keys=True, separators=(",", ":")
    )
    return "sharded-" + hashlib.sha256(canonical.encode()).hexdigest()[:12]


def shard_versions(shard: Shard, *, n_total: int, expected_total: int) -> dict[str, Any]:
    """What a shard records about itself in its run's ``versions["shard"]``."""
    return {
        "index": shard.index,
        "count": shard.count,
        "n_total": n_total,
        "expected_total": expected_total,
    }


def recorded_shard(versions: dict[str, Any]) -> Shard | None:
    """The shard a stored run is (``None``: a whole run). A merged run cannot be resumed:
    its shards are resumed in their own stores and merged again."""
    info = versions.get("shard")
    if not isinstance(info, dict):
        return None
    if "index" not in info:
        raise ConfigError(
            "this run was merged from shards; resume each unfinished shard in its own store "
            "(reflectlab resume RUN_ID --db SHARD.db), then merge again"
        )
    return Shard(index=int(info["index"]), count=int(info["count"]))


class MergeReport(BaseModel):
    """What :func:`merge_stores` did: per run id, the shards now merged and the rows copied."""

    runs: dict[str, list[int]] = Field(default_factory=dict)
    missing: dict[str, list[int]] = Field(default_factory=dict)
    rows: dict[str, int] = Field(default_factory=dict)


def _parts_of(run_versions: dict[str, Any], run: Any) -> tuple[int | None, dict[int, MergedPart]]:
    info = run_versions.get("shard")
    if not isinstance(info, dict):
        return None, {}
    if "index" in info:
        part = MergedPart(
            index=int(info["index"]),
            created_at=run.created_at,
            updated_at=run.updated_at,
            status=run.status,
            error=run.error,
            n_samples=run.n_samples,
            n_expected=run.n_expected,
        )
        return int(info["count"]), {part.index: part}
    parts = {int(k): MergedPart.model_validate(v) for k, v in info.get("parts", {}).items()}
    return int(info["count"]), parts


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def merge_stores(sources: list[Path], out: Store) -> MergeReport:
    """Fold the runs of the stores at ``sources`` into ``out``; see the module docstring.

    Example::

        merge_stores([Path("s0.db"), Path("s1.db"), Path("s2.db")], Store("all.db"))
    """
    if not sources:
        raise ConfigError("merge needs at least one shard store")
    plan: list[tuple[Path, str]] = []
    # run id -> (config, versions without shard, count, parts so far, base record)
    runs: dict[str, dict[str, Any]] = {}
    out_path = Path(out.path).resolve() if out.path != ":memory:" else None
    for path in sources:
        if not path.is_file():
            raise ConfigError(f"no store at {path}")
        if out_path is not None and path.resolve() == out_path:
            raise ConfigError(f"{path} is the output store; merge into another file")
        with Store(path) as src:
            found = src.list_runs(limit=1_000_000)
        if not found:
            raise ConfigError(f"{path} holds no run")
        for run in found:
            count, parts = _parts_of(run.versions, run)
            base = {k: v for k, v in run.versions.items() if k != "shard"}
            entry = runs.get(run.run_id)
            if entry is None:
                existing = out.get_run(run.run_id) if _exact(out, run.run_id) else None
                entry = runs[run.run_id] = {
                    "config": run.config,
                    "versions": base,
                    "count": count,
                    "parts": {},
                    "record": run,
                    "first": str(path),
                }
                if existing is not None:
                    ecount, eparts = _parts_of(existing.versions, existing)
                    _check_same(
                        entry,
                        existing.config,
                        {k: v for k, v in existing.versions.items() if k != "shard"},
                        ecount,
                        f"the run already in {out.path}",
                    )
                    entry["parts"] = dict(eparts)
                    entry["merged_before"] = set(eparts)
            else:
                _check_same(entry, run.config, base, count, str(path))
            for index, part in parts.items():
                known = entry["parts"].get(index)
                if known is not None and known.created_at != part.created_at:
                    raise ConfigError(
                        f"shard {index}/{count} of run {run.run_id} comes from two different "
                        f"executions (started at {known.created_at:.0f} and "
                        f"{part.created_at:.0f}; {path} is one); merge only one of them"
                    )
                entry["parts"][index] = part
            plan.append((path, run.run_id))
    report = MergeReport()
    for path, run_id in plan:
        copied = copy_run_rows(out, path, run_id, runs[run_id]["record"])
        for table, n in copied.items():
            report.rows[table] = report.rows.get(table, 0) + n
    for run_id, entry in runs.items():
        count = entry["count"]
        merged: dict[int, MergedPart] = entry["parts"]
        write_merged_run(
            out, entry["record"], count=count, parts=merged, versions=dict(entry["versions"])
        )
        report.runs[run_id] = sorted(merged)
        if count is not None:
            missing = [i for i in range(count) if i not in merged]
            if missing:
                report.missing[run_id] = missing
    return report


def _exact(store: Store, run_id: str) -> bool:
    """Whether ``run_id`` itself (not as a prefix of another) is in ``store``."""
    row = store.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    return row is not None


def _check_same(
    entry: dict[str, Any],
    config: dict[str, Any],
    versions: dict[str, Any],
    count: int | None,
    where: str,
) -> None:
    run_id = entry["record"].run_id
    diff = _differences(run_identity(entry["config"]), run_identity(config))
    if diff:
        raise ConfigError(
            f"cannot merge run {run_id} from {entry['first']} with {where}: their "
            f"configurations differ in {', '.join(diff)}; shards of one run must be started "
            "with the same options (only --base-url, --models-file, --concurrency, timeouts "
            "and retries may differ)"
        )
    vdiff = _differences(entry["versions"], versions)
    if vdiff:
        raise ConfigError(
            f"cannot merge run {run_id} from {entry['first']} with {where}: they ran different "
            f"code or tasks ({', '.join(vdiff)} differ); rerun the odd shard with the same "
            "reflectlab version"
        )
    if count != entry["count"]:
        raise ConfigError(
            f"cannot merge run {run_id}: {entry['first']} is one of {entry['count']} shards "
            f"but {where} is one of {count}"
        )
