"""The SQLite run store: call cache, call log, runs, samples, results and checkpoints."""

from reflectlab.store._leases import HEARTBEAT_S, Lease
from reflectlab.store._migrations import MIGRATIONS, migration
from reflectlab.store._offline import OFFLINE_SAMPLE, OfflineRecord
from reflectlab.store._runs import CheckpointRecord, ResultRecord, RunRecord, SampleRecord
from reflectlab.store._store import CacheStats, CallQuality, Store

__all__ = [
    "HEARTBEAT_S",
    "MIGRATIONS",
    "OFFLINE_SAMPLE",
    "CacheStats",
    "CallQuality",
    "CheckpointRecord",
    "Lease",
    "OfflineRecord",
    "ResultRecord",
    "RunRecord",
    "SampleRecord",
    "Store",
    "migration",
]
