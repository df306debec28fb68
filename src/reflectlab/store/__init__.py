"""The SQLite run store: call cache, call log, and (from the runner) runs and samples."""

from reflectlab.store._migrations import MIGRATIONS, migration
from reflectlab.store._store import CacheStats, Store

__all__ = ["MIGRATIONS", "CacheStats", "Store", "migration"]
