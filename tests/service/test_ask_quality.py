"""/ask on the QA corpus with the real embedders and the real FTS5 index: recall@3 and MRR of each retriever and of
the fusion (printed), the default's recall@3 >= 0.9, "nothing found" for every question the corpus cannot answer,
date scopes, hostile questions, and the QA model's citations."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from bot.ask.answer import Answer
from bot.digest.render import render_answer
from bot.i18n import texts
from bot.service.ask import Ask
from tests.qa_corpus import ITALIAN, QaWorld, questions
from tests.telegram_html import parse
from tests.tinymodels import TinyModels

pytestmark = pytest.mark.slow


def score(rankings: list[list[int]], answers: list[set[int]]) -> tuple[float, float]:
    """(recall@3: share of questions with a right story in the top 3, MRR over the whole ranking)."""
    hits, reciprocal = 0, 0.0
    for ranking, right in zip(rankings, answers, strict=True):
        hits += any(i in right for i in ranking[:3])
        first = next((n for n, i in enumerate(ranking, start=1) if i in right), None)
        reciprocal += 1 / first if first else 0.0
    return hits / len(rankings), reciprocal / len(rankings)


async def test_retrieval_quality_table(qa: QaWorld, capsys: pytest.CaptureFixture[str]) -> None:
    asked = questions()["answerable"]
    answers = [{qa.ids[a] for a in q["answer"]} for q in asked]
    runs: dict[str, list[list[int]]] = {}
    for embedder in ("e5", "minilm"):
        service = qa.service(embedder)
        try:
            found = [await service.ask.retrieve(q["q"]) for q in asked]
        finally:
            await service.aclose()
        runs[f"{embedder} alone"] = [r.vector for r in found]
        runs["BM25 alone"] = [r.bm25 for r in found]
        runs[f"hybrid {embedder} + BM25"] = [r.story_ids for r in found]
    table = {name: score(rankings, answers) for name, rankings in runs.items()}
    by_kind = {}
    for kind in ("direct", "paraphrase", "cross"):
        picked = [n for n, q in enumerate(asked) if q["kind"] == kind]
        by_kind[kind] = score([runs["hybrid e5 + BM25"][n] for n in picked], [answers[n] for n in picked])[0]
    with capsys.disabled():
        print(
            f"\n{len(asked)} answerable questions ({', '.join(f'{k}: {v:.2f}' for k, v in by_kind.items())} recall@3 by kind, hybrid e5)"
        )
        print(f"{'retriever':32} recall@3   MRR")
        for name, (recall, mrr) in table.items():
            print(f"{name:32} {recall:8.2f} {mrr:6.2f}")
    assert table["hybrid e5 + BM25"][0] >= 0.9  # the default (NEWSBOT_EMBEDDER=e5)
    # No retriever alone beats it by more than one question. Not "none beats it": e5 ranks a few near-ties
    # differently from one machine to another (CPU, numpy build); on one, e5 alone put an answer 3rd that the fusion
    # put 4th (0.96 against 0.94), where on the others the fusion was best.
    assert table["hybrid e5 + BM25"][0] >= max(recall for recall, _ in table.values()) - 1 / len(asked) - 1e-9


async def test_answers_cite_first_and_unanswerable_questions_find_nothing(qa: QaWorld) -> None:
    service = qa.service()
    try:
        for question in ("Chi ha revocato l'accesso alle API di OpenAI?", "Who cut off OpenAI's access to Claude?"):
            answer = await service.ask.answer(question)
            assert answer.found and answer.citations[0].story_id == qa.ids[ITALIAN], question
            assert answer.sentences and all(
                number == 1 or number <= len(answer.citations) for _, number in answer.sentences
            )
        nothing = [q["q"] for q in questions()["unanswerable"] if (await service.ask.answer(q["q"])).found]
        assert nothing == [], nothing
        asked = questions()["answerable"]
        found = sum([(await service.ask.answer(q["q"])).found for q in asked])
        assert found >= 0.9 * len(asked)  # the gate is not "never answer"
    finally:
        await service.aclose()


@pytest.mark.parametrize(
    ("question", "since", "until", "must_include"),
    [
        ("What did Nvidia show this week?", "2026-11-23", "2026-11-30", "e3-de"),
        ("Cosa è successo oggi?", "2026-11-25", "2026-11-26", "it-03"),
        ("Che cosa ha fatto Mistral la settimana scorsa?", "2026-11-16", "2026-11-23", "e5-it"),
        ("Which data center news came in August?", "2026-08-01", "2026-09-01", "e6-en"),
    ],
)
async def test_a_date_scope_restricts_the_candidates(
    qa: QaWorld, question: str, since: str, until: str, must_include: str
) -> None:
    service = qa.service()
    published = {qa.ids[s["id"]]: s["published"][:10] for s in qa.corpus}
    try:
        found = await service.ask.retrieve(question)
    finally:
        await service.aclose()
    assert found.story_ids and all(since <= published[i] < until for i in found.story_ids), question
    assert qa.ids[must_include] in found.story_ids[:3]


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "x" * 5000,
        '"AND (NEAR title:* OR',
        "<script>alert(1)</script> <b>",
        "كيف حال الطقس اليوم في القاهرة؟",
        "🤖🤖🔥🚀",
        "NOT OR AND NEAR",
    ],
)
async def test_hostile_questions_get_an_answer_or_nothing_never_an_error(qa: QaWorld, question: str) -> None:
    service = qa.service()
    try:
        answer = await service.ask.answer(question)
    finally:
        await service.aclose()
    assert isinstance(answer, Answer)
    for block_text in (parse(b)[0] for b in [part for part in _messages(answer)]):
        assert "<script" not in block_text or "&lt;" not in block_text


def _messages(answer: Answer) -> list[str]:
    from bot.digest.render import pack

    return pack(render_answer(answer, texts("en")))


async def test_the_qa_model_writes_from_the_passages_and_cites_only_them(
    qa: QaWorld, tiny_models: TinyModels, tmp_path: Path
) -> None:
    from bot.service import make_service
    from tests.qa_corpus import CorpusEngine
    from tests.test_service import make_settings

    settings = make_settings(qa.path, qa_model=str(tiny_models.summarizer), model_dir=tmp_path)
    service = make_service(
        settings, engine=CorpusEngine(qa.corpus), embedder=qa.embedders["e5"], now=lambda: datetime(2026, 11, 25)
    )
    try:
        retrieved = await service.ask.retrieve("How much money did Helios Labs raise?")
        answer = await service.ask.answer("How much money did Helios Labs raise?")
    finally:
        await service.aclose()
    assert answer.found and answer.generated and answer.sentences
    numbers = {c.number for c in answer.citations}
    assert all(number in numbers for _, number in answer.sentences)
    assert {c.story_id for c in answer.citations} <= set(retrieved.story_ids)
    assert isinstance(service.ask, Ask)


async def test_the_qa_model_runs_on_the_configured_backend_and_an_unconverted_one_quotes_instead(
    qa: QaWorld, tiny_models: TinyModels, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """With ctranslate2, the QA model is its conversion: until `models download` has made it the answer quotes the
    stories (transformers could load the model: that it is not used shows which backend is asked), health lists it,
    and the log says why; once converted, it writes the answer."""
    from dataclasses import replace

    from bot.service import make_service
    from summarizer.convert import convert_model
    from tests.qa_corpus import CorpusEngine
    from tests.test_service import make_settings

    question = "How much money did Helios Labs raise?"
    settings = make_settings(qa.path, qa_model=str(tiny_models.flan_t5), model_dir=tmp_path)
    answers = []
    for convert in (False, True):
        engine = CorpusEngine(qa.corpus)
        engine.config = replace(  # as the app builds it from the settings
            engine.config,
            backend="ctranslate2",
            model_dir=tmp_path / "cache",
            quantize=False,
            qa_model=settings.qa_model,
        )
        if convert:
            assert convert_model(str(tiny_models.flan_t5), engine.config) is not None
        service = make_service(settings, engine=engine, embedder=qa.embedders["e5"], now=lambda: datetime(2026, 11, 25))
        try:
            answers.append(await service.ask.answer(question))
            missing = (await service.health.report()).missing_models
        finally:
            await service.aclose()
        assert (str(tiny_models.flan_t5) in missing) is not convert
    quoted, written = answers
    assert quoted.found and not quoted.generated and quoted.sentences
    assert "cannot write the answer, so it quotes the stories" in caplog.text and "not converted" in caplog.text
    assert written.found and written.generated and written.sentences
    assert {n for _, n in written.sentences} <= {c.number for c in written.citations}
