"""Subscriber journeys through the real Application and the fake Bot API: /start, /lang, /digest, hostile feed
text, schedules, an empty model directory."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.chat.commands import help_text, menu
from bot.digest.compose import short_summary
from bot.i18n import texts
from bot.render.settings import language_name
from bot.store.base import iso
from summarizer.engine import make_engine
from tests.chat.harness import running_bot
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss
from tests.telegram_html import parse
from tests.tinymodels import TinyModels


async def test_start_welcomes_in_the_guessed_language_and_registers_the_menu(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        [welcome] = await world.say(10, "/start", language_code="it-IT")
        assert "Benvenuto" in welcome.visible and "/lang" in welcome.visible
        sub = await world.service.subscribers.get(_chat(10))
        assert sub is not None and sub.lang == "it"
        default, *by_language = world.api.calls_of("setMyCommands")
        assert "language_code" not in default.params  # English for every client language without its own
        assert [c["command"] for c in default.params["commands"]][:3] == ["start", "digest", "lang"]
        assert [call.params["language_code"] for call in by_language] == ["en", "it", "de"]  # each offered one
        for call in by_language:
            t = texts(call.params["language_code"])
            assert [(c["command"], c["description"]) for c in call.params["commands"]] == menu(t)
        assert by_language[1].params["commands"][0]["description"] != default.params["commands"][0]["description"]
        [english] = await world.say(11, "/start", language_code="pt-BR")  # not offered: English
        assert english.visible.startswith("Welcome!")
        [nothing] = await world.say(11, "what is new with OpenAI?")  # a question: nothing is stored yet
        assert nothing.visible == "I found nothing about that in the stored stories."
        [unknown] = await world.say(11, "/frobnicate now")
        assert "/frobnicate" in unknown.visible and "/help" in unknown.visible
        [malformed] = await world.say(11, "/schedule 25:99 Nowhere/City")
        assert "Example: /schedule 07:30,18:00 Europe/Rome" in malformed.visible
        [other_bot] = await world.say(11, "/help@newsbot_test_bot")
        assert "/schedule" in other_bot.visible
        before = len(world.api.sent)
        world.api.push_text(11, "/help@some_other_bot")
        world.api.push_text(11, "/frob@some_other_bot")
        await world.say(11, "/stop")
        await asyncio.sleep(0.5)  # replies to 11 are paced 50 ms apart: any answer to the others would be here
        assert [m.visible[:16] for m in world.api.sent[before:]] == ["You are unsubscr"]  # not theirs to answer


async def test_after_lang_it_help_confirmations_and_nothing_new_come_from_the_italian_catalog(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    it = texts("it")
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(12, "/start")  # an English client
        [done] = await world.say(12, "/lang it")
        assert done.visible == it("Done: your digests now come in {name}.", name=language_name("it"))
        [helped] = await world.say(12, "/help")
        assert helped.visible == help_text(it)
        [nothing] = await world.say(12, "/digest")
        assert nothing.visible == it("Nothing new since your last digest.") != "Nothing new since your last digest."
        assert helped.visible != help_text(texts("en")) and done.visible.startswith("Fatto")


async def test_lang_it_then_digest_carries_the_it_translations(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels
) -> None:
    engine = make_engine(tiny_models.config(languages=("en", "it", "de")))
    async with running_bot(tmp_path, feed_server, engine=engine) as world:
        await world.say(20, "/start", language_code="en")
        [done] = await world.say(20, "/lang it")
        assert "Italiano" in done.visible
        await world.publish([("a", "OpenAI ships a model"), ("b", "Chips get cheaper")])
        parts = await world.say(20, "/digest")
        text = "\n".join(p.visible for p in parts)
        rows = world.service.store.db.execute(
            "SELECT t.title, t.summary, t.model FROM story_translations t WHERE t.lang = 'it'"
        ).fetchall()
        assert len(rows) == 2 and {model for *_, model in rows} == {str(tiny_models.en_it)}
        for title, summary, _ in rows:
            assert title in text and short_summary(summary, "it") in text


async def test_digest_of_thirty_stories_and_hostile_feed_text(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server, digest_max_stories=50) as world:
        await world.say(30, "/start")
        items = [(f"s{i}", f"Story {i:02d} " + "with a title long enough to need two messages " * 3) for i in range(28)]
        hostile = (
            "<item><title>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;</title>"
            "<link>javascript:alert(1)</link><guid>h</guid><description>"
            + "Plain words here. "
            * 150
            + "</description></item>"
            '<item><title>Quotes "everywhere" &amp; more</title><link>https://news.example/q" onclick="alert(1)</link>'
            "<guid>q</guid><description>A link with quotes in it.</description></item>"
        )
        body = rss(items).replace(b"</channel>", hostile.encode() + b"</channel>")
        await world.publish([], body=body)
        assert world.service.store.count_stories() == 30
        world.api.push_text(30, "/digest")
        await world.until(lambda: world.service.store.outbox_counts() == {"sent": len(world.api.messages_to(30)) - 1})
        parts = world.api.messages_to(30)[1:]
        assert len(parts) > 1
        for part in parts:
            visible, links = parse(part.text)  # the fake Telegram accepted it, and so does our own reading
            assert len(visible.encode("utf-16-le")) // 2 <= 4096
            assert all(link.startswith("https://news.example/") and '"' not in link for link in links)
        everything = "\n".join(p.visible for p in parts)
        for guid, title in items:
            assert everything.count(title.strip() + "\n") == 1, guid  # the title line; the summary repeats the title
        markup = "".join(p.text for p in parts)
        # Ingest already turned the markup into its text; what is left is escaped, and no bad link is an href.
        assert "alert(1) &amp;" in markup and 'Quotes "everywhere" &amp; more' in markup
        assert "<script" not in markup and "javascript:" not in markup and "onclick" not in markup


async def test_scheduled_digest_goes_out_through_the_job_queue(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(40, "/start")
        [done] = await world.say(40, "/schedule 07:30 Europe/Rome")
        assert "Europe/Rome" in done.visible
        await world.publish([("a", "Morning news")])
        sub = await world.service.subscribers.get(_chat(40))
        assert sub is not None
        past = iso(datetime.now(UTC) - timedelta(minutes=1))
        await world.service.ctx.db(
            world.service.store.update_subscription, sub.id, datetime.now(UTC), next_digest_at=past
        )
        [scheduled] = await world.until(lambda: world.api.messages_to(40)[2:] or None)
        assert "Morning news" in scheduled.visible
        sub = await world.service.subscribers.get(_chat(40))
        assert sub is not None and sub.next_digest_at is not None and sub.next_digest_at > past
        [nothing] = await world.say(40, "/digest")
        assert "Nothing new" in nothing.visible


async def test_schedule_07_30_rome_fires_at_07_30_local_on_both_sides_of_dst(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The real JobQueue's digest rounds on an injected clock: the service decides what is due, by that clock."""
    clock = [datetime(2026, 3, 27, 20, 0, tzinfo=UTC)]  # Friday evening; clocks go forward on Sunday 29 March
    async with running_bot(tmp_path, feed_server, now=lambda: clock[0]) as world:
        await world.say(60, "/start")
        [done] = await world.say(60, "/schedule 07:30 Europe/Rome")
        assert "2026-03-28 07:30" in done.visible  # the next one, in local time
        arrivals = []
        for day, slot in enumerate(["2026-03-28T06:30", "2026-03-29T05:30", "2026-03-30T05:30"]):
            await world.publish([(f"d{d}", f"News of day {d}") for d in range(day + 1)])
            clock[0] = datetime.fromisoformat(slot + ":00+00:00") - timedelta(minutes=1)
            await asyncio.sleep(0.6)  # three rounds before the slot: nothing is due yet
            before = len(world.api.messages_to(60))
            clock[0] += timedelta(minutes=2)
            [digest] = await world.until(lambda before=before: world.api.messages_to(60)[before:] or None)
            assert f"News of day {day}" in digest.visible
            arrivals.append(clock[0])
        keys = sorted(k.split(":", 1)[1].rsplit(":", 1)[0] for k in world.service.store.outbox_states())
        assert keys == [
            "slot:2026-03-28T06:30:00+00:00",
            "slot:2026-03-29T05:30:00+00:00",
            "slot:2026-03-30T05:30:00+00:00",
        ]


async def test_a_story_summarized_late_reaches_the_next_digest(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(70, "/start")
        await world.publish([("a", "Quick story")])
        world.server.routes["/feed"] = Route(body=rss([("a", "Quick story"), ("b", "Slow story")]))
        await world.service.ingest.poll(force=True)  # stored, not summarized yet
        [first] = await world.say(70, "/digest")
        assert "Quick story" in first.visible and "Slow story" not in first.visible
        await world.service.enrichment.enrich()
        [second] = await world.say(70, "/digest")
        assert "Slow story" in second.visible and "Quick story\n" not in second.visible


async def test_with_an_empty_model_directory_a_digest_still_arrives(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server, backend="transformers", model_dir=tmp_path / "empty") as world:
        await world.say(50, "/start", language_code="de")
        await world.publish([("a", "Un modello nuovo")])
        [digest] = await world.say(50, "/digest")
        assert "Un modello nuovo is the news." in digest.visible


def _chat(chat_id: int):  # type: ignore[no-untyped-def]
    from bot.service import Chat

    return Chat(chat_id)


async def test_ask_in_telegram_with_citations(tmp_path: Path, feed_server: FeedServer) -> None:
    async with running_bot(tmp_path, feed_server) as world:
        await world.publish(
            [("a", "Nvidia reports record data center revenue"), ("b", "Mistral releases an open model")]
        )
        await world.service.indexing.index()
        [answer] = await world.say(80, "/ask Which company reported record data center revenue?")
        assert "[1]" in answer.visible and "Sources:" in answer.visible
        assert 'href="https://news.example/a"' in answer.text
        [plain] = await world.say(80, "Who released an open model?")  # a plain message is a question
        assert "Mistral" in plain.visible
        [empty] = await world.say(80, "/ask")
        assert "/ask What did OpenAI release this week?" in empty.visible
        [nothing] = await world.say(80, "/ask How tall is the Zugspitze?")
        assert nothing.visible == "I found nothing about that in the stored stories."
