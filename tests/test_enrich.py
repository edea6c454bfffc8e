"""Enrichment through the service: every stored story gets language, English pivot and summary; resumable, cached."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from bot.errors import ModelError
from bot.service import Service, make_service
from summarizer.chunking import split_sentences
from summarizer.engine import make_engine
from summarizer.extractive import ExtractiveEngine
from summarizer.types import EngineConfig, Translation
from tests.httpserver import FeedServer, Route
from tests.pages import read_italian_article
from tests.test_service import make_settings
from tests.tinymodels import TinyModels


def italian_feed(server: FeedServer) -> str:
    article = read_italian_article()
    body = "\n\n".join(article.paragraphs)
    items = (
        f"<item><title>{article.title}</title><link>https://it.example/anthropic</link><guid>it-1</guid>"
        f"<description><![CDATA[{body}]]></description></item>"
        "<item><title>OpenAI ships a new reasoning model</title><link>https://en.example/o5</link><guid>en-1</guid>"
        "<description>OpenAI released a new reasoning model on Tuesday. It is faster and cheaper than the previous "
        "one. Developers can use it through the API from today. The company says it makes fewer mistakes in "
        "code. Prices start at two dollars per million tokens.</description></item>"
    )
    server.routes["/feed"] = Route(
        body=f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>AI</title>{items}'
        "</channel></rss>".encode()
    )
    return server.url("/feed")


async def polled_service(tmp_path: Path, server: FeedServer, **engine_options: object) -> Service:
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": italian_feed(server), "lang": "it"}]}))
    engine = ExtractiveEngine(EngineConfig(backend="extractive", **engine_options))  # type: ignore[arg-type]
    service = make_service(make_settings(tmp_path, backend="extractive"), engine=engine)
    await service.ingest.poll(force=True)
    return service


async def test_extractive_enrichment_is_complete_and_resumable(tmp_path: Path, feed_server: FeedServer) -> None:
    service = await polled_service(tmp_path, feed_server)
    try:
        assert await service.enrichment.pending() == 2
        seen: list[int] = []
        report = await service.enrichment.enrich(progress=seen.append)
        assert (report.done, report.failed, sum(seen)) == (2, 0, 2)
        assert await service.enrichment.pending() == 0
        assert (await service.enrichment.enrich()).done == 0  # nothing is done twice

        italian = await service.stories.get("https://it.example/anthropic")
        english = await service.stories.get("https://en.example/o5")
        assert italian is not None and english is not None
        assert (italian.lang, english.lang) == ("it", "en")
        # The extractive backend cannot translate, and says so: its "pivot" is the original text.
        assert italian.translated is False and italian.models["summarize"] == "extractive"
        for story in (italian, english):
            sentences = split_sentences(story.summary_en or "", story.lang or "")
            assert sentences and all(sentence in story.text for sentence in sentences)

        # A subscriber reading Italian gets the headline as published.
        title, summary = await service.localize.summary_in(italian, "it")
        assert title == italian.title and summary == italian.summary_en
    finally:
        await service.aclose()


async def test_changed_text_is_enriched_again(tmp_path: Path, feed_server: FeedServer) -> None:
    service = await polled_service(tmp_path, feed_server)
    try:
        await service.enrichment.enrich()
        route = feed_server.routes["/feed"]
        route.body = route.body_bytes.replace(b"OpenAI ships a new reasoning model", b"OpenAI ships o5")
        [result] = await service.ingest.poll(force=True)
        assert result.updated == 1
        assert await service.enrichment.pending() == 1
        assert (await service.enrichment.enrich()).done == 1
        story = await service.stories.get("https://en.example/o5")
        assert story is not None and story.title == "OpenAI ships o5" and story.enriched
    finally:
        await service.aclose()


async def test_transformers_enrichment_through_the_service(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels
) -> None:
    """Poll, enrich with the tiny models, then a German summary made once and served from the cache after."""
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [{"url": italian_feed(feed_server), "lang": "it"}]}))
    engine = make_engine(tiny_models.config())
    service = make_service(make_settings(tmp_path), engine=engine)
    try:
        await service.ingest.poll(force=True)
        report = await service.enrichment.enrich()
        assert (report.done, report.failed) == (2, 0)
        italian = await service.stories.get("https://it.example/anthropic")
        english = await service.stories.get("https://en.example/o5")
        assert italian is not None and english is not None
        assert (italian.lang, english.lang) == ("it", "en")
        assert italian.translated and italian.text_en and italian.text_en != italian.text
        assert italian.models == {
            "detect": "lingua",
            "translate": str(tiny_models.it_en),
            "summarize": str(tiny_models.long_summarizer),
        }
        assert english.models["translate"] == "identity" and english.text_en == english.text

        calls: list[tuple[str, str]] = []
        original = engine.translate

        def spy(texts: Sequence[str], src: str, tgt: str) -> Translation:
            calls.append((src, tgt))
            return original(texts, src, tgt)

        engine.translate = spy  # type: ignore[method-assign]
        first = await service.localize.summary_in(italian, "de")
        again = await service.localize.summary_in(italian, "de")
        assert first == again and calls == [("en", "de")]
        expected = original([italian.title_en or "", italian.summary_en or ""], "en", "de")
        assert list(first) == expected.texts and expected.model == str(tiny_models.en_de)
        # A language whose model is not downloaded is one clear error saying what to run.
        with pytest.raises(ModelError, match=r"'tiny/opus-mt-en-fr' is not available.*newsbot models download"):
            await service.localize.summary_in(italian, "fr")
    finally:
        await service.aclose()


async def test_a_switch_from_extractive_to_transformers_enriches_the_stories_again(
    tmp_path: Path, feed_server: FeedServer, tiny_models: TinyModels
) -> None:
    """Each story records the models it was made with; stories made with others than today's are done again, newest
    first, and only once. Going back to extractive never throws translations away."""
    models = {
        "summarizer": str(tiny_models.long_summarizer),
        "translation_overrides": {"it-en": str(tiny_models.it_en), "en-it": str(tiny_models.en_it)},
        "translation_fallback": str(tiny_models.mul_en),
    }
    listed = {"settings": {"languages": ["en", "it"], "models": models}, "feeds": [{"url": italian_feed(feed_server)}]}
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump(listed))
    extractive = make_service(make_settings(tmp_path, backend="extractive"))
    try:
        await extractive.ingest.poll(force=True)
        assert (await extractive.enrichment.enrich()).done == 2
        before = await extractive.stories.get("https://it.example/anthropic")
        assert before is not None and before.models["summarize"] == "extractive" and before.translated is False
    finally:
        await extractive.aclose()

    settings = make_settings(tmp_path, backend="transformers", model_dir=tmp_path / "cache")
    service = make_service(settings)
    try:
        assert await service.enrichment.pending() == 2
        current = await service.engines.current_models()
        assert current is not None and current.translate["it"] == str(tiny_models.it_en)
        due = service.store.stories_to_enrich(10, now=service.now(), fingerprint="-", models=current)
        assert [s.id for s in due] == sorted((s.id for s in due), reverse=True)  # newest first
        assert (await service.enrichment.enrich()).done == 2
        italian = await service.stories.get("https://it.example/anthropic")
        english = await service.stories.get("https://en.example/o5")
        assert italian is not None and english is not None
        assert italian.translated and italian.text_en != italian.text and italian.summary_en != before.summary_en
        assert (italian.models["translate"], italian.models["summarize"]) == (
            str(tiny_models.it_en),
            str(tiny_models.long_summarizer),
        )
        assert english.models["translate"] == "identity"
        assert await service.enrichment.pending() == 0 and (await service.enrichment.enrich()).done == 0
    finally:
        await service.aclose()

    back = make_service(make_settings(tmp_path, backend="extractive"))
    try:
        assert await back.enrichment.pending() == 0  # the translated enrichments stay
        # ... but the extractive backend translates nothing: an Italian reader gets the story's own sentences, never
        # the English summary kept as if it were the Italian one.
        with pytest.raises(ModelError, match="does not translate"):
            await back.localize.summary_in(italian, "it")
        localized = await back.localize.localized(italian, "it")
        assert localized.lang == "it" and localized.summary != italian.summary_en
        assert all(sentence in italian.text for sentence in split_sentences(localized.summary, "it"))
    finally:
        await back.aclose()


async def test_the_feeds_own_language_is_the_hint_when_feeds_yaml_gives_none(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A headline too short to decide ("A crítica liberal sobre" reads as Spanish on its own) follows the language
    the feed declares (<language>pt-BR</language>) when feeds.yaml names none; a feeds.yaml language still wins."""
    items = "".join(
        f"<item><title>{title}</title><link>https://pt.example/{n}</link><guid>pt-{n}</guid></item>"
        for n, title in enumerate(["A crítica liberal sobre", "Adam Cuerden, administrador do"])
    )
    for path, declared in (("/declared", "<language>pt-BR</language>"), ("/silent", "")):
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>N</title>{declared}{items}</channel></rss>'
        feed_server.routes[path] = Route(body=body.replace("pt.example", f"pt.example{path}").encode())
    feeds = [{"url": feed_server.url("/declared")}, {"url": feed_server.url("/silent")}]
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    service = make_service(make_settings(tmp_path, backend="extractive"))
    try:
        await service.ingest.poll(force=True)
        await service.enrichment.enrich()
        declared = [await service.stories.get(f"https://pt.example/declared/{n}") for n in range(2)]
        silent = [await service.stories.get(f"https://pt.example/silent/{n}") for n in range(2)]
    finally:
        await service.aclose()
    assert [s.lang for s in declared if s] == ["pt", "pt"]
    assert [s.lang for s in silent if s] == ["es", "es"]  # what the words alone say
