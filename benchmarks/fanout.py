"""Digest fan-out through the fake Bot API at 20x Telegram's limits, and how responsive the bot stays; never a test.

Prints, side by side from one run: the achieved send rate as a share of the configured limit (and the 429s the fake
Telegram answered), outbox rows written per second by the digest round, peak RSS, and the p95 latency of /help
(time from the update being available to the reply reaching the fake Telegram) during the fan-out and during an
enrichment batch with real-size random-weight models.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import httpx  # noqa: E402
import yaml  # noqa: E402
from process_memory import peak_rss_mb  # noqa: E402

from bot.chat.app import build_application, serve  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.service import make_service  # noqa: E402
from tests.fakebotapi import TOKEN  # noqa: E402
from tests.httpserver import FeedServer, Route  # noqa: E402

# Telegram's limits (about 30/s in all, 1/s per chat, 20/min per group) as newsbot's defaults, scaled up.
SEND_RATE, CHAT_RATE, GROUP_RATE = 25.0, 1.0, 20.0
PROBE_EVERY = 0.25  # seconds between two /help probes
PROBE_CHATS = 10_000_000  # probes come from chats numbered from here, never subscribers


def rss_items(count: int, *, long_text: str | None = None) -> bytes:
    items = "".join(
        f"<item><title>Story {i}: a model shipped</title><link>https://news.example/{i}</link><guid>g{i}</guid>"
        f"<description>{long_text or f'Story {i} is the news. It happened today. People care.'}</description></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'.encode()


def start_fake_telegram(scale: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakebotapi",
            "--rate",
            str(SEND_RATE * scale),
            "--chat-rate",
            str(CHAT_RATE * scale),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else float("nan")


class Probe:
    """Sends /help from fresh chats every PROBE_EVERY seconds until stopped."""

    def __init__(self, client: httpx.AsyncClient, control: str, first_chat: int) -> None:
        self.client, self.control, self.next_chat = client, control, first_chat
        self.stop = asyncio.Event()

    async def run(self) -> None:
        while not self.stop.is_set():
            await self.client.post(f"{self.control}/probe", json={"chat_id": self.next_chat, "text": "/help"})
            self.next_chat += 1
            await asyncio.sleep(PROBE_EVERY)


async def stats(client: httpx.AsyncClient, control: str) -> dict[str, Any]:
    return (await client.get(f"{control}/stats")).json()


async def probed(
    service: Any, settings: Any, control: str, done: Callable[[httpx.AsyncClient, Probe], Awaitable[bool]]
) -> tuple[dict[str, Any], float]:
    """Run the bot and probe /help until `done`; the fake Telegram's stats after the last replies, and seconds taken."""
    application = build_application(service, settings)
    stop = asyncio.Event()
    async with httpx.AsyncClient() as client:
        bot = asyncio.create_task(serve(application, stop, tick=3600))
        probe = Probe(client, control, first_chat=PROBE_CHATS)
        probing = asyncio.create_task(probe.run())
        started = deadline = time.monotonic()
        deadline += 900
        while not await done(client, probe):
            if time.monotonic() > deadline:
                raise SystemExit("not done in 15 minutes")
            await asyncio.sleep(0.5)
        seconds = time.monotonic() - started
        probe.stop.set()
        await probing
        await asyncio.sleep(1.0)  # the last probes' replies
        result = await stats(client, control)
        stop.set()
        await bot
    return result, seconds


def settings_for(tmp: Path, base_url: str, scale: float, **extra: Any) -> Any:
    return load_settings(
        telegram_bot_token=TOKEN,
        telegram_api_base_url=base_url,
        db=tmp / "newsbot.db",
        feeds=tmp / "feeds.yaml",
        allow_private_urls=True,
        extract_articles=False,
        send_rate=SEND_RATE * scale,
        chat_rate=CHAT_RATE * scale,
        group_rate=GROUP_RATE * scale,
        **extra,
    )


async def fanout(subscribers: int, scale: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="newsbot-fanout-"))
    fake, base_url = start_fake_telegram(scale)
    control = base_url.removesuffix("/bot") + "/_control"
    with FeedServer() as feeds:
        feeds.routes["/feed"] = Route(body=rss_items(5))
        (tmp / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": feeds.url("/feed"), "lang": "en"}]}))
        settings = settings_for(tmp, base_url, scale, backend="extractive")
        service = make_service(settings)
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        now = datetime.now(UTC)
        started = time.perf_counter()
        for chat_id in range(1, subscribers + 1):
            await service.ctx.db(
                service.store.insert_subscription,
                chat_id,
                0,
                kind="private",
                title=None,
                lang="en",
                times=("08:00",),
                tz="UTC",
                window_start=now - timedelta(hours=24),
                next_digest_at=now - timedelta(minutes=1),
                now=now,
            )
        subscribe_seconds = time.perf_counter() - started

        round_seconds: list[float] = []
        real_round = service.digests.run_due

        async def timed_round() -> Any:
            begun = time.perf_counter()
            report = await real_round()
            if report.digests:
                round_seconds.append(time.perf_counter() - begun)
            return report

        service.digests.run_due = timed_round  # type: ignore[method-assign]

        async def delivered(client: httpx.AsyncClient, probe: Probe) -> bool:
            answered = probe.next_chat - PROBE_CHATS
            return bool((await stats(client, control))["sent"] - answered >= subscribers)

        result, _ = await probed(service, settings, control, delivered)
    fake.stdin.close()  # type: ignore[union-attr]
    fake.wait(10)
    counts = await asyncio.to_thread(lambda: service.store.outbox_counts())  # closed service: its store reopens
    sent = counts.get("sent", 0)
    times = result["send_times"]
    window = times[-1] - times[0]
    # The limiter, like Telegram, lets one second's worth go at once: a short run (a few seconds) overstates the rate.
    rows = sent  # one message per subscriber: each digest is one outbox row
    return {
        "subscribers": subscribers,
        "messages_sent": result["sent"],
        "fanout_seconds": window,
        "achieved_rate": result["sent"] / window,
        "configured_rate": SEND_RATE * scale,
        "too_fast_429s": result["too_fast"],
        "refused": result["refused"],
        "digest_round_seconds": round_seconds[0] if round_seconds else float("nan"),
        "outbox_rows_per_second": rows / round_seconds[0] if round_seconds else float("nan"),
        "subscribe_seconds": subscribe_seconds,
        "help_probes": len(result["probe_latencies"]),
        "help_unanswered": result["probes_unanswered"],
        "help_p95_seconds": p95(result["probe_latencies"]),
        "help_median_seconds": statistics.median(result["probe_latencies"]) if result["probe_latencies"] else None,
        "peak_rss_mb": peak_rss_mb(),
    }


async def during_enrichment(articles: int) -> dict[str, Any]:
    """Real-size random-weight models (benchmarks/random_models.py) enriching a batch while /help is probed."""
    from engine import SUMMARY_TOKENS
    from random_models import ARTICLE, build_models

    from summarizer.engine import make_engine
    from summarizer.types import EngineConfig

    tmp = Path(tempfile.mkdtemp(prefix="newsbot-enrich-"))
    started = time.perf_counter()
    paths = build_models(tmp / "models")
    build_seconds = time.perf_counter() - started
    engine = make_engine(
        EngineConfig(
            summarizer_model=paths["summarize"],
            translation_overrides={"it-en": paths["it-en"], "en-de": paths["en-de"]},
            model_dir=tmp / "models",
            translate_max_ratio=1.0,
            translate_extra_tokens=0,
            translate_min_ratio=1.0,
            summary_min_tokens=SUMMARY_TOKENS,
            summary_max_tokens=SUMMARY_TOKENS,
            batch_size=articles,
        )
    )
    lines = ARTICLE.read_text(encoding="utf-8").strip().splitlines()
    body = "\n".join(lines[1:]).replace("&", "&amp;").replace("<", "&lt;")
    fake, base_url = start_fake_telegram(20)
    control = base_url.removesuffix("/bot") + "/_control"
    with FeedServer() as feeds:
        items = "".join(
            f"<item><title>{lines[0]} ({i})</title><link>https://it.example/{i}</link><guid>{i}</guid>"
            f"<description>{body}</description></item>"
            for i in range(articles)
        )
        feeds.routes["/feed"] = Route(
            body=f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
        )
        (tmp / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": feeds.url("/feed"), "lang": "it"}]}))
        settings = settings_for(tmp, base_url, 1)
        service = make_service(settings, engine=engine)
        await service.ingest.poll(force=True)

        async def enriched(client: httpx.AsyncClient, probe: Probe) -> bool:
            return not await service.enrichment.pending()

        result, enrich_seconds = await probed(service, settings, control, enriched)
    fake.stdin.close()  # type: ignore[union-attr]
    fake.wait(10)
    return {
        "articles": articles,
        "model_build_seconds": build_seconds,
        "enrich_seconds_with_loading": enrich_seconds,
        "help_probes": len(result["probe_latencies"]),
        "help_unanswered": result["probes_unanswered"],
        "help_p95_seconds": p95(result["probe_latencies"]),
        "help_median_seconds": statistics.median(result["probe_latencies"]) if result["probe_latencies"] else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=20.0, help="limits x this (default 20: 500 messages/s)")
    parser.add_argument("--articles", type=int, default=8, help="articles in the enrichment batch")
    parser.add_argument("--skip-enrichment", action="store_true")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args()
    first = asyncio.run(fanout(args.subscribers, args.scale))
    second = None if args.skip_enrichment else asyncio.run(during_enrichment(args.articles))
    if args.json:
        print(json.dumps({"fanout": first, "enrichment": second}, indent=2))
        return
    share = first["achieved_rate"] / first["configured_rate"]
    print(f"fan-out: {first['subscribers']} subscribers, limits x{args.scale:g}")
    print(
        f"  achieved {first['achieved_rate']:.0f}/s of {first['configured_rate']:.0f}/s configured = {share:.2f} (goal >= 0.9)"
    )
    print(
        f"  429s answered by the fake Telegram: {first['too_fast_429s']} (goal 0); other refusals: {first['refused']}"
    )
    print(f"  digest round: {first['digest_round_seconds']:.2f} s, {first['outbox_rows_per_second']:.0f} outbox rows/s")
    print(
        f"  /help p95 during the fan-out: {first['help_p95_seconds']:.3f} s over {first['help_probes']} probes (goal < 1 s)"
    )
    print(f"  peak RSS: {first['peak_rss_mb']:.0f} MB")
    if second:
        print(f"enrichment batch: {second['articles']} articles, real-size random-weight models")
        print(
            f"  /help p95 during it: {second['help_p95_seconds']:.3f} s over {second['help_probes']} probes (goal < 1 s)"
        )
        print(
            f"  batch took {second['enrich_seconds_with_loading']:.0f} s with loading; peak RSS {second['peak_rss_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
