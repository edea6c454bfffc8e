"""/ask's citation numbers: the QA model's own [n] are kept only when they name a listed source."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.digest.render import pack, render_answer
from bot.i18n import texts
from bot.service import make_service
from tests.qa_corpus import NOW, CorpusEngine, QaWorld
from tests.telegram_html import parse
from tests.test_service import make_settings

HELIOS = "How much money did Helios Labs raise?"


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
            f"Helios Labs raised a large round [{beyond}]. "
            f"Investors led it [{beyond}] [{last}]. "
            f"The company plans to hire [{last}]."
        ]


@pytest.mark.slow  # the QA corpus, indexed by the real embedders, is built once per run
async def test_a_citation_the_qa_model_invents_is_dropped(qa: QaWorld, tmp_path: Path) -> None:
    settings = make_settings(qa.path, qa_model="stub-answer-model", model_dir=tmp_path)
    service = make_service(settings, engine=CorpusEngine(qa.corpus), embedder=qa.embedders["e5"], now=lambda: NOW)
    model = AnswerModelCitingTooFar()
    service.ask._qa_model = model  # what _load_qa_model hands out once it has loaded a model
    try:
        answer = await service.ask.answer(HELIOS)
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
