"""An online copy of the database: `VACUUM INTO` reads one consistent snapshot while other connections (the running
bot, a `poll --once`) keep writing, and writes a compact file of its own with no WAL beside it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.errors import StorageError
from bot.store.base import StoreBase


class BackupStore(StoreBase):
    def vacuum_into(self, target: Path) -> None:
        """Copy the database into `target` (a file that must not exist yet)."""
        with self._read() as conn:
            conn.execute("VACUUM INTO ?", [str(target)])


def check_copy(path: Path) -> tuple[str, int]:
    """(PRAGMA integrity_check's verdict, stories) of a copied database file, opened read-only."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            verdict = "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
            stories = int(conn.execute("SELECT count(*) FROM stories").fetchone()[0])
    except sqlite3.Error as e:
        raise StorageError(f"cannot read the copy {path}: {e}") from e
    return verdict, stories
