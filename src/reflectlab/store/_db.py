"""The store's connection: sqlite3, with every failure turned into a :class:`StoreError`.

A full disk, a read-only file or a locked database surface as ``sqlite3.OperationalError``
from whatever statement hit them; letting that escape from inside a model call would be caught
by a strategy's error handling and stored as that sample's failure. Translating it here, once,
for every statement, makes it a :class:`~reflectlab.errors.StoreError` that names the database:
the runner lets it through and marks the run failed, never a sample.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from reflectlab.errors import StoreError


class Database:
    """A thin wrapper of :class:`sqlite3.Connection` (``execute``, ``executemany``,
    ``close``) that raises :class:`StoreError` instead of ``sqlite3.Error``."""

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.conn = conn
        self.path = path

    def _fail(self, exc: sqlite3.Error, sql: str) -> StoreError:
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
        hint = ""
        text = str(exc).lower()
        if "readonly" in text or "read-only" in text:
            hint = " (the file or its folder is read-only; pass --db with a writable path)"
        elif "disk" in text and "full" in text:
            hint = " (the disk is full; free space, then `reflectlab resume`)"
        return StoreError(f"the reflectlab database {self.path} failed ({verb}): {exc}{hint}")

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._fail(exc, sql) from exc

    def executemany(self, sql: str, rows: Iterable[Any]) -> sqlite3.Cursor:
        try:
            return self.conn.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise self._fail(exc, sql) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any error (a failing commit, e.g.
        a full disk, included), so no transaction is left open."""
        self.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.execute("COMMIT")
        except BaseException:
            # The statement that failed may already have ended the transaction; the original
            # error is what matters, so a failing ROLLBACK must not replace it.
            with contextlib.suppress(StoreError):
                self.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()
