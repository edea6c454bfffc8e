"""The running bot's heartbeat (one row per kind of process, its last beat and pid), and what it is fetching in the
background (its model downloads), for `newsbot health` in another process."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

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

    def save_download_state(self, process: str, state: dict[str, Any], now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO model_downloads (process, state, at) VALUES (?, ?, ?) "
                "ON CONFLICT(process) DO UPDATE SET state = excluded.state, at = excluded.at",
                [process, json.dumps(state), iso(now)],
            )

    def download_state(self, process: str) -> tuple[dict[str, Any], str] | None:
        """(the state, when it was saved) of the process's model downloads, or None if it never fetched any."""
        with self._read() as conn:
            row = conn.execute("SELECT state, at FROM model_downloads WHERE process = ?", [process]).fetchone()
        return (json.loads(row[0]), str(row[1])) if row else None

    def forget_download_state(self, process: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM model_downloads WHERE process = ?", [process])
