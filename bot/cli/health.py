"""`newsbot health [--json]`: what /health shows, for an admin's shell and Docker's HEALTHCHECK; exit 1 when
unhealthy (the bot's heartbeat missing or older than NEWSBOT_HEARTBEAT_MAX_AGE)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import typer

from bot.cli.apps import app
from bot.cli.common import err, friendly, out, with_service
from bot.service import Service
from bot.service.celery_work import BrokerStatus
from bot.service.health import Health


def _as_json(health: Health) -> dict[str, Any]:
    return {
        "healthy": health.healthy,
        "problems": health.problems,
        "heartbeat_at": health.heartbeat_at,
        "heartbeat_age_s": None if health.heartbeat_age_s is None else round(health.heartbeat_age_s, 1),
        "heartbeat_max_age_s": health.heartbeat_max_age_s,
        "last_poll_at": health.last_poll_at,
        "feeds": health.feeds,
        "failing_feeds": [
            {"id": f.id, "url": f.url, "status": f.status, "error_count": f.error_count, "last_error": f.last_error}
            for f in health.failing
        ],
        "outbox": health.outbox,
        "enrichment_backlog": health.enrichment_backlog,
        "missing_models": health.missing_models,
        "model_download": None if health.download is None else asdict(health.download),
        "model_problems": [p.message for p in health.model_problems],
        "subscribers": sum(count for _, _, active, count in health.subscribers if active),
        "broker": None if health.broker is None else asdict(health.broker),
    }


def _broker_lines(broker: BrokerStatus | None) -> list[str]:
    if broker is None:
        return []
    if not broker.reachable:
        return [f"broker {broker.url}: unreachable ({broker.error})"]
    waiting = ", ".join(f"{name} {count}" for name, count in broker.queues.items())
    lines = [f"broker {broker.url}: jobs waiting: {waiting}; jobs failed: {broker.jobs_failed}"]
    if broker.outage_s is not None:
        lines.append(f"broker unreachable for {broker.outage_s:.0f} s")
    lines += [f"worker {w.name}: {w.device}, {w.concurrency} slot(s), seen {w.age_s:.0f} s ago" for w in broker.workers]
    if not broker.workers:
        lines.append("no worker seen in the last minute: start `newsbot worker`")
    if broker.last_refusal:
        lines.append(f"job refused by worker {broker.last_refusal}")
    return lines


@app.command()
@friendly
def health(as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Last poll, failing feeds, outbox and enrichment backlogs, models, the bot's heartbeat; exit 1 if unhealthy."""

    async def body(service: Service) -> Health:
        return await service.health.report()

    health = with_service(body)
    report = _as_json(health)
    if as_json:
        out.print_json(json.dumps(report))
    else:
        outbox = report["outbox"]
        lines = [
            f"heartbeat: {report['heartbeat_at'] or 'never'}"
            + (f" ({report['heartbeat_age_s']:.0f} s ago)" if report["heartbeat_age_s"] is not None else ""),
            f"last poll: {report['last_poll_at'] or 'never'}",
            f"feeds: {report['feeds']}, failing: {len(report['failing_feeds'])}",
            f"outbox: {outbox.get('pending', 0)} waiting, {outbox.get('failed', 0)} refused, "
            f"{outbox.get('sent', 0)} sent",
            f"stories waiting for their summary: {report['enrichment_backlog']}",
            f"subscribers: {report['subscribers']}",
        ]
        lines += [f"failing feed #{f['id']} {f['url']}: {f['status']}, {f['last_error'] or ''}" for f in report["failing_feeds"]]  # fmt: skip
        lines += [f"model not available: {name}" for name in report["missing_models"]]
        if health.download is not None:
            lines.append(health.download.describe())
        lines += [f"model problem: {message}" for message in report["model_problems"]]
        lines += _broker_lines(health.broker)
        for line in lines:
            out.print(line, soft_wrap=True, markup=False, highlight=False)
    if not report["healthy"]:
        for problem in report["problems"]:
            err.print(f"unhealthy: {problem}", soft_wrap=True, markup=False, highlight=False)
        raise typer.Exit(1)
