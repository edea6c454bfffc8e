"""The running bot's heartbeat: one row per kind of process, its last beat and pid."""

from __future__ import annotations

from datetime import datetime

from bot.store.base import StoreBase, iso


class HeartbeatStore(StoreBase):
    def beat(self, process: str, now: datetime, pid: int) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO heartbeats (process, at, pid) VALUES (?, ?, ?) "
                "ON CONFLICT(process) DO UPDATE SET at = excluded.at, pid = excluded.pid",
                [process, iso(now), pid],
            )

    def heartbeat(self, process: str) -> tuple[str, int] | None:
        """(when, pid) of the process's last beat, or None if it never beat."""
        with self._read() as conn:
            row = conn.execute("SELECT at, pid FROM heartbeats WHERE process = ?", [process]).fetchone()
        return (str(row[0]), int(row[1])) if row else None
