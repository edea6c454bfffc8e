"""Settings by buttons, through the real Application and the fake Bot API: /lang, /sources, /schedule and /topics offer
keyboards whose presses change the setting, are answered exactly once and show the new state; forged, stale and
replayed presses, a stopped subscriber and a group member who is not an admin get a refusal and change nothing. The
text forms still work, /topics -crypto included."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.service import Chat
from tests.chat.harness import BotWorld, running_bot
from tests.fakebotapi import FakeBotAPI, Sent
from tests.fakekeyboards import Press
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss

READER = 4242
GROUP, ADMIN, MEMBER = -100777, 71, 72


def three_feeds(server: FeedServer) -> list[dict[str, Any]]:
    for path in ("/wire", "/echo", "/post"):
        server.routes[path] = Route(body=rss([]))
    return [
        {"url": server.url("/wire"), "title": "Wire", "lang": "en"},
        {"url": server.url("/echo"), "title": "Echo", "lang": "en"},
        {"url": server.url("/post"), "title": "Post", "lang": "en"},
    ]


def labels(world: BotWorld, message: Sent) -> list[str]:
    return [button["text"] for row in world.api.keyboard(message.chat_id, message.message_id) for button in row]


def data_of(world: BotWorld, message: Sent, label_part: str) -> str:
    rows = world.api.keyboard(message.chat_id, message.message_id)
    [data] = [b["callback_data"] for row in rows for b in row if label_part in b["text"]]
    return str(data)


async def press(world: BotWorld, message: Sent, data: str, **who: Any) -> str:
    """Press and wait for the answer; returns the toast. Exactly one answer, whatever the press."""
    pressed: Press = await asyncio.to_thread(world.api.press, message.chat_id, message.message_id, data, **who)
    await world.until(lambda: world.api.answered(pressed))
    await asyncio.sleep(0.1)  # a second answer would arrive now
    calls = [c for c in world.api.calls_of("answerCallbackQuery") if c.params["callback_query_id"] == pressed.query_id]
    assert len(calls) == 1, calls
    [answer] = world.api.answered(pressed)
    return str(answer.get("text", ""))


async def test_lang_buttons_change_the_language_and_a_forged_one_changes_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(READER, "/start")
        [menu] = await world.say(READER, "/lang")
        assert labels(world, menu) == ["✓ English", "Italiano", "Deutsch"]  # as offered, by their own names
        assert "/lang CODE" in menu.visible  # the text form is still explained
        toast = await press(world, menu, data_of(world, menu, "Deutsch"))
        assert toast == "Erledigt: deine Übersicht kommt jetzt auf Deutsch."
        assert "✓ Deutsch" in labels(world, menu) and "English" in labels(world, menu)
        assert (await world.service.subscribers.get(Chat(READER))).lang == "de"  # type: ignore[union-attr]
        for forged in ("sl:xx", "sl:de;DROP", "sl:" + "d" * 60, "sl:", "ss:1", "sc:9", "st:"):
            refused = await press(world, menu, forged)
            assert refused == "Diese Schaltfläche gilt nicht mehr: sende den Befehl noch einmal.", forged
        assert (await world.service.subscribers.get(Chat(READER))).lang == "de"  # type: ignore[union-attr]
        [text_form] = await world.say(READER, "/lang it")  # the text form still works
        assert "Italiano" in text_form.visible


async def test_sources_turn_a_muted_feed_back_on_and_refuse_stale_presses(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path, feed_server, feeds=three_feeds(feed_server)) as world:
        await world.say(READER, "/start")
        [sub] = [await world.service.subscribers.get(Chat(READER))]
        assert sub is not None
        await world.publish([("e1", "Echo tells of robots")], path="/echo")
        await world.publish([("w1", "Wire tells of chips")], path="/wire")
        [_, echo, _] = await world.service.preferences.sources(sub.id)
        await world.service.preferences.mute_feed(sub.id, echo.feed_id)  # what 🔇 under an article does
        [digest] = await world.say(READER, "/digest")
        assert "Wire tells of chips" in digest.visible and "Echo" not in digest.visible

        [listing] = await world.say(READER, "/sources")
        assert labels(world, listing) == ["✅ Wire", "🔇 Echo", "✅ Post"]
        assert await press(world, listing, data_of(world, listing, "Echo")) == "Switched on: Echo."
        assert labels(world, listing) == ["✅ Wire", "✅ Echo", "✅ Post"]
        assert await press(world, listing, data_of(world, listing, "Post")) == "Switched off: Post."
        assert labels(world, listing) == ["✅ Wire", "✅ Echo", "⬜ Post"]
        await world.publish([("e2", "Echo tells of models")], path="/echo")
        [again] = await world.say(READER, "/digest")
        assert "Echo tells of robots" in again.visible and "Echo tells of models" in again.visible

        refusal = "This button no longer works: send the command again."
        assert await press(world, listing, "ss:999999:0") == refusal  # no such feed
        assert await press(world, listing, f"ss:{echo.feed_id}:2") == refusal  # no such state
        await world.say(READER, "/stop")
        assert await press(world, listing, f"ss:{echo.feed_id}:0") == refusal  # replayed after /stop
        assert [s.on for s in await world.service.preferences.sources(sub.id)] == [True, True, True]  # gone with it


async def test_schedule_presets_and_topic_buttons(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(READER, "/start")
        [menu] = await world.say(READER, "/schedule")
        assert "/schedule 07:30,18:00 Europe/Rome" in menu.visible
        assert await press(world, menu, data_of(world, menu, "07:30 · 18:00")) == "Done: digests at 07:30, 18:00 (UTC)."
        assert "✓ 07:30 · 18:00" in labels(world, menu)
        assert (await world.service.subscribers.get(Chat(READER))).times == ("07:30", "18:00")  # type: ignore[union-attr]

        [done] = await world.say(READER, "/topics AI, -crypto, robots")
        assert done.visible == "Done: you get only stories about AI, robots, except those mentioning crypto."
        [shown] = await world.say(READER, "/topics")
        assert labels(world, shown) == ["❌ AI", "❌ not crypto", "❌ robots", "❌ Remove all"]
        drop_robots = data_of(world, shown, "robots")
        assert await press(world, shown, drop_robots) == "Your topics: AI, -crypto. Press ❌ to remove one."
        assert labels(world, shown) == ["❌ AI", "❌ not crypto", "❌ Remove all"]
        refusal = "This button no longer works: send the command again."
        assert await press(world, shown, drop_robots) == refusal  # replayed: robots is gone
        assert await press(world, shown, "st:0:zzzz") == refusal  # forged
        assert await press(world, shown, "st:1:0000") == refusal  # the check of another topic
        topics = (await world.service.subscribers.get(Chat(READER))).topics  # type: ignore[union-attr]
        assert topics == ("AI", "-crypto")
        cleared = await press(world, shown, "st:*")
        assert cleared == "Topics cleared: you get every story (before: AI, -crypto)."
        assert world.api.keyboard(shown.chat_id, shown.message_id) == []


async def test_topics_minus_a_word_drops_the_stories_mentioning_it(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(READER, "/start")
        [done] = await world.say(READER, "/topics -crypto")
        assert done.visible == "Done: you get every story except those mentioning crypto."
        await world.publish([("a", "Crypto exchange adds an AI assistant"), ("b", "A new open model for chips")])
        [digest] = await world.say(READER, "/digest")
        assert "open model for chips" in digest.visible and "Crypto" not in digest.visible


async def test_in_a_group_only_admins_press_settings(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    api.admins[GROUP] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.say(GROUP, "/start", user_id=ADMIN, chat_type="supergroup")
        [menu] = await world.say(GROUP, "/lang", user_id=MEMBER, chat_type="supergroup")
        refused = await press(world, menu, "sl:it", user_id=MEMBER)
        assert refused == "Only this group's administrators can change its subscription."
        assert (await world.service.subscribers.get(Chat(GROUP))).lang == "en"  # type: ignore[union-attr]
        assert await press(world, menu, "sl:it", user_id=ADMIN) == "Fatto: ora il notiziario arriva in Italiano."
