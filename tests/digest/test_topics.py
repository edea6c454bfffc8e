"""Topic filters: whole words and phrases, any case, no regular expressions."""

from __future__ import annotations

import pytest

from bot.digest.topics import TopicsError, matches, mentions, parse_topics


def test_parse_trims_and_dedupes() -> None:
    assert parse_topics(" OpenAI ,  open   source, openai,, ") == ("OpenAI", "open source")
    assert parse_topics("") == () and parse_topics(" , ") == ()
    assert parse_topics("AI, - crypto ,-Crypto, -web 3") == ("AI", "-crypto", "-web 3")  # "-": excluded


@pytest.mark.parametrize("text", ["x" * 61, "!!!", "-", "- !", ", ".join(f"t{i}" for i in range(21))])
def test_parse_refuses_what_it_cannot_use(text: str) -> None:
    with pytest.raises(TopicsError):
        parse_topics(text)


@pytest.mark.parametrize(
    ("topics", "text", "expected"),
    [
        ((), "anything", True),
        (("openai",), "OpenAI ships a model", True),
        (("open",), "OpenAI ships a model", False),  # a word, not a prefix
        (("open source",), "Meta goes Open-Source today", True),
        (("source open",), "Meta goes open source", False),
        (("ÉTÉ",), "un été chaud", True),
        (("GPU", "chips"), "Nvidia sells chips", True),
        (("人工智能",), "中国人工智能公司发布新模型", True),
        (("(a+)+$",), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", False),  # a regex is just words here
        (('"AND (NEAR',), "and near", True),
        (("-crypto",), "Crypto exchange hacked", False),  # excluded, whatever the case
        (("-crypto",), "A cryptographic proof", True),  # a word, not a prefix
        (("AI", "-crypto"), "AI for crypto trading", False),  # an exclusion wins over a topic
        (("AI", "-crypto"), "AI ships a model", True),
        (("AI", "-crypto"), "A robot ships", False),  # still needs a topic
        (("-open source",), "Meta goes open-source", False),
        (("-(a+)+$",), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", True),
    ],
)
def test_matches(topics: tuple[str, ...], text: str, expected: bool) -> None:
    assert matches(topics, [text]) is expected


def test_mentions_counts_watchlist_names_by_any_spelling() -> None:
    watchlist = [("OpenAI",), ("Mistral AI", "Mistral"), ("Anthropic",)]
    assert mentions(watchlist, ["Mistral ships a model", "openai answers"]) == 2
    assert mentions(watchlist, ["Mistralian winds"]) == 0
