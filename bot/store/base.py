"""The store's plumbing: one SQLite connection per thread, write transactions, timestamps. No table knowledge here."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.errors import StorageError
from bot.store.migrations import migrations

_IN_CHUNK = 500  # stays well under SQLite's bound-parameter limit
# A writer in another process (`poll --once` beside `run`) holds the lock this long at most before we give up.
BUSY_TIMEOUT = 30.0


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def iso_ms(moment: datetime) -> str:
    """For times a worker waits for (a retry after a 429): a whole second early is too early."""
    return moment.isoformat(timespec="milliseconds")


def chunks(items: Sequence[object]) -> Iterator[Sequence[object]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def select_in(
    conn: sqlite3.Connection, sql: str, keys: Sequence[object], params: Sequence[object] = ()
) -> list[tuple[Any, ...]]:
    """Rows of `sql` (with one `{marks}` for the IN list, then `params` for any later placeholders) for every key,
    asked in chunks under SQLite's limit."""
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks(keys):
        rows += conn.execute(sql.format(marks=",".join("?" * len(chunk))), [*chunk, *params]).fetchall()
    return rows


class StoreBase:
    """Opens one connection per thread on first use (STYLE: no connection shared behind a lock).

    The service runs every store call on its own SQLite thread, so in the running bot that is one connection; tests
    and the CLI may also call from the main thread, which then gets its own.
    """

    def __init__(self, path: Path | str) -> None:
        if str(path) == ":memory:":
            raise StorageError("an in-memory database cannot be shared between threads: give a file path")
        self.path = Path(path)
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()

    @property
    def db(self) -> Database:
        database: Database | None = getattr(self._local, "db", None)
        if database is None:
            database = Database(self._connect())
            self._local.db = database
        return database

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def _connect(self) -> sqlite3.Connection:
        try:
            # check_same_thread=False only so that close() may run from another thread; each thread has its own.
            conn = sqlite3.connect(str(self.path), check_same_thread=False, timeout=BUSY_TIMEOUT)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # In WAL mode NORMAL loses nothing on a process crash (kill -9), only possibly on power loss.
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as e:
            raise StorageError(f"cannot open database {self.path}: {e}") from e
        with self._opened_lock:
            self._opened.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. IMMEDIATE: another process writing meanwhile (`poll --once` beside `run`) makes this
        wait for the busy timeout; a deferred one that read first would fail at once with "database is locked"."""
        conn = self.conn
        if conn.in_transaction:  # nested: part of the caller's transaction
            yield conn
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.Error as e:
            raise StorageError(f"database {self.path}: {e}") from e

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """Reads outside a transaction; SQLite errors become StorageError."""
        try:
            yield self.conn
        except sqlite3.Error as e:
            raise StorageError(f"database {self.path}: {e}") from e

    def migrate(self) -> None:
        """Apply the pending migrations. Another process opening the database at the same time may apply one first
        (sqlite-utils reads what is pending once, before it starts): this process's attempt then fails and rolls
        back, and it applies what is still pending."""
        try:
            while True:
                pending = {migration.name for migration in migrations.pending(self.db)}
                try:
                    migrations.apply(self.db)
                    return
                except sqlite3.Error:
                    if not {migration.name for migration in migrations.pending(self.db)} < pending:
                        raise  # nobody else got further: a real failure
        except sqlite3.Error as e:
            raise StorageError(f"cannot migrate database {self.path}: {e}") from e

    def close(self) -> None:
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()
