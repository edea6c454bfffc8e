"""A question the stored stories come close to but do not answer: "nothing found", with the close stories by title and
link, never numbered as citations, in the asker's language."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from bot.ask.answer import Answer
from bot.i18n import texts
from bot.render.answer import render_answer
from bot.render.spans import pack
from bot.service import Service, make_service
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


class PivotEngine(CorpusEngine):
    """As CorpusEngine, with the English of questions the corpus does not hold, as a model would give it."""

    def __init__(self, corpus: Sequence[dict[str, object]], pivots: dict[str, str]) -> None:
        super().__init__(corpus)  # type: ignore[arg-type]
        self._pivots.update(pivots)


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


@pytest.mark.parametrize(
    ("question", "answers", "why"),
    [
        # German capitalises every noun: Zalando is told from one only through the English pivot.
        ("In welchen Lagern setzt Zalando humanoide Roboter ein?", None, "lacks zalando"),
        # A count through the pivot: the Mistral stories train specialists but give no number of them.
        ("ミストラルAIとフランス軍の契約では、何人の専門家が育成されますか？", None, "no number of specialists"),
        # ... and the Italian "lingue" meets the Spanish story's "languages" through the pivots.
        ("Quante lingue parlano le audioguide del Museo del Prado?", "es-05", "answers"),
        # A name for the thing asked about: the agency is named, the company it fined is not.
        ("¿Cómo se llama la empresa de selección de personal multada por discriminar a mujeres?", None, "no name for"),
        # A question naming nothing shares none of its words with the closest stories.
        ("Como se faz pão de queijo?", None, "none of its words"),
        # The story is about Telefónica's model, not a lawsuit: leaving "demandaron" out brings it closer.
        ("¿Por qué demandaron a Telefónica por su modelo de lenguaje?", None, "closer without demandaron"),
        # An Italian story lacks "linguistico", which is left out in turn for it; the Spanish story, with no Italian
        # text, lacks every Italian word and is not judged by them.
        ("Chi sono i primi clienti del modello linguistico di Telefónica?", "es-01", "answers"),
    ],
)
async def test_each_part_of_the_judgement_as_the_service_wires_it(
    qa: QaWorld, question: str, answers: str | None, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    await judged_as(qa.service(), question, why, {qa.ids[answers]} if answers else None, caplog)


async def judged_as(
    service: Service, question: str, why: str, right: set[int] | None, caplog: pytest.LogCaptureFixture
) -> None:
    """Ask, and check that some candidate was judged for `why` (the debug log's reason) and that the answer cites
    one of the `right` stories, or finds nothing for None."""
    caplog.set_level("DEBUG", logger="bot.service.ask")
    try:
        answer = await service.ask.answer(question)
    finally:
        await service.aclose()
    reasons = [r.getMessage() for r in caplog.records if r.getMessage().startswith("story ")]
    assert any(why in reason for reason in reasons), reasons
    if right is None:
        assert not answer.found
    else:
        assert answer.found and right & {c.story_id for c in answer.citations}


async def embedding(service: Service, question: str) -> tuple[Answer, list[str]]:
    """The answer, and every text embedded as a question on the way to it."""
    embedder = service.ask.indexing.embedder
    asked: list[str] = []
    queries = embedder.queries

    def spy(texts: Sequence[str], *args: object, **kwargs: object) -> object:
        asked.extend(texts)
        return queries(texts, *args, **kwargs)

    embedder.queries = spy  # type: ignore[method-assign]
    try:
        return await service.ask.answer(question), asked
    finally:
        embedder.queries = queries  # type: ignore[method-assign]
        await service.aclose()


async def test_only_the_words_a_story_lacks_are_left_out_in_turn(qa: QaWorld) -> None:
    """Each word left out costs an embedding: a word every judged story holds is not tried."""
    answer, asked = await embedding(qa.service(), "Why was Amazon fined over its warehouse robots?")
    assert not answer.found
    # The question, the question without Amazon, and it without "fined": the story holds warehouses and robots.
    assert asked == [
        "Why was Amazon fined over its warehouse robots?",
        "Why was fined over its warehouse robots?",
        "Why was over its warehouse robots?",
    ]


@pytest.mark.parametrize(
    ("question", "pivot", "answers", "why"),
    [
        # German capitalises every noun, so Zalando is a name only in the English pivot, which is asked for even
        # though the story holds the name the question gives itself (TU München).
        (
            "Liefert die TU München Roboter an Zalando?",
            "Does TU Munich supply robots to Zalando?",
            None,
            "lacks zalando",
        ),
        # "processore" is in no story: the pivot's "chip" stands beside the name Rubin in the stories' pivots.
        ("Come si chiama il nuovo processore di Nvidia?", "What is the name of Nvidia's new chip?", "e3", "answers"),
    ],
)
async def test_questions_with_names_are_read_through_the_pivot_where_it_matters(
    qa: QaWorld, question: str, pivot: str, answers: str | None, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = PivotEngine(qa.corpus, {question: pivot})
    service = make_service(make_settings(qa.path), engine=engine, embedder=qa.embedders["e5"], now=lambda: NOW)
    right = {qa.ids[f"{answers}-{lang}"] for lang in ("de", "fr", "es")} if answers else None
    await judged_as(service, question, why, right, caplog)


async def test_a_story_in_a_country_s_language_holds_that_country(
    qa: QaWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """The German story about the Bundestag never writes "Germany": it holds it by being German."""
    question = "Quanto tempo têm as plataformas na Alemanha para apagar deepfakes sexuais?"
    engine = PivotEngine(qa.corpus, {question: "How long do platforms in Germany have to delete sexual deepfakes?"})
    service = make_service(make_settings(qa.path), engine=engine, embedder=qa.embedders["e5"], now=lambda: NOW)
    await judged_as(service, question, "answers", {qa.ids["de-05"]}, caplog)


async def test_words_are_left_out_in_turn_only_against_stories_with_a_text_in_their_language(qa: QaWorld) -> None:
    """An Italian question about the Spanish story (with its English pivot): every Italian word is one the story
    lacks, the answer as much as the rest, so none is left out in turn, and the story answers."""
    question = "Chi ha già provato il modello linguistico di Telefónica?"
    engine = PivotEngine(qa.corpus, {question: "Who has already tried Telefónica's language model?"})
    service = make_service(make_settings(qa.path), engine=engine, embedder=qa.embedders["e5"], now=lambda: NOW)
    answer, asked = await embedding(service, question)
    assert asked == [question, "Chi ha già provato il modello linguistico di ?"]
    assert answer.found and qa.ids["es-01"] in {c.story_id for c in answer.citations}
