"""The backup stage: a consistent online copy of the database (`VACUUM INTO`, safe while `newsbot run` writes) and
of feeds.yaml, side by side in a new directory, the copy checked before it is reported."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from bot.errors import StorageError, UsageError
from bot.service.context import Context
from bot.store.backup import check_copy

DATABASE_FILE = "newsbot.db"
FEEDS_FILE = "feeds.yaml"


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    database: Path
    feeds: Path | None  # None when there was no feeds.yaml to copy
    bytes: int
    stories: int
    integrity: str  # PRAGMA integrity_check of the copy: "ok"


class Backups:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def take(self, parent: Path) -> BackupReport:
        """Write `parent/newsbot-<UTC time>/` with newsbot.db and feeds.yaml; nothing is left behind on failure."""
        target = parent / f"newsbot-{self.ctx.now().strftime('%Y%m%dT%H%M%SZ')}"
        try:
            target.mkdir(parents=True)
        except FileExistsError:
            raise UsageError(f"{target} exists already: a backup is never written over another") from None
        except OSError as e:
            raise UsageError(f"cannot create {str(target)!r}: {e.strerror or e}") from None
        try:
            return await self._fill(target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise

    async def _fill(self, target: Path) -> BackupReport:
        database = target / DATABASE_FILE
        await self.ctx.db(self.ctx.store.vacuum_into, database)
        feeds: Path | None = None
        source = Path(self.ctx.settings.feeds)
        if source.exists():
            feeds = target / FEEDS_FILE
            # Edits replace feeds.yaml by a rename: a copy reads the old file or the new one, never half of each.
            await asyncio.to_thread(shutil.copy2, source, feeds)
        verdict, stories = await asyncio.to_thread(check_copy, database)
        if verdict != "ok":
            raise StorageError(f"the copy {database} failed its integrity check: {verdict}")
        return BackupReport(target, database, feeds, database.stat().st_size, stories, verdict)
