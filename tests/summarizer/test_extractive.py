"""The extractive backend: summaries are sentences of the original, in its language, and nothing is translated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarizer.chunking import split_sentences
from summarizer.extractive import MAX_SENTENCES, MAX_WORDS, ExtractiveEngine, summarize_extractive
from summarizer.types import Article, Detection, EngineConfig
from tests.corpora import CORPORA, ITALIAN_ARTICLE

EUROEVAL = CORPORA / "mt_sum" / "summarization" / "euroeval_doc_examples.jsonl"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> ExtractiveEngine:
    return ExtractiveEngine(EngineConfig(backend="extractive", model_dir=tmp_path_factory.mktemp("empty") / "models"))


def italian_article() -> Article:
    title, _, body = ITALIAN_ARTICLE.read_text(encoding="utf-8").partition("\n")
    return Article(title=title.strip(), text=body.strip())


def test_the_italian_article_gets_an_italian_summary_of_its_own_sentences(engine: ExtractiveEngine) -> None:
    article = italian_article()
    enriched = engine.process(article)

    assert (enriched.lang, enriched.translated) == ("it", False)
    assert enriched.lang_confidence > 0.99
    assert enriched.models == {"summarize": "extractive", "detect": "lingua"}
    assert (enriched.title_en, enriched.text_en) == (article.title, article.text), "fields stay in the original"
    picked = split_sentences(enriched.summary_en, "it")
    assert 3 <= len(picked) <= MAX_SENTENCES and len(enriched.summary_en.split()) <= MAX_WORDS
    originals = split_sentences(article.text, "it")
    assert all(sentence in originals for sentence in picked), "verbatim sentences of the article"
    assert [originals.index(s) for s in picked] == sorted(originals.index(s) for s in picked), "in article order"
    assert article.title not in picked, "the title (repeated in the body) is not summary material"


def test_an_english_article_gets_a_summary_from_its_sentences(engine: ExtractiveEngine) -> None:
    examples = [json.loads(line) for line in EUROEVAL.read_text(encoding="utf-8").splitlines()]
    english = next(example for example in examples if example["lang"] == "en")
    enriched = engine.process(Article(title="", text=english["text"]))

    assert (enriched.lang, enriched.translated) == ("en", False)
    picked = split_sentences(enriched.summary_en, "en")
    assert 3 <= len(picked) <= MAX_SENTENCES
    assert all(sentence in english["text"] for sentence in picked)
    assert len(enriched.summary_en.split()) < len(english["text"].split()) / 3


def test_every_euroeval_document_gets_a_shorter_summary_in_its_language(engine: ExtractiveEngine) -> None:
    examples = [json.loads(line) for line in EUROEVAL.read_text(encoding="utf-8").splitlines()]
    results = engine.process_many([Article(title="", text=example["text"]) for example in examples])
    for example, enriched in zip(examples, results, strict=True):
        assert enriched.lang == example["lang"]
        assert enriched.summary_en and len(enriched.summary_en) <= len(example["text"])


def test_a_short_text_is_its_own_summary_and_an_empty_one_falls_back_to_the_title(engine: ExtractiveEngine) -> None:
    assert summarize_extractive("Una frase breve. E un'altra.", "it") == "Una frase breve. E un'altra."
    enriched = engine.process(Article(title="Anthropic revoca l'accesso API a OpenAI", text="", lang_hint="it"))
    assert (enriched.lang, enriched.summary_en) == ("it", "Anthropic revoca l'accesso API a OpenAI")


def test_chinese_sentences_are_joined_without_spaces() -> None:
    lines = (CORPORA / "mt_sum" / "flores200_devtest" / "zho_Hans.devtest").read_text(encoding="utf-8").splitlines()
    text = "".join(lines[:12])
    summary = summarize_extractive(text, "zh")
    picked = split_sentences(summary, "zh")
    assert 3 <= len(picked) <= MAX_SENTENCES and all(sentence in text for sentence in picked)
    assert summary == "".join(picked)


def test_translate_changes_nothing_and_says_so(engine: ExtractiveEngine) -> None:
    untranslated = engine.translate(["Ciao", "mondo"], "it", "en")
    assert (untranslated.texts, untranslated.model, untranslated.translated) == (["Ciao", "mondo"], "none", False)
    same = engine.translate(["Hello"], "en", "en")
    assert (same.texts, same.model, same.translated) == (["Hello"], "identity", True)


def test_summarize_returns_the_backend_name(engine: ExtractiveEngine) -> None:
    assert engine.summarize(["Short news."]) == (["Short news."], "extractive")


def test_a_given_detector_is_used_and_named(tmp_path: Path) -> None:
    class FixedDetector:
        name = "fixed"

        def detect(self, text: str, hint: str | None = None) -> Detection:
            return Detection("de", 0.5)

    engine = ExtractiveEngine(EngineConfig(backend="extractive", model_dir=tmp_path), detector=FixedDetector())
    enriched = engine.process(Article(title="T", text="Ein Satz."))
    assert (enriched.lang, enriched.lang_confidence, enriched.models["detect"]) == ("de", 0.5, "fixed")
    assert engine.detect_language("anything") == Detection("de", 0.5)
    assert not any(tmp_path.iterdir()), "no model files touched"
