"""/trends in Telegram: the chart goes out with sendPhoto through the fake Bot API (a real multipart upload), then the
table, in the chat's language; a bad argument, or more days than stories are kept, gets the usage."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bot.i18n import texts
from tests.chat.harness import running_bot
from tests.httpserver import FeedServer, Route
from tests.trends.week import FEEDS_YAML, NOW, feed

HEADING = "AI news trends, Nov 19\u2009–\u200925, 2026"  # Babel's interval, thin spaces around the dash


async def test_trends_sends_the_chart_then_the_table(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/week"] = Route(body=feed())
    listed = [{"url": feed_server.url("/week"), "title": "Wire", "lang": "en"}]
    watchlist = FEEDS_YAML["settings"]["watchlist"]
    async with running_bot(tmp_path, feed_server, feeds=listed, watchlist=watchlist, now=lambda: NOW) as world:
        await world.service.ingest.poll(force=True)
        await world.service.enrichment.enrich()
        await world.service.trends.extract()
        [table] = await world.say(91, "/trends", timeout=30)
        [photo] = [p for p in world.api.photos if p.chat_id == 91]
        assert Image.open(io.BytesIO(photo.data)).size == (1200, 840)
        assert photo.caption == HEADING
        assert table.visible.startswith(HEADING + "\n16 stories · previous 7 days: 10\n")
        told, rising = table.visible.split("\n\nMost told\n")[1].split("\n\nRising\n")
        assert told.startswith("OpenAI — 9 (+5)\n")  # the fixture's counts, against the week before
        assert {"Nvidia — 4 (−2)", "Google DeepMind — 3 (+3)"} <= set(told.splitlines())
        assert "“voice agent" in told and "“google”" not in told  # a phrase, once; part of a name is the name's
        assert rising.startswith("OpenAI — 9 (+5)\n")
        [call] = world.api.calls_of("sendPhoto")
        assert call.status == 200

        await world.say(92, "/start", language_code="it")
        [italian] = await world.say(92, "/trends 7", timeout=30)
        it = texts("it")
        heading = it("AI news trends, {period}", period="19–25 nov 2026")
        assert heading != "AI news trends, 19–25 nov 2026" and italian.visible.startswith(heading)
        assert [p.caption for p in world.api.photos if p.chat_id == 92] == [heading]

        [usage] = await world.say(91, "/trends forever")
        assert usage.visible == "Usage: /trends or /trends DAYS (1 to 30)"
        assert len(world.api.photos) == 2


async def test_trends_days_stop_where_stories_are_no_longer_kept(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server, now=lambda: NOW, retention_days=14) as world:
        [usage] = await world.say(93, "/trends 15")
        assert usage.visible == "Usage: /trends or /trends DAYS (1 to 14)"
        [answer] = await world.say(93, "/trends 14", timeout=30)
        assert answer.visible.startswith("AI news trends, ")
