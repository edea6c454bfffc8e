"""What admins see: the feed list with its state, health, subscriber counts, as Telegram HTML blocks. Pure: data in,
blocks out (bot.render.spans packs them into messages)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import N_, Texts
from bot.render.spans import Block, Span, safe_href
from bot.service import BrokerStatus, DownloadState, FeedRow, Health

FEEDS_PER_PAGE = 10
STATUS = {"ok": N_("ok"), "error": N_("failing"), "paused": N_("paused"), "disabled": N_("disabled"), "new": N_("new")}
KINDS = {
    "private": N_("private chat"),
    "group": N_("group"),
    "supergroup": N_("group"),
    "channel": N_("channel"),
}


def status(feed: FeedRow, t: Texts) -> str:
    return t(STATUS.get(feed.status, feed.status))


def when(stamp: str | None, t: Texts) -> str:
    """An ISO timestamp as an admin reads it: "2026-11-25 12:00 UTC"."""
    return stamp[:16].replace("T", " ") + " UTC" if stamp else t("never")


def feed_block(feed: FeedRow, problems: Sequence[tuple[str, str]], t: Texts) -> Block:
    spans = [
        Span(f"#{feed.id} "),
        Span(feed.name, bold=True, href=safe_href(feed.url)),
        Span(f" · {status(feed, t)}"),
        Span(
            "\n"
            + t(
                "last success: {ok} · errors in a row: {count} · next fetch: {next}",
                ok=when(feed.last_ok_at, t),
                count=feed.error_count,
                next=when(feed.next_fetch_at, t) if feed.next_fetch_at else t("now"),
            )
        ),
    ]
    if feed.last_error and feed.error_count:
        spans.append(Span("\n" + t("last error: {error}", error=feed.last_error), italic=True))
    for at, message in problems:
        spans.append(Span("\n" + t("problem {at}: {message}", at=when(at, t), message=message), italic=True))
    return tuple(spans)


def feeds_page(
    feeds: Sequence[FeedRow], problems: dict[int, list[tuple[str, str]]], page: int, t: Texts
) -> tuple[list[Block], int]:
    """Page `page` (from 1) of the feed list, and how many pages there are."""
    pages = max(1, -(-len(feeds) // FEEDS_PER_PAGE))
    page = min(max(1, page), pages)
    shown = feeds[(page - 1) * FEEDS_PER_PAGE : page * FEEDS_PER_PAGE]
    failing = sum(1 for f in feeds if f.status in ("error", "disabled"))
    heading = (
        t.n("{count} feed", "{count} feeds", len(feeds)) + " · " + t.n("{count} failing", "{count} failing", failing)
    )
    blocks: list[Block] = [(Span(heading, bold=True),)]
    blocks += [feed_block(feed, problems.get(feed.id, []), t) for feed in shown]
    if not feeds:
        blocks.append((Span(t("No feeds yet: /addfeed URL adds one.")),))
    if pages > 1:
        more = t("Page {page} of {pages}.", page=page, pages=pages)
        if page < pages:
            more += " " + t("/feeds {next} shows the next.", next=page + 1)
        blocks.append((Span(more, italic=True),))
    return blocks, pages


def health_blocks(health: Health, t: Texts) -> list[Block]:
    outbox = health.outbox
    lines = [
        t("Last poll: {at}", at=when(health.last_poll_at, t)),
        t(
            "Feeds: {count}, failing: {failing}",
            count=health.feeds,
            failing=len(health.failing),
        ),
        t(
            "Outbox: {pending} waiting, {failed} refused, {sent} sent",
            pending=outbox.get("pending", 0),
            failed=outbox.get("failed", 0),
            sent=outbox.get("sent", 0),
        ),
        t("Stories waiting for their summary: {count}", count=health.enrichment_backlog),
        t("Subscribers: {count}", count=sum(count for _, _, active, count in health.subscribers if active)),
    ]
    blocks: list[Block] = [(Span(t("Health"), bold=True),), (Span("\n".join(lines)),)]
    if health.failing:
        failing = [f"#{f.id} {f.name} · {status(f, t)} · {f.last_error or ''}" for f in health.failing]
        blocks.append((Span(t("Failing feeds:") + "\n" + "\n".join(failing)),))
    if health.missing_models:
        blocks.append((Span(t("Models not downloaded:") + "\n" + "\n".join(health.missing_models)),))
    if health.download is not None:
        blocks.append((Span(download_line(health.download, t)),))
    for problem in health.model_problems:
        blocks.append((Span(t("Model problem: {message}", message=problem.message), italic=True),))
    if health.broker is not None:
        blocks.append((Span(broker_text(health.broker, t)),))
    return blocks


def broker_text(broker: BrokerStatus, t: Texts) -> str:
    """The model work queue (NEWSBOT_BROKER_URL): reachable, jobs waiting per priority, the workers seen."""
    if not broker.reachable:
        return t("Broker {url} is unreachable: {error}", url=broker.url, error=broker.error or "")
    queues = broker.queues
    lines = [
        t(
            "Jobs waiting: {interactive} for readers, {fresh} fresh, {backlog} backlog; jobs failed: {failed}",
            interactive=queues.get("interactive", 0),
            fresh=queues.get("fresh", 0),
            backlog=queues.get("backlog", 0),
            failed=broker.jobs_failed,
        )
    ]
    lines += [
        t("Worker {name}: {device}, {slots} slots, seen {age} s ago", name=w.name, device=w.device,
          slots=w.concurrency, age=int(w.age_s))
        for w in broker.workers
    ]  # fmt: skip
    if not broker.workers:
        lines.append(t("No worker seen in the last minute: start newsbot worker on a box with the models."))
    if broker.last_refusal:
        lines.append(t("A worker refused a job (its models differ): {reason}", reason=broker.last_refusal))
    return "\n".join(lines)


def download_line(download: DownloadState, t: Texts) -> str:
    """What the background model download is doing: "Downloading models: 2 of 5 (name: 120/344 MB)"."""
    if download.state == "failed":
        return t("Model download failed: {reason}", reason=download.error or "")
    count, number = len(download.models), min(download.done + 1, len(download.models))
    if download.state == "done":
        return t("Models downloaded: {count}", count=count)
    if download.state == "converting":
        line = t("Converting models for CTranslate2: {number} of {count}", number=number, count=count)
    else:
        line = t("Downloading models: {number} of {count}", number=number, count=count)
    if download.current:
        size = ""
        if download.current_mb is not None:
            total = f"/{download.current_total_mb:.0f}" if download.current_total_mb else ""
            size = f": {download.current_mb:.0f}{total} MB"
        line += f" ({download.current}{size})"
    return line


def subscriber_blocks(counts: Sequence[tuple[str, str, bool, int]], t: Texts) -> list[Block]:
    active = [(kind, lang, n) for kind, lang, on, n in counts if on]
    total = sum(n for _, _, n in active)
    lines = [f"{t(KINDS.get(kind, kind))} · {lang}: {n}" for kind, lang, n in sorted(active)]
    inactive = sum(n for _, _, on, n in counts if not on)
    blocks: list[Block] = [(Span(t.n("{count} subscriber", "{count} subscribers", total), bold=True),)]
    if lines:
        blocks.append((Span("\n".join(lines)),))
    if inactive:
        blocks.append((Span(t("Inactive (stopped or blocked): {count}", count=inactive), italic=True),))
    return blocks
