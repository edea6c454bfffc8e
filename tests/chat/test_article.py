"""📖 under a digest, through the real Application and the fake Bot API: every digest message has one button per story
it holds; the Italian corpus article reaches a German reader whole, through the it→en pivot and the en→de model, and a
second press makes no model call; an Italian reader gets the original; forged, stale and replayed presses change
nothing and are answered once."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from bot.i18n import texts
from bot.render.keyboards import parse_press
from bot.service import Chat
from summarizer.engine import make_engine
from summarizer.types import Article, Enriched, Translation
from tests.chat.harness import BotWorld, running_bot
from tests.chat.test_groups import make_due
from tests.fakebotapi import FakeBotAPI, Sent
from tests.httpserver import FeedServer, Route
from tests.pages import read_italian_article
from tests.service.test_enrichment_retries import rss
from tests.tinymodels import TinyModels


class CountingEngine:
    """The real engine, counting its translate calls (the enrichment's and the article views')."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.config = inner.config
        self.translations: list[tuple[str, str]] = []

    def detect_language(self, text: str, hint: str | None = None) -> Any:
        return self.inner.detect_language(text, hint)

    def process(self, article: Article) -> Enriched:
        return self.process_many([article])[0]

    def process_many(self, articles: Sequence[Article]) -> list[Enriched]:
        return list(self.inner.process_many(articles))

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation:
        self.translations.append((src, tgt))
        return self.inner.translate(texts, src, tgt)  # type: ignore[no-any-return]


def italian_feed(paragraphs: Sequence[str], title: str) -> bytes:
    published = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    item = (
        f"<item><title>{html.escape(title)}</title><link>https://notizie.example/anthropic</link><guid>it1</guid>"
        f"<pubDate>{published}</pubDate><description><![CDATA[{body}]]></description></item>"
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Notizie</title>{item}</channel></rss>'.encode()


def open_buttons(sent: Sent) -> list[dict[str, Any]]:
    rows = (sent.reply_markup or {}).get("inline_keyboard", [])
    return [b for row in rows for b in row if b["text"].startswith("📖")]


async def press(world: BotWorld, chat_id: int, message_id: int, data: str, **kw: Any) -> Any:
    pressed = world.api.press(chat_id, message_id, data, **kw)
    await world.until(lambda: world.api.answered(pressed))
    return pressed


async def digest_of(world: BotWorld, chat_id: int, **user: Any) -> list[Sent]:
    before = len(world.api.messages_to(chat_id))
    world.api.push_text(chat_id, "/digest", **user)
    await world.until(
        lambda: world.service.store.outbox_counts().get("pending", 0) == 0 and world.api.messages_to(chat_id)[before:]
    )
    return world.api.messages_to(chat_id)[before:]


async def test_the_italian_article_for_a_german_and_an_italian_reader(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels
) -> None:
    article = read_italian_article()
    engine = CountingEngine(make_engine(tiny_models.config(languages=("en", "it", "de"))))
    feed_server.routes["/it"] = Route(body=italian_feed(article.body, article.title))
    feeds = [{"url": feed_server.url("/it"), "title": "Notizie", "lang": "it"}]
    async with running_bot(tmp_path, feed_server, engine=engine, feeds=feeds) as world:
        await world.say(40, "/start", language_code="de")
        await world.say(41, "/start", language_code="it")
        await world.service.ingest.poll(force=True)
        await world.service.enrichment.enrich()
        [story] = world.service.store.list_stories()
        assert (
            story.lang == "it"
            and story.text_en
            and len(_lines(story.text)) == len(_lines(story.text_en)) == len(article.body)
        )

        [german_digest] = await digest_of(world, 40)
        [button] = open_buttons(german_digest)
        assert button == {"text": "📖 1", "callback_data": f"a:{story.id}"} and "1. " in german_digest.visible
        engine.translations.clear()
        before = len(world.api.messages_to(40))
        first = await press(world, 40, german_digest.message_id, button["callback_data"])
        assert world.api.answered(first)[0].get("text") == texts("de")("Translating…") != "Translating…"
        parts = await world.until(lambda: _view(world, 40, before), 60)
        assert engine.translations == [("en", "de")]  # from the stored it→en pivot, by the en→de model
        german = "\n".join(p.visible for p in parts)
        stored = world.service.store.db.execute("SELECT title, text FROM article_translations").fetchone()
        assert stored[0] in german and all(line in german for line in _lines(stored[1]))
        assert len(_lines(stored[1])) == len(article.body)
        assert not any(p in german for p in article.paragraphs)  # not the original
        assert (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%d") in german and "Notizie" in german
        [feedback] = [b["text"] for row in parts[-1].reply_markup["inline_keyboard"] for b in row][:1]
        assert feedback == "👍"

        before = len(world.api.messages_to(40))
        second = await press(world, 40, german_digest.message_id, button["callback_data"])
        again = await world.until(lambda: _view(world, 40, before), 60)
        assert world.api.answered(second)[0].get("text") is None  # nothing to wait for: no toast
        assert [p.visible for p in again] == [p.visible for p in parts] and engine.translations == [("en", "de")]

        [italian_digest] = await digest_of(world, 41)
        engine.translations.clear()  # the digest's summary; the article itself needs no model
        before = len(world.api.messages_to(41))
        italian = await press(world, 41, italian_digest.message_id, f"a:{story.id}")
        shown = "\n".join(p.visible for p in await world.until(lambda: _view(world, 41, before), 60))
        assert world.api.answered(italian)[0].get("text") is None and engine.translations == []
        assert article.title in shown and all(block in shown for block in article.body)  # the original, whole


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _view(world: BotWorld, chat_id: int, before: int) -> list[Sent] | None:
    """The article view's messages once its last one (with the feedback keyboard) has come."""
    new = world.api.messages_to(chat_id)[before:]
    return new if new and new[-1].reply_markup else None


async def test_forged_stale_and_replayed_presses_change_nothing_and_are_answered_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(50, "/start")
        await world.say(51, "/start")
        await world.say(53, "/start")
        await world.publish([("a", "OpenAI ships a model"), ("b", "Chips get cheaper")])
        [digest] = await digest_of(world, 50)
        [kept] = await digest_of(world, 53)  # then the bot is blocked there: the subscription is kept, inactive
        sub = await world.service.subscribers.get(Chat(53))
        assert sub is not None
        await world.service.subscribers.deactivate(sub.id, "Forbidden: bot was blocked by the user")
        buttons = open_buttons(digest)
        assert len(buttons) == 2 and {parse_press(b["callback_data"]).kind for b in buttons} == {"open"}  # type: ignore[union-attr]
        other = world.service.store.db.execute("SELECT max(id) FROM stories").fetchone()[0] + 1
        refusal = texts("en")("This button no longer works here.")
        forged = [
            (50, digest.message_id, f"a:{other}"),  # no such story
            (50, digest.message_id, "a:0"),
            (50, digest.message_id, "a:1:+1"),
            (50, digest.message_id, "x" * 64),
            (50, digest.message_id, "s:lang:de"),  # a prefix nobody here handles
            (51, digest.message_id, buttons[0]["callback_data"]),  # chat 51 never got that story
            (52, digest.message_id, buttons[0]["callback_data"]),  # no subscription at all
            (53, kept.message_id, open_buttons(kept)[0]["callback_data"]),  # delivered there, but inactive now
        ]
        before = len(world.api.sent)
        for chat_id, message_id, data in forged:
            pressed = await press(world, chat_id, message_id, data)
            assert [a.get("text") for a in world.api.answered(pressed)] == [refusal], data
        world.service.store.db.execute(
            "DELETE FROM stories WHERE id = ?", [parse_press(buttons[1]["callback_data"]).story_id]
        )  # type: ignore[union-attr]
        world.service.store.db.commit()
        removed = await press(world, 50, digest.message_id, buttons[1]["callback_data"])  # retention took it
        await world.say(50, "/stop")
        stopped = await press(world, 50, digest.message_id, buttons[0]["callback_data"])  # replayed after /stop
        for pressed in (removed, stopped):
            assert [a.get("text") for a in world.api.answered(pressed)] == [refusal]
        assert [m.visible[:16] for m in world.api.sent[before:]] == ["You are unsubscr"]  # no article went out
        assert world.service.store.db.execute("SELECT count(*) FROM article_views").fetchone()[0] == 0


async def test_in_a_group_the_article_goes_private_and_a_channel_links_to_it(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    group, admin, stranger, channel = -1001234, 7, 8, -1005001
    api = FakeBotAPI()
    api.admins[group] = {admin}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.say(group, "/start", user_id=admin, chat_type="supergroup")
        await world.say(admin, "/start", language_code="de")  # the admin has started the bot in private
        api.push_channel_post(channel, "/start")
        await world.until(lambda: api.messages_to(channel))
        await world.publish([("a", "OpenAI ships a model")])
        [story] = world.service.store.list_stories()
        [in_group] = await digest_of(world, group, user_id=admin, chat_type="supergroup")
        [button] = open_buttons(in_group)
        before = len(api.messages_to(admin))
        sent = await press(world, group, in_group.message_id, button["callback_data"], user_id=admin)
        [article] = await world.until(lambda: _view(world, admin, before))
        assert "OpenAI ships a model" in article.visible and not api.messages_to(group)[1:][1:]
        assert world.api.answered(sent)[0]["text"] == texts("de")("I am sending you the article in our private chat.")
        [[vote_up, _], _] = article.reply_markup["inline_keyboard"]
        assert vote_up["callback_data"] == f"v:{story.id}:+1"
        [[viewed_for]] = await world.until(
            lambda: world.service.store.db.execute("SELECT subscription_id FROM article_views").fetchall()
        )
        assert viewed_for == (await world.service.subscribers.get(Chat(group))).id  # type: ignore[union-attr]
        # (its votes count for the group)

        link = f"https://t.me/newsbot_test_bot?start=story_{story.id}"
        away = await press(world, group, in_group.message_id, button["callback_data"], user_id=stranger)
        assert world.api.answered(away)[0]["url"] == link  # no private chat yet: the deep link opens one
        before = len(api.messages_to(stranger))
        api.push_text(stranger, f"/start story_{story.id}", user_id=stranger)
        [welcome, opened] = await world.until(lambda: _view(world, stranger, before))
        assert welcome.visible.startswith("Welcome!") and opened.visible.startswith("OpenAI ships a model")
        [again] = await world.say(stranger, f"/start story_{story.id}")  # subscribed now: only the article
        assert again.visible == opened.visible
        [gone] = await world.say(stranger, "/start story_999999")
        assert gone.visible == "This story is no longer available."

        await make_due(world, Chat(channel))
        [post] = await world.until(lambda: api.messages_to(channel)[1:] or None)
        assert open_buttons(post) == [{"text": "📖 1", "url": link}]  # a channel post has no presser to answer


async def test_votes_under_an_article_and_muting_its_feed(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/wire"] = Route(body=rss([("w1", "Wire story one")]))
    feed_server.routes["/echo"] = Route(body=rss([("e1", "Echo story one")]))
    feeds = [
        {"url": feed_server.url("/wire"), "title": "Wire", "lang": "en"},
        {"url": feed_server.url("/echo"), "title": "Echo", "lang": "en"},
    ]

    async def publish(items: dict[str, list[tuple[str, str]]]) -> None:
        for path, listed in items.items():
            feed_server.routes[path] = Route(body=rss(listed))
        await world.service.ingest.poll(force=True)
        await world.service.enrichment.enrich()

    async with running_bot(tmp_path, feed_server, feeds=feeds) as world:
        await world.say(60, "/start")
        await publish({})
        [digest] = await digest_of(world, 60)
        wire = world.service.store.get_story("https://news.example/w1")
        assert wire is not None
        before = len(world.api.messages_to(60))
        await press(world, 60, digest.message_id, f"a:{wire.id}")
        [view] = await world.until(lambda: _view(world, 60, before))
        await world.until(lambda: world.service.store.db.execute("SELECT count(*) FROM article_views").fetchone()[0])
        assert _labels(world, view) == ["👍", "👎", "🔇 Fewer from this source"]
        opens = await world.until(lambda: world.service.store.db.execute("SELECT story_id FROM story_opens").fetchall())
        assert opens == [(wire.id,)]  # opening it counts as a mild liking

        up = await press(world, 60, view.message_id, f"v:{wire.id}:+1")
        assert world.api.answered(up)[0]["text"] == "Noted: more like this."
        await world.until(lambda: _labels(world, view)[0] == "👍 ✓")
        down = await press(world, 60, view.message_id, f"v:{wire.id}:-1")
        assert world.api.answered(down)[0]["text"] == "Noted: fewer like this."
        await world.until(lambda: _labels(world, view)[:2] == ["👍", "👎 ✓"])
        votes = world.service.store.db.execute("SELECT story_id, user_id, value FROM story_votes").fetchall()
        assert votes == [(wire.id, 60, -1)]  # one vote, the last one
        refusal = "This button no longer works here."
        for chat_id, message_id, data in [
            (60, digest.message_id, f"v:{wire.id}:+1"),  # under the digest, not under an article view
            (60, view.message_id, f"v:{wire.id + 1}:+1"),  # another story than the view's
            (61, view.message_id, f"v:{wire.id}:+1"),  # another chat
            (60, view.message_id, f"m:{wire.id + 1}"),
        ]:
            forged = await press(world, chat_id, message_id, data)
            assert [a.get("text") for a in world.api.answered(forged)] == [refusal], data
        assert world.service.store.db.execute("SELECT value FROM story_votes").fetchall() == [(-1,)]

        muted = await press(world, 60, view.message_id, f"m:{wire.id}")
        assert world.api.answered(muted)[0]["text"] == "Wire is muted here. /sources turns it back on."
        await publish({"/wire": [("w2", "Wire story two")], "/echo": [("e2", "Echo story two")]})
        [after] = await digest_of(world, 60)
        assert "Echo story two" in after.visible and "Wire story two" not in after.visible
        [sources] = await world.say(60, "/sources")
        [toggle] = [b for row in sources.reply_markup["inline_keyboard"] for b in row if "Wire" in b["text"]]
        await press(world, 60, sources.message_id, toggle["callback_data"])
        await publish({"/wire": [("w3", "Wire story three")]})
        [back] = await digest_of(world, 60)
        assert "Wire story three" in back.visible  # on again


def _labels(world: BotWorld, sent: Sent) -> list[str]:
    return [b["text"] for row in world.api.keyboard(sent.chat_id, sent.message_id) for b in row]
