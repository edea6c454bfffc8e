"""extract_article on a realistic Italian news page (built from the corpus article) and on pages with nothing to keep."""

from __future__ import annotations

import re

import pytest

from bot.feeds.extract import extract_article, needs_extraction
from bot.feeds.types import ParsedEntry
from tests.pages import AD_LABEL, BOILERPLATE, Article, italian_article_page, read_italian_article

URL = "http://127.0.0.1:8000/2025/08/anthropic-revoca-accesso-api-openai.html"


@pytest.fixture(scope="module")
def article() -> Article:
    return read_italian_article()


@pytest.fixture(scope="module")
def extracted(article: Article) -> str:
    text = extract_article(italian_article_page(article).encode("utf-8"), url=URL)
    assert text is not None
    return text


def test_corpus_article_is_read_as_expected(article: Article) -> None:
    assert article.title == "Anthropic revoca l’accesso API a OpenAI prima del lancio di GPT-5"
    assert article.dates == ["3 Agosto 2025 - 10:04", "2 Agosto 2025 - 15:28"]
    assert len(article.headings) == 6 and len(article.paragraphs) == 12


def test_every_body_paragraph_is_extracted_whole(article: Article, extracted: str) -> None:
    paragraphs = extracted.split("\n\n")
    for block in article.body:
        assert block in paragraphs


def test_nearly_every_body_word_is_extracted(article: Article, extracted: str) -> None:
    body_words = re.findall(r"\w+", " ".join(article.body))
    extracted_words = set(re.findall(r"\w+", extracted))
    assert sum(word in extracted_words for word in body_words) / len(body_words) >= 0.98


@pytest.mark.parametrize("boilerplate", BOILERPLATE)
def test_no_boilerplate_is_extracted(extracted: str, boilerplate: str) -> None:
    assert boilerplate not in extracted


def test_nothing_but_the_article_is_extracted(article: Article, extracted: str) -> None:
    assert AD_LABEL not in extracted
    assert "cookie" not in extracted.lower()
    extra = [p for p in extracted.split("\n\n") if p not in article.body]
    assert extra == []


def test_page_in_a_legacy_encoding_is_read_by_its_declared_charset(article: Article) -> None:
    page = italian_article_page(article).replace('<meta charset="utf-8">', '<meta charset="windows-1252">')
    text = extract_article(page.encode("cp1252"), url=URL)
    assert text is not None
    assert article.paragraphs[0] in text  # "è", "’" intact


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b"   ",
        "<html><body></body></html>",
        "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav></body></html>",
        "<html><body><p>Please enable JavaScript to continue.</p></body></html>",
        b"\x00\xff\xfe garbage \x80\x81",
        "<html><body><script>" + "x" * 10_000 + "</script></body></html>",
    ],
)
def test_pages_without_an_article_give_none(page: bytes | str) -> None:
    assert extract_article(page, url=URL) is None


def test_extracted_text_carries_no_markup() -> None:
    body = "<p>" + "Testo dell'articolo con &lt;script&gt;alert(1)&lt;/script&gt; dentro. " * 10 + "</p>"
    page = f"<html><body><article><h1>Titolo</h1>{body}<script>evil()</script></article></body></html>"
    text = extract_article(page, url=URL)
    assert text is not None and "Testo dell'articolo" in text
    assert "<script" not in text and "evil()" not in text


@pytest.mark.parametrize(
    ("is_teaser", "url", "expected"),
    [(True, "https://a.example/1", True), (True, None, False), (False, "https://a.example/1", False)],
)
def test_needs_extraction(is_teaser: bool, url: str | None, expected: bool) -> None:
    entry = ParsedEntry(guid="g", url=url, title="t", text="x", is_teaser=is_teaser)
    assert needs_extraction(entry) is expected
