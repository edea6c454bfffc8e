"""A question the stored stories come close to but do not answer: "nothing found", with the close stories by title and
link, never numbered as citations, in the asker's language."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from bot.i18n import texts
from bot.render.answer import render_answer
from bot.render.spans import pack
from bot.service import make_service
from summarizer.types import Translation
from tests.qa_corpus import NOW, CorpusEngine, QaWorld
from tests.telegram_html import parse
from tests.test_service import make_settings

pytestmark = pytest.mark.slow  # the QA corpus, indexed by the real embedders, is built once per run


class TitleTranslatingEngine(CorpusEngine):
    """As CorpusEngine, and English into another language marked as such, as a model would give it."""

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation:
        if src == "en" and tgt != "en":
            return Translation([f"({tgt}) {text}" for text in texts], model="marker", translated=True)
        return super().translate(texts, src, tgt)


async def test_a_near_miss_lists_the_close_stories_unnumbered(qa: QaWorld) -> None:
    service = qa.service()
    try:
        answer = await service.ask.answer("When did Helios Labs go public?")
        far = await service.ask.answer("How do I change a flat bicycle tyre?")
    finally:
        await service.aclose()
    helios = {qa.ids[i] for i in ("e1-en", "e1-de", "e1-fr")}
    assert not answer.found and answer.citations == [] and answer.sentences == []
    assert answer.closest and {near.story_id for near in answer.closest} <= helios
    [message] = pack(render_answer(answer, texts("en")))
    visible, _ = parse(message)
    assert visible.startswith("I found nothing that answers this. Closest stories:")
    assert not re.search(r"\[\d+\]", visible)  # nothing is cited
    for near in answer.closest:
        assert near.title in visible and f'href="{near.link}"' in message
    # Nothing close: the plain sentence, no list.
    assert not far.found and far.closest == []
    assert parse(pack(render_answer(far, texts("en")))[0])[0] == "I found nothing about that in the stored stories."


async def test_the_near_miss_reply_is_in_the_askers_language(qa: QaWorld) -> None:
    settings = make_settings(qa.path)
    engine = TitleTranslatingEngine(qa.corpus)
    service = make_service(settings, engine=engine, embedder=qa.embedders["e5"], now=lambda: NOW)
    try:
        answer = await service.ask.answer("Quando si quoterà in Borsa Mistral AI?")  # no listing is reported
    finally:
        await service.aclose()
    mistral = {qa.ids[i]: i for i in ("e5-it", "e5-fr", "e5-de")}
    assert not answer.found and answer.lang == "it" and answer.closest
    assert {near.story_id for near in answer.closest} <= set(mistral)
    titles = {s["id"]: s for s in qa.corpus}
    for near in answer.closest:
        story = titles[mistral[near.story_id]]
        # The Italian story's own title; the others' English pivots translated into Italian.
        assert near.title == (story["title"] if story["lang"] == "it" else f"(it) {story['title_en']}")
    [message] = pack(render_answer(answer, texts("it")))
    visible, _ = parse(message)
    assert visible.startswith("Non ho trovato nulla che risponda a questa domanda. Le notizie più vicine:")
    assert not re.search(r"\[\d+\]", visible)
