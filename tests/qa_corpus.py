"""The QA corpus (tests/data/qa) loaded into a real database through real feeds: stories polled from a local feed
server, "enriched" with the English pivots written for them (tiny models would give noise), indexed by the real
embedders and the real FTS5 index."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import yaml

from bot.service import Service, make_service
from bot.service.indexing import Indexing
from summarizer.chunking import split_sentences
from summarizer.detect import LinguaDetector
from summarizer.embed import make_embedder
from summarizer.types import Article, Detection, EngineConfig, Enriched, Translation
from tests.httpserver import FeedServer, Route
from tests.pages import read_italian_article
from tests.test_service import make_settings

DATA = Path(__file__).resolve().parent / "data" / "qa"
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday
LANGUAGES = ("en", "it", "de", "fr", "es", "pt")
ITALIAN = "it-anthropic"


def stories() -> list[dict[str, Any]]:
    written: list[dict[str, Any]] = yaml.safe_load((DATA / "stories.yaml").read_text(encoding="utf-8"))
    for story in written:  # YAML reads the timestamps as datetimes: keep them as the ISO text the tests compare
        if isinstance(story["published"], datetime):
            story["published"] = story["published"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    article = read_italian_article()
    pivot = (DATA / "it-anthropic.en.txt").read_text(encoding="utf-8").splitlines()
    written.append(
        {
            "id": ITALIAN,
            "lang": "it",
            "feed": "Corriere IA",
            "published": "2025-08-02T15:28:00Z",
            "event": "anthropic-openai-access",
            "title": article.title,
            "text": "\n\n".join(article.paragraphs),
            "title_en": pivot[0],
            "text_en": "\n".join(pivot[1:]),
        }
    )
    return written


def questions() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = yaml.safe_load((DATA / "questions.yaml").read_text(encoding="utf-8"))
    return loaded


_DETECTOR: list[LinguaDetector] = []


class CorpusEngine:
    """The Engine protocol over the corpus: the pivot written for each story, detection by the real lingua, and the
    English written for each question as its translation (what a good model would give); nothing else translates."""

    def __init__(self, corpus: Sequence[dict[str, Any]]) -> None:
        self.config = EngineConfig(backend="extractive", languages=LANGUAGES)
        self._by_title = {s["title"]: s for s in corpus}
        self._pivots = {q["q"]: q["en"] for group in questions().values() for q in group if "en" in q}
        if not _DETECTOR:
            _DETECTOR.append(LinguaDetector(LANGUAGES))

    def detect_language(self, text: str, hint: str | None = None) -> Detection:
        return _DETECTOR[0].detect(text, hint)

    def process(self, article: Article) -> Enriched:
        story = self._by_title[article.title]
        title_en = story.get("title_en", story["title"])
        text_en = story.get("text_en", story["text"])
        summary = " ".join(split_sentences(text_en, "en")[:2])
        return Enriched(story["lang"], 0.99, title_en, text_en, summary, {"translate": "corpus"}, translated=True)

    def process_many(self, articles: Sequence[Article]) -> list[Enriched]:
        return [self.process(a) for a in articles]

    def translate(self, texts: Sequence[str], src: str, tgt: str) -> Translation:
        if tgt == "en" and src != "en" and texts and all(t in self._pivots for t in texts):
            return Translation([self._pivots[t] for t in texts], model="corpus", translated=True)
        return Translation(list(texts), model="none", translated=src == tgt)


@dataclass
class QaWorld:
    path: Path
    corpus: list[dict[str, Any]]
    ids: dict[str, int] = field(default_factory=dict)  # corpus id -> story id
    embedders: dict[str, Any] = field(default_factory=dict)

    def service(self, embedder: str = "e5") -> Service:
        settings = make_settings(self.path, embedder=embedder)
        return make_service(
            settings, engine=CorpusEngine(self.corpus), embedder=self.embedders[embedder], now=lambda: NOW
        )

    def names(self) -> dict[int, str]:
        return {story_id: name for name, story_id in self.ids.items()}


def rss(items: Sequence[dict[str, Any]]) -> bytes:
    body = "".join(
        f"<item><title>{escape(s['title'])}</title><link>https://qa.example/{s['id']}</link><guid>{s['id']}</guid>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(s['published'].replace('Z', '+00:00')))}</pubDate>"
        f"<description>{escape(s['text'])}</description></item>"
        for s in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>QA</title>{body}</channel></rss>'.encode()


async def _build(world: QaWorld) -> None:
    feeds = sorted({s["feed"] for s in world.corpus})
    with FeedServer() as server:
        listed = []
        for n, name in enumerate(feeds):
            server.routes[f"/f{n}"] = Route(body=rss([s for s in world.corpus if s["feed"] == name]))
            listed.append({"url": server.url(f"/f{n}"), "title": name})
        (world.path / "feeds.yaml").write_text(
            yaml.safe_dump({"settings": {"languages": list(LANGUAGES)}, "feeds": listed})
        )
        service = world.service()
        try:
            await service.ingest.poll(force=True)
            await service.enrichment.enrich()
            await service.indexing.index()
            minilm = Indexing(service.ctx, world.embedders["minilm"], "minilm")
            await minilm.index()
            for s in world.corpus:
                story = await service.stories.get(f"https://qa.example/{s['id']}")
                assert story is not None and story.enriched, s["id"]
                world.ids[s["id"]] = story.id
        finally:
            await service.aclose()


def build_world(path: Path) -> QaWorld:
    world = QaWorld(path, stories(), embedders={"e5": make_embedder("e5"), "minilm": make_embedder("minilm")})
    asyncio.run(_build(world))
    return world
