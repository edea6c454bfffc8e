"""An article view's messages: a 12,000-character article splits between paragraphs into valid messages, every
paragraph once and in order; a paragraph longer than a message is cut between sentences, never inside a tag."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from bot.i18n import texts
from bot.render.article import article_messages, pieces
from bot.render.spans import LIMIT, units
from tests.pages import read_italian_article
from tests.telegram_html import check, parse

EN = texts("en")


def test_an_article_of_12000_characters_splits_between_paragraphs() -> None:
    body = read_italian_article().body
    rng = random.Random(3)
    paragraphs: list[str] = []
    while sum(len(p) for p in paragraphs) < 12_000:
        paragraphs.append(rng.choice(body).replace("Claude", "<b>Claude</b> & «R&D»"))
    text = "\n".join(paragraphs)
    assert len(text) >= 12_000
    messages = article_messages(
        title="Anthropic <revoca>",
        text=text,
        link="https://notizie.example/a?x=1&y=2",
        sources=("Notizie", "ANSA"),
        published=datetime(2025, 8, 2, tzinfo=UTC),
        t=EN,
    )
    shown = check(messages)  # each parses as Telegram HTML and fits in 4,096
    assert len(messages) >= 3
    assert shown[0].startswith("Anthropic <revoca>\nNotizie · ANSA · 2025-08-02")
    found = [line for message in shown for line in message.split("\n\n")]
    assert found[1 : 1 + len(paragraphs)] == paragraphs  # every paragraph whole, once, in order
    assert parse(messages[-1])[1] == ["https://notizie.example/a?x=1&y=2"] and found[-1] == "Read it at the source"


def test_a_paragraph_longer_than_a_message_is_cut_between_sentences() -> None:
    sentence = "Anthropic ha interrotto l’accesso di OpenAI ai propri modelli 🤖. "
    paragraph = sentence * 200  # 13,000 characters without a line break
    cut = pieces(paragraph.strip())
    assert len(cut) > 3 and " ".join(cut) == paragraph.strip()
    assert all(units(piece) <= LIMIT - 96 and piece.endswith(".") for piece in cut)
    messages = article_messages(title="T", text=paragraph, link=None, sources=(), published=None, t=EN)
    assert " ".join(s.replace("\n\n", " ") for s in check(messages)).split() == ("T " + paragraph).split()
    words = pieces("x" * 9000)  # no space anywhere: cut at the limit
    assert "".join(words) == "x" * 9000 and all(units(w) <= LIMIT - 96 for w in words)


def test_untranslated_and_teaser_views_say_so() -> None:
    [message] = article_messages(
        title="Titolo",
        text="Testo.",
        link=None,
        sources=("Notizie",),
        published=None,
        t=texts("de"),
        original_lang="it",
        note="no model translates English into 'de'",
        teaser=True,
    )
    visible = parse(message)[0]
    assert "nicht übersetzt, Original auf IT: no model translates English into 'de'" in visible
    assert texts("de")("The feed gives only this teaser; the whole article is at the link.") in visible
