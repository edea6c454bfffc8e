"""Ingest throughput: a first poll of the real feeds served x20 from a local server, then an all-304 second poll.

Run from the repository root: `python benchmarks/ingest.py [--copies 20]`. Prints entries stored per second on the first
poll, the second poll's time as a share of the first, and feedparser's own single-core rate measured in the same run.
Article-page extraction is off: the real feeds' links point to the internet, which this machine cannot reach.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402
import yaml  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.service import make_service  # noqa: E402
from tests.realfeeds import real_feeds  # noqa: E402

# Namespace URIs and the JSON Feed version name a format, not an article: rewriting them would break the parse.
_FORMAT_URIS = re.compile(rb"""xmlns(?::[\w.-]+)?\s*=\s*(["']).*?\1|https?://jsonfeed\.org/version/[\d.]+""", re.S)


def copy_rewriter(copy: int) -> Callable[[bytes], bytes]:
    """Every article URL in copy k gets its own host prefix, so guids and links never dedupe across copies."""
    marker = f"://c{copy}.".encode()

    def rewrite(body: bytes) -> bytes:
        parts, pos = [], 0
        for match in _FORMAT_URIS.finditer(body):
            parts += [body[pos : match.start()].replace(b"://", marker), match.group(0)]
            pos = match.end()
        parts.append(body[pos:].replace(b"://", marker))
        return b"".join(parts)

    return rewrite


def serve(copies: int, conn: Connection) -> None:
    """Child process: serve `copies` rewritten copies of every real feed, report the URLs, run until told to stop."""
    from tests.httpserver import FeedServer
    from tests.realfeeds import serve as serve_feeds

    feeds = real_feeds()
    with FeedServer() as server:
        urls: list[str] = []
        for copy in range(copies):
            urls += serve_feeds(server, feeds, prefix=f"c{copy}-", rewrite=copy_rewriter(copy))
        conn.send(urls)
        conn.recv()  # stop signal


def feedparser_alone_rate() -> tuple[int, float]:
    bodies = [f.path.read_bytes() for f in real_feeds() if f.format != "jsonfeed"]
    start = time.perf_counter()
    entries = sum(len(feedparser.parse(body).entries) for body in bodies)
    return entries, entries / (time.perf_counter() - start)


async def polls(settings_dir: Path, urls: list[str], per_host: int) -> tuple[int, float, float, int]:
    (settings_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": u} for u in urls]}))
    settings = load_settings(
        db=settings_dir / "bench.db",
        feeds=settings_dir / "feeds.yaml",
        allow_private_urls=True,
        extract_articles=False,
        # Every copy lives on 127.0.0.1; a real poll spreads its feeds over many hosts.
        per_host_concurrency=per_host,
    )
    service = make_service(settings)
    try:
        await service.feeds.sync()
        start = time.perf_counter()
        first = await service.ingest.poll(force=True)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        second = await service.ingest.poll(force=True)
        second_s = time.perf_counter() - start
    finally:
        await service.aclose()
    stored = sum(r.new + r.merged for r in first)
    not_modified = sum(r.not_modified for r in second)
    return stored, first_s, second_s, not_modified


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=16, help="concurrent connections to the one local server")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(args.copies, child), daemon=True)
    server.start()
    urls: list[str] = parent.recv()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            stored, first_s, second_s, not_modified = asyncio.run(polls(Path(tmp), urls, args.per_host))
    finally:
        parent.send("stop")
        server.join(timeout=10)
    fp_entries, fp_rate = feedparser_alone_rate()

    print(f"feeds polled:                {len(urls)} ({args.copies} copies of {len(urls) // args.copies} real feeds)")
    print(
        f"first poll:                  {stored} entries stored in {first_s:.2f} s = {stored / first_s:,.0f} entries/s"
    )
    print(
        f"second poll (all 304):       {second_s:.3f} s, {not_modified} feeds not modified, "
        f"{len(urls) - not_modified} still broken (their 304 says the unparseable content is unchanged)"
    )
    print(f"second / first:              {second_s / first_s:.1%}")
    print(f"feedparser alone, one core:  {fp_rate:,.0f} entries/s ({fp_entries} entries, same machine, same run)")
    print(f"pipeline / feedparser alone: {stored / first_s / fp_rate:.2f}x")


if __name__ == "__main__":
    main()
