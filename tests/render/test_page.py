"""A summarized page as Telegram HTML: its whole text in messages of at most 4,096 characters, split between
paragraphs and, for a paragraph longer than a message, between words, with nothing lost; the 📖 button's data parsed
strictly."""

from __future__ import annotations

import pytest

from bot.i18n import texts
from bot.render.page import page_data, page_summary, page_text, parse_page_data, pieces
from bot.render.spans import pack
from bot.service.links import PageView
from tests.pages import read_italian_article
from tests.telegram_html import check

EN = texts("en")


def _words(text: str) -> list[str]:
    return text.split()


def test_a_long_page_splits_between_paragraphs_and_words_and_keeps_every_word() -> None:
    paragraphs = read_italian_article().paragraphs
    one_long = " ".join(paragraphs)  # a page whose extractor found no paragraph breaks: one block of 4,000+
    longest = " ".join([one_long] * 4)
    body = "\n\n".join([*paragraphs, longest])
    assert len(longest) > 12_000
    view = PageView(7, "Un <titolo> & più", body, "https://news.example/it?a=1&b=2", "it")
    messages = pack(page_text(view, EN))
    shown = check(messages)  # each message parses and is at most 4,096 after parsing
    assert len(messages) >= 4
    assert _words(" ".join(shown)) == _words(f"{view.title} {view.link} {body}")
    for paragraph in paragraphs:  # a paragraph that fits a message is never cut
        assert any(paragraph in message for message in shown)


def test_pieces_cut_a_word_only_when_it_is_longer_than_a_piece() -> None:
    assert pieces("") == [] and pieces("short one") == ["short one"]
    assert pieces("aaaa bbbb cc", limit=9) == ["aaaa bbbb", "cc"]
    assert pieces("x" * 20 + " tail", limit=8) == ["x" * 8, "x" * 8, "xxxx", "tail"]
    assert all(len(p) <= 8 for p in pieces("😀" * 10, limit=8))  # UTF-16 units: 4 emoji a piece


def test_summary_links_title_and_says_when_it_is_untranslated() -> None:
    view = PageView(3, "Titolo", "Riassunto.", "https://news.example/a", "it", translated=False, note="extractive")
    [message] = pack(page_summary(view, EN))
    [shown] = check([message])
    assert shown.startswith("Titolo\nRiassunto.\n\nhttps://news.example/a\n\nNot translated (original in IT)")
    assert message.count('href="https://news.example/a"') == 2  # the title and the link itself


@pytest.mark.parametrize("data", ["p:1x", "p:0", "p:-3", "p:", "a:5", "p:" + "9" * 19, " p:5", "p:5 ", None])
def test_forged_page_data_names_no_page(data: str | None) -> None:
    assert parse_page_data(data) is None


def test_page_data_round_trips_within_telegrams_64_bytes() -> None:
    biggest = 10**18 - 1
    assert parse_page_data(page_data(42)) == 42 and parse_page_data(page_data(biggest)) == biggest
    assert len(page_data(biggest).encode()) <= 64
