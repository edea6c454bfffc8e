"""A link, summarized (issue 21): a URL alone in a private chat (or /summarize URL) gets the page's title, summary and
link in the reader's language with a 📖 button that sends the whole text; the page is cached by canonical URL, kept
out of digests and /ask, and a page that cannot be summarized gets one sentence saying why. Driven through the real
Application against the fake Bot API, the pages served by the local HTTP server."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from bot.i18n import texts
from bot.render.page import REFUSALS, page_data
from bot.service.model_work import Priority, TranslateJob
from summarizer.engine import make_engine
from summarizer.types import Translation
from tests.chat.harness import BotWorld, running_bot
from tests.corpora import flores_lines
from tests.httpserver import FeedServer, Route, stall
from tests.pages import italian_article_page, read_italian_article
from tests.tinymodels import TinyModels

HTML = "text/html; charset=utf-8"
GERMAN, ITALIAN, STRANGER = 301, 302, 303


def _page(server: FeedServer, path: str = "/articolo") -> str:
    server.routes[path] = Route(body=italian_article_page(), content_type=HTML)
    return server.url(path)


def _words(text: str) -> str:
    return " ".join(text.split())


async def _pressed(
    world: BotWorld, chat_id: int, message_id: int, data: str, *, sends: bool = True, user_id: int | None = None
) -> tuple[list, list]:
    """Press a button; (its answers, the messages it brought) once it is answered and, when it `sends`, its
    messages have come and the chat is quiet."""
    before = len(world.api.messages_to(chat_id))
    press = world.api.press(chat_id, message_id, data, user_id=user_id)
    await world.until(lambda: world.api.answered(press))
    if sends:
        await world.until(lambda: len(world.api.messages_to(chat_id)) > before, timeout=120)
    await _quiet(world, chat_id)
    return world.api.answered(press), world.api.messages_to(chat_id)[before:]


async def _quiet(world: BotWorld, chat_id: int) -> None:
    """Until no message has arrived in this chat for half a second."""
    import asyncio

    while True:
        count = len(world.api.messages_to(chat_id))
        await asyncio.sleep(0.5)
        if len(world.api.messages_to(chat_id)) == count:
            return


def _count_translations(world: BotWorld) -> list[TranslateJob]:
    """From now on, every translation the bot asks the engine for (the real one still does it)."""
    jobs: list[TranslateJob] = []
    model_work = world.service.model_work
    translate = model_work.translate

    async def spy(job: TranslateJob) -> Translation:
        jobs.append(job)
        return await translate(job)

    model_work.translate = spy  # type: ignore[method-assign]
    return jobs


def _read_button(world: BotWorld, chat_id: int, message_id: int) -> str:
    [[button]] = world.api.keyboard(chat_id, message_id)
    assert button["text"].startswith("📖 ")
    return str(button["callback_data"])


async def test_a_link_is_summarized_in_german_and_opens_whole_through_the_pivot(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels
) -> None:
    engine = make_engine(tiny_models.config(languages=("en", "it", "de")))
    url = _page(feed_server)
    async with running_bot(tmp_path, feed_server, engine=engine) as world:
        await world.say(GERMAN, "/start", language_code="de")
        [summary] = await world.say(GERMAN, url, timeout=120)
        store = world.service.store
        [(page_id, lang, title, title_en, text, text_en)] = store.db.execute(
            "SELECT id, lang, title, title_en, text, text_en FROM pages"
        ).fetchall()
        assert lang == "it" and title == read_italian_article().title
        assert title_en != title and text_en != text  # pivoted into English by the it-en model
        [(de_title, de_summary, model)] = store.db.execute(
            "SELECT title, body, model FROM page_translations WHERE lang = 'de' AND part = 'summary'"
        ).fetchall()
        assert model == str(tiny_models.en_de)
        assert de_title in summary.visible and _words(de_summary) in _words(summary.visible)
        assert url in summary.visible and f'href="{url}"' in summary.text
        assert _read_button(world, GERMAN, summary.message_id) == page_data(page_id)

        calls = _count_translations(world)
        answers, parts = await _pressed(world, GERMAN, summary.message_id, page_data(page_id))
        assert calls and all(job.priority == Priority.INTERACTIVE for job in calls)  # ahead of the backlog
        assert [a.get("text") for a in answers] == [texts("de")("Translating…")]
        [(de_text, text_model)] = store.db.execute(
            "SELECT body, model FROM page_translations WHERE lang = 'de' AND part = 'text'"
        ).fetchall()
        assert text_model == str(tiny_models.en_de)
        shown = _words(" ".join(p.visible for p in parts))
        paragraphs = [p for p in de_text.split("\n\n") if p.strip()]
        assert len(paragraphs) >= 10 and all(_words(p) in shown for p in paragraphs)
        assert parts and all(len(p.visible.encode("utf-16-le")) // 2 <= 4096 for p in parts)

        calls.clear()
        again, parts_again = await _pressed(world, GERMAN, summary.message_id, page_data(page_id))
        assert calls == []
        assert [a.get("text") for a in again] == [None]  # cached: no "translating…", no model call
        assert [p.visible for p in parts_again] == [p.visible for p in parts]
        assert store.db.execute("SELECT count(*) FROM page_translations").fetchone()[0] == 2

        # An Italian reader sends the same page under another form of its URL: the cache answers, and 📖 gives the
        # original text.
        await world.say(ITALIAN, "/start", language_code="it")
        variant = url.replace("/articolo", "/articolo/") + "?utm_source=telegram"
        feed_server.routes["/articolo/"] = feed_server.routes["/articolo"]
        [italian] = await world.say(ITALIAN, f"/summarize {variant}", timeout=120)
        assert len(feed_server.requests("/articolo")) == 1 and not feed_server.requests("/articolo/")
        _, originals = await _pressed(world, ITALIAN, italian.message_id, page_data(page_id))
        shown = _words(" ".join(p.visible for p in originals))
        assert all(_words(p) in shown for p in read_italian_article().paragraphs)


async def test_refusals_each_one_sentence(tmp_path: Path, feed_server: FeedServer) -> None:
    """With private addresses off (the default): file:// and the local server's pages are refused."""
    t = texts("en")
    url = _page(feed_server)
    async with running_bot(tmp_path, feed_server, allow_private_urls=False) as world:
        await world.say(310, "/start")
        [local] = await world.say(310, url)
        assert local.visible == t(REFUSALS["private"])
        [named] = await world.say(310, "/summarize http://localhost:9/article")
        assert named.visible == t(REFUSALS["private"])
        [file] = await world.say(310, "/summarize file:///etc/passwd")
        assert file.visible == t(REFUSALS["not_web"])
        [usage] = await world.say(310, "/summarize")
        assert usage.visible == t("Usage: /summarize URL, e.g. /summarize https://example.com/news/story")
        assert not feed_server.requests("/articolo")


async def test_pages_that_cannot_be_summarized_say_why(tmp_path: Path, feed_server: FeedServer) -> None:
    t = texts("it")
    feed_server.routes["/empty"] = Route(
        body="<html><body><nav><a href='/'>Home</a></nav></body></html>", content_type=HTML
    )
    feed_server.routes["/pdf"] = Route(body=b"%PDF-1.4 ...", content_type="application/pdf")
    feed_server.routes["/slow"] = stall(30)
    feed_server.routes["/huge"] = Route(
        body="<html><body>" + "<p>parola</p>" * 20_000 + "</body></html>", content_type=HTML
    )
    lines = flores_lines("it", 700)  # about 90,000 characters: under the size cap, but a book, not an article
    paragraphs = "".join(f"<p>{escape(' '.join(lines[i : i + 10]))}</p>" for i in range(0, len(lines), 10))
    feed_server.routes["/book"] = Route(
        body=f"<html><body><article>{paragraphs}</article></body></html>", content_type=HTML
    )
    async with running_bot(tmp_path, feed_server, fetch_timeout=1.0, max_feed_bytes=150_000) as world:
        await world.say(320, "/start", language_code="it")
        for path, kind in [
            ("/missing", "not_found"), ("/empty", "no_text"), ("/pdf", "not_html"), ("/slow", "timeout"),
            ("/huge", "too_big"), ("/book", "too_big"),
        ]:  # fmt: skip
            [said] = await world.say(320, feed_server.url(path))
            assert said.visible == t(REFUSALS[kind]) != texts("en")(REFUSALS[kind]), path
        assert world.service.store.db.execute("SELECT count(*) FROM pages").fetchone()[0] == 0


async def test_a_summarized_page_is_in_no_digest_and_no_answer(tmp_path: Path, feed_server: FeedServer) -> None:
    url = _page(feed_server)
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(330, "/start")
        await world.publish([("a", "Nvidia reports record data center revenue")])
        [summary] = await world.say(330, url)
        assert "Anthropic" in summary.visible
        await world.service.indexing.index()
        [digest] = await world.say(330, "/digest")
        assert "Nvidia" in digest.visible and "Anthropic" not in digest.visible
        [answer] = await world.say(330, "/ask Why did Anthropic revoke OpenAI's API access?")
        assert "Anthropic" not in answer.visible and url not in answer.text
        assert world.service.store.db.execute("SELECT count(*) FROM stories").fetchone()[0] == 1
        # A message with a link and more words is still a question, not a page.
        [question] = await world.say(330, f"What does {url} say?")
        assert not world.api.keyboard(330, question.message_id) and question.visible.startswith("I found nothing")


async def test_forged_stale_and_foreign_presses_change_nothing_and_are_answered_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = _page(feed_server)
    refused = texts("en")("This page is no longer available here: send its link again.")
    async with running_bot(tmp_path, feed_server) as world:
        await world.say(340, "/start")
        [summary] = await world.say(340, url)
        page_id = int(re.sub(r"\D", "", _read_button(world, 340, summary.message_id)))
        await world.say(STRANGER, "/start")
        for chat_id, data in [
            (STRANGER, page_data(page_id)),  # another chat's page
            (340, page_data(page_id + 1)),  # no such page
            (340, "p:abc"),
            (340, "p:" + "9" * 40),
            (340, "p:-1"),
        ]:
            answers, sent = await _pressed(world, chat_id, summary.message_id, data, sends=False)
            assert [a.get("text") for a in answers] == [refused] and not sent, data
        answers, sent = await _pressed(world, 340, summary.message_id, page_data(page_id))
        assert [a.get("text") for a in answers] == [None] and sent  # an English page for an English reader


async def test_links_count_against_fair_use(tmp_path: Path, feed_server: FeedServer) -> None:
    url = _page(feed_server)
    async with running_bot(tmp_path, feed_server, user_limit="2/minute") as world:
        await world.say(350, "/start")
        first = await world.say(350, url)
        second = await world.say(350, f"/summarize {url}")
        [third] = await world.say(350, url)
        assert all(world.api.keyboard(350, m.message_id) for m in first + second)
        assert "please try again in" in third.visible and not world.api.keyboard(350, third.message_id)


async def test_without_models_a_page_comes_in_its_own_language_said_to_be_so(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = _page(feed_server)
    async with running_bot(tmp_path, feed_server, backend="transformers", model_dir=tmp_path / "empty") as world:
        await world.say(360, "/start", language_code="de")
        sub = await world.service.subscribers.get(_chat(360))
        assert sub is not None and sub.lang != "it"
        t = texts(sub.lang)
        note = t("Not translated (original in {lang}): no model here translates it into your language.", lang="IT")
        [summary] = await world.say(360, url)
        assert summary.visible.startswith(read_italian_article().title) and summary.visible.endswith(note)
        _, parts = await _pressed(world, 360, summary.message_id, _read_button(world, 360, summary.message_id))
        shown = _words(" ".join(p.visible for p in parts))
        assert note in shown and all(_words(p) in shown for p in read_italian_article().paragraphs)


def _chat(chat_id: int):  # type: ignore[no-untyped-def]
    from bot.service import Chat

    return Chat(chat_id)


async def test_in_a_group_summarize_works_and_a_bare_link_is_left_alone(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url, group = _page(feed_server), -1000777
    async with running_bot(tmp_path, feed_server) as world:
        [summary] = await world.say(group, f"/summarize@newsbot_test_bot {url}", chat_type="supergroup", user_id=5)
        assert summary.visible.startswith(read_italian_article().title)
        data = _read_button(world, group, summary.message_id)
        _, parts = await _pressed(world, group, summary.message_id, data, user_id=6)  # another member presses
        assert all(_words(p) in _words(" ".join(m.visible for m in parts)) for p in read_italian_article().paragraphs)
        world.api.push_text(group, url, chat_type="supergroup", user_id=5)  # group chatter, not a request
        await _quiet(world, group)
        assert len(world.api.messages_to(group)) == 1 + len(parts)
        assert len(feed_server.requests("/articolo")) == 1
