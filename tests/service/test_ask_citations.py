"""/ask's citation numbers: every number an answer shows names a listed source, and the source it names is the
story its sentence came from; the QA model's own [n] are kept only when they name a listed source."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.ask.answer import Passage, numbered
from bot.i18n import texts
from bot.render.answer import render_answer
from bot.render.spans import pack
from bot.service import make_service
from tests.qa_corpus import NOW, CorpusEngine, QaWorld
from tests.telegram_html import parse
from tests.test_service import make_settings

RUBIN = "What is Nvidia's new Rubin chip?"  # told by feeds in three languages: answered from two


def test_each_quoted_sentence_is_numbered_for_its_own_story() -> None:
    """[1] is the first story cited, each story keeps one number however many of its sentences are quoted."""
    picked = [
        Passage(30, "Thirty grew.", 0.9, "en"),
        Passage(10, "Ten shrank.", 0.8, "en"),
        Passage(30, "Thirty hired.", 0.7, "en"),
        Passage(20, "Twenty sued.", 0.6, "en"),
    ]
    titles: dict[int, tuple[str, str | None]] = {n: (f"Story {n}", f"https://news.example/{n}") for n in (10, 20, 30)}
    numbers, citations = numbered(picked, titles)
    assert [(c.number, c.story_id, c.title) for c in citations] == [
        (1, 30, "Story 30"),
        (2, 10, "Story 10"),
        (3, 20, "Story 20"),
    ]
    story_of = {c.number: c.story_id for c in citations}
    assert [story_of.get(n) for n in numbers] == [p.story_id for p in picked]


@pytest.mark.slow  # the QA corpus, indexed by the real embedders, is built once per run
@pytest.mark.parametrize(
    "question",
    [
        RUBIN,
        "Which lab can predict the weather fifteen days ahead?",
        "Wie lange braucht das Wettermodell von Google DeepMind für eine Vorhersage?",
    ],
)
async def test_a_quoted_sentences_number_names_the_story_it_is_quoted_from(qa: QaWorld, question: str) -> None:
    """Events told by several feeds in several languages: each quoted sentence is in exactly one cited story."""
    service = qa.service()
    try:
        answer = await service.ask.answer(question)
        told = {}
        for citation in answer.citations:
            story = await service.stories.get(citation.story_id)
            assert story is not None
            told[citation.number] = story.text
    finally:
        await service.aclose()
    assert answer.found and not answer.generated
    assert len(told) > 1, "the test needs an answer from several sources"
    assert sorted(told) == list(range(1, len(told) + 1))
    for sentence, number in answer.sentences:
        holding = [n for n, text in told.items() if sentence in text]
        assert holding == [number], f"{sentence!r} is marked [{number}] but is quoted from {holding}"


class AnswerModelCitingTooFar:
    """The two methods Ask._written calls on NEWSBOT_QA_MODEL. Its answer cites the last source the prompt lists, and
    a number past every listed one: alone in the first sentence, before a listed one in the second."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def count_one(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompts: Sequence[str], **options: object) -> list[str]:
        [prompt] = prompts
        self.prompts.append(prompt)
        last = max(int(n) for n in re.findall(r"\[(\d+)\]", prompt))
        beyond = last + 5
        return [
            f"Nvidia showed a new chip [{beyond}]. "
            f"It trains models twice as fast [{beyond}] [{last}]. "
            f"Cloud providers get it first [{last}]."
        ]


@pytest.mark.slow  # the QA corpus, indexed by the real embedders, is built once per run
async def test_a_citation_the_qa_model_invents_is_dropped(qa: QaWorld, tmp_path: Path) -> None:
    settings = make_settings(qa.path, qa_model="stub-answer-model", model_dir=tmp_path)
    service = make_service(settings, engine=CorpusEngine(qa.corpus), embedder=qa.embedders["e5"], now=lambda: NOW)
    model = AnswerModelCitingTooFar()
    service.ask._qa_model = model  # what _load_qa_model hands out once it has loaded a model
    try:
        answer = await service.ask.answer(RUBIN)
    finally:
        await service.aclose()
    assert answer.found and answer.generated and model.prompts
    listed = [c.number for c in answer.citations]
    last = max(int(n) for n in re.findall(r"\[(\d+)\]", model.prompts[0]))
    assert last in listed and last > 1, "the test needs an answer from two sources or more"
    numbers = [number for _, number in answer.sentences]
    assert all(number in listed for number in numbers), (numbers, listed)
    # The sentence citing only the invented number is the best passage's; the one citing both keeps the listed one.
    assert numbers == [1, last, last]
    assert all("[" not in text for text, _ in answer.sentences)
    [message] = pack(render_answer(answer, texts("en")))
    shown = {int(n) for n in re.findall(r"\[(\d+)\]", parse(message)[0])}
    assert shown == set(listed) and last + 5 not in shown
