"""/ask on the QA corpus with the real embedders and the real FTS5 index: on the test half of the questions, recall@3
and MRR of each retriever, of the fusion and of /ask's answers with the answerability check, and how well "nothing
found" tells the questions the corpus cannot answer (printed); date scopes, hostile questions, the QA model's
citations."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.ask.answer import Answer
from bot.i18n import texts
from bot.render.answer import render_answer
from bot.service.ask import Ask
from tests.qa_corpus import ITALIAN, QaWorld, questions
from tests.telegram_html import parse
from tests.tinymodels import TinyModels

pytestmark = pytest.mark.slow

# "Nothing found" before the answerability check: a single cosine gate on the best story (e5), fitted to the first
# 9 unanswerable questions. Kept here as the baseline the check is measured against.
OLD_GATE = 0.805


@dataclass
class Asked:
    question: dict[str, Any]
    cross: bool  # asked in a language no answering story is written in
    right: set[int]
    runs: dict[str, list[int]]  # retriever -> its answer: the stories it would cite, best first ([] = nothing found)


def score(asked: list[Asked], run: str) -> tuple[float, float]:
    """(recall@3: share of questions with a right story among the first 3 cited, MRR over what is cited); a question
    answered "nothing found" is a miss."""
    hits, reciprocal = 0, 0.0
    for a in asked:
        ranking = a.runs[run]
        hits += any(i in a.right for i in ranking[:3])
        first = next((n for n, i in enumerate(ranking, start=1) if i in a.right), None)
        reciprocal += 1 / first if first else 0.0
    return hits / max(len(asked), 1), reciprocal / max(len(asked), 1)


def nothing_found(answerable: list[Asked], unanswerable: list[Asked], run: str) -> tuple[float, float]:
    """ "Nothing found" as a verdict on the unanswerable questions: (precision, recall)."""
    said = [a for a in answerable + unanswerable if not a.runs[run]]
    right = [a for a in said if a in unanswerable]
    return len(right) / max(len(said), 1), len(right) / max(len(unanswerable), 1)


RUNS = ("e5 alone", "BM25 alone", "hybrid e5 + BM25", "hybrid + answerability check")


@pytest.fixture(scope="module")
def test_half(qa: QaWorld) -> tuple[list[Asked], list[Asked]]:
    """Every question of the test half asked: each retriever's ranking with the old gate, and /ask's own answer."""
    langs = {s["id"]: s["lang"] for s in qa.corpus}

    async def ask_all() -> tuple[list[Asked], list[Asked]]:
        service = qa.service()
        try:
            out: dict[str, list[Asked]] = {"answerable": [], "unanswerable": []}
            for group, asked in questions().items():
                for q in (q for q in asked if q["split"] == "test"):
                    found = await service.ask.retrieve(q["q"])
                    gate = [i for i in found.story_ids if found.similarity.get(i, 0.0) >= OLD_GATE]
                    vector = found.vector if found.vector and found.similarity[found.vector[0]] >= OLD_GATE else []
                    answer = await service.ask.answer(q["q"])
                    runs = {
                        RUNS[0]: vector,
                        RUNS[1]: found.bm25,
                        RUNS[2]: gate,
                        RUNS[3]: [c.story_id for c in answer.citations] if answer.found else [],
                    }
                    answers = q.get("answer", [])
                    cross = bool(answers) and all(langs[a] != q["lang"] for a in answers)
                    out[group].append(Asked(q, cross, {qa.ids[a] for a in answers}, runs))
            return out["answerable"], out["unanswerable"]
        finally:
            await service.aclose()

    return asyncio.run(ask_all())


def test_the_quality_table_on_the_test_half(
    test_half: tuple[list[Asked], list[Asked]], capsys: pytest.CaptureFixture[str]
) -> None:
    """The figures docs/questions-clusters-trends.md gives, measured on the half of tests/data/qa/questions.yaml that
    nothing was tuned on."""
    answerable, unanswerable = test_half
    paraphrase = [a for a in answerable if a.question["kind"] == "paraphrase"]
    cross = [a for a in answerable if a.cross]
    with capsys.disabled():
        print(
            f"\ntest half: {len(answerable)} answerable ({len(paraphrase)} paraphrase, {len(cross)} cross-language), "
            f"{len(unanswerable)} unanswerable; recall@3 and MRR count an answerable question refused as a miss"
        )
        print(f"{'':30} {'recall@3 / MRR':>15} {'paraphrase':>12} {'cross-lang':>12} {'nothing found P / R':>21}")
        for run in RUNS:
            recall, mrr = score(answerable, run)
            precision, caught = nothing_found(answerable, unanswerable, run)
            print(
                f"{run:30} {recall:7.2f} / {mrr:.2f} {score(paraphrase, run)[0]:12.2f} {score(cross, run)[0]:12.2f}"
                f" {precision:13.2f} / {caught:.2f}"
            )
    checked = RUNS[3]
    hits = round(score(answerable, checked)[0] * len(answerable))
    crossed = round(score(cross, checked)[0] * len(cross))
    caught = round(nothing_found(answerable, unanswerable, checked)[1] * len(unanswerable))
    with capsys.disabled():
        print(
            f"{checked}, in questions: recall@3 {hits}/{len(answerable)}, cross-language {crossed}/{len(cross)}, "
            f'"nothing found" {caught}/{len(unanswerable)} of the unanswerable'
        )
    # Measured once on this half, set 4 (docs/questions-clusters-trends.md): recall@3 48/55 (0.873), cross-language
    # 31/35 (0.886), "nothing found" 35/44 (0.795). The goals are 0.9, 0.9 and 0.95, all missed; these floors hold
    # what was reached, a question below it.
    assert score(answerable, checked)[0] >= 0.85 and score(cross, checked)[0] >= 0.85
    assert nothing_found(answerable, unanswerable, checked)[1] >= 0.77
    # The check is what makes "nothing found" honest: the old gate found nothing for far fewer of them.
    assert (
        nothing_found(answerable, unanswerable, checked)[1] >= nothing_found(answerable, unanswerable, RUNS[2])[1] + 0.3
    )


async def test_an_answer_cites_the_story_that_answers_first(qa: QaWorld) -> None:
    service = qa.service()
    try:
        for question in ("Chi ha revocato l'accesso alle API di OpenAI?", "Who cut off OpenAI's access to Claude?"):
            answer = await service.ask.answer(question)
            assert answer.found and answer.citations[0].story_id == qa.ids[ITALIAN], question
            numbers = {c.number for c in answer.citations}
            assert answer.sentences and all(number in numbers for _, number in answer.sentences)
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
    from bot.render.spans import pack

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
