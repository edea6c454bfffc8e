"""/ask answers as Telegram HTML: each sentence's number names its own source."""

from __future__ import annotations

import re

from bot.ask.answer import Answer, Passage, numbered
from bot.i18n import texts
from bot.render.answer import render_answer
from bot.render.spans import pack
from tests.telegram_html import check, parse

EN = texts("en")


def test_an_answers_sentences_carry_the_numbers_of_their_own_sources() -> None:
    """Quoted sentences from three stories, one of them quoted twice: in the message Telegram shows, the [n] after
    each sentence is the number the sources list gives that sentence's story."""
    titles: dict[int, tuple[str, str | None]] = {
        n: (f"Story number {n}", f"https://news.example/{n}") for n in (10, 20, 30)
    }
    picked = [
        Passage(30, "Thirty grew fast.", 0.9, "en"),
        Passage(10, "Ten shrank.", 0.8, "en"),
        Passage(30, "Thirty hired many.", 0.7, "en"),
        Passage(20, "Twenty sued.", 0.6, "en"),
    ]
    numbers, citations = numbered(picked, titles)
    answer = Answer(True, [(p.text, n) for p, n in zip(picked, numbers, strict=True)], citations)
    [message] = pack(render_answer(answer, EN))
    [shown] = check([message])
    body, _, sources = shown.partition("\n\nSources:\n")
    cited = re.findall(r" ?(.+?) \[(\d+)\]", body)  # (sentence, its number), in order
    listed = dict(re.findall(r"^\[(\d+)\] (.+)$", sources, re.MULTILINE))  # number -> title
    assert list(listed) == ["1", "2", "3"]  # [1] is the first story cited
    assert [(sentence, listed.get(n)) for sentence, n in cited] == [(p.text, titles[p.story_id][0]) for p in picked]
    assert parse(message)[1] == [titles[story][1] for story in (30, 10, 20)]  # each title links to its story
