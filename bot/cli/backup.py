"""`newsbot backup DIR [--json]`: an online copy of the database and feeds.yaml, safe while `newsbot run` writes."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from bot.cli.apps import app
from bot.cli.common import friendly, out, with_service
from bot.errors import UsageError
from bot.service import Service
from bot.service.backup import BackupReport


@app.command()
@friendly
def backup(
    directory: Path = typer.Argument(..., help="Where to write newsbot-<UTC time>/ (created if missing)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object."),
) -> None:
    """Copy the database (VACUUM INTO: consistent while the bot runs) and feeds.yaml into a new directory, and check
    the copy (PRAGMA integrity_check). Restore: docs/operating.md, "Backup and restore"."""

    if not str(directory).strip() or str(directory) == ".":
        raise UsageError("name the directory to write the backup into, e.g. newsbot backup /data/backups")

    async def body(service: Service) -> BackupReport:
        return await service.backups.take(directory)

    report = with_service(body)
    if as_json:
        found = {
            "directory": str(report.directory),
            "database": str(report.database),
            "feeds": str(report.feeds) if report.feeds else None,
            "bytes": report.bytes,
            "stories": report.stories,
            "integrity": report.integrity,
        }
        out.print_json(json.dumps(found))
        return
    feeds = f" and {report.feeds.name}" if report.feeds else " (no feeds.yaml to copy)"
    out.print(
        f"backup written to {report.directory}: {report.database.name} ({report.stories} stories, "
        f"{report.bytes / 1e6:.1f} MB, integrity {report.integrity}){feeds}",
        soft_wrap=True, markup=False, highlight=False,
    )  # fmt: skip
