"""The stories and questions benchmarks/ask.py times: newstest2009 sentences in five languages, saved and
enriched through the store's own methods, with e5 vectors (each distinct sentence embedded once; a story's vector
is the normalised mean of its sentences'), and questions made of a story's own words."""

from __future__ import annotations

import multiprocessing
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.ask.fts import terms  # noqa: E402
from bot.feeds.dedupe import decide  # noqa: E402
from bot.feeds.types import ParsedEntry  # noqa: E402
from bot.store import open_store  # noqa: E402
from bot.store.stories import content_hash  # noqa: E402
from summarizer.embed import make_embedder  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpora" / "mt_sum" / "newstest2009"
LANGUAGES = {"deu": "de", "eng": "en", "fra": "fr", "ita": "it", "spa": "es"}
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)  # a Wednesday
SPAN_DAYS = 365
SCOPES = {
    "en": "this week",
    "it": "la settimana scorsa",
    "de": "letzte Woche",
    "fr": "cette semaine",
    "es": "esta semana",
}
SCOPED_SHARE = 0.1  # of the questions
SAVE_BATCH = 5000  # stories per save_entries call (one transaction each)
_WORD = re.compile(r"[^\W_]+")


# -- the corpus and the stories ---------------------------------------------------------------------------------------
def read_corpus(lines: int | None) -> dict[str, list[str]]:
    """lang -> its sentences, line-aligned across languages (newstest is a parallel corpus)."""
    corpus = {}
    for suffix, lang in LANGUAGES.items():
        text = (CORPUS / f"newstest2009.{suffix}").read_text(encoding="utf-8")
        corpus[lang] = [" ".join(line.split()) for line in text.splitlines()][:lines]
    return corpus


Plan = tuple[str, tuple[int, ...], datetime]  # language, corpus lines (headline first), published


def plan_stories(count: int, length: int, seed: int) -> list[Plan]:
    """Per story: a headline line and 2-4 lines of text, drawn from anywhere in the corpus, so that no two stories
    share their title and text (the store merges such a syndicated copy into the story it copies)."""
    rng = random.Random(seed)
    langs = list(LANGUAGES.values())
    plans: list[Plan] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()
    while len(plans) < count:
        lang, lines = rng.choice(langs), tuple(rng.sample(range(length), rng.randint(3, 5)))
        if (lang, lines) not in seen:
            seen.add((lang, lines))
            plans.append((lang, lines, NOW - timedelta(seconds=rng.uniform(0, SPAN_DAYS * 86400))))
    return plans


def make_questions(corpus: dict[str, list[str]], plans: list[Plan], count: int, seed: int) -> list[tuple[str, bool]]:
    """(question, has a date scope): 2-5 content words of a random story's sentence, in its language; some name a
    date range in words."""
    rng = random.Random(seed + 1)
    questions: list[tuple[str, bool]] = []
    while len(questions) < count:
        lang, lines, _ = rng.choice(plans)
        sentence = corpus[lang][rng.choice(lines)]
        words = [w for w in _WORD.findall(sentence) if len(w) > 2 and terms(w)]
        if len(words) < 2:
            continue
        take = rng.randint(2, min(5, len(words)))
        first = rng.randrange(len(words) - take + 1)
        question = " ".join(words[first : first + take])
        scoped = rng.random() < SCOPED_SHARE
        questions.append((f"{question} {SCOPES[lang]}" if scoped else question, scoped))
    return questions


def build(db: Path, stories: int, lines: int | None, seed: int) -> dict[str, float]:
    """Child process: the database with `stories` stories, their FTS5 rows and their vectors; seconds per step."""
    seconds: dict[str, float] = {}
    corpus = read_corpus(lines)
    plans = plan_stories(stories, min(len(c) for c in corpus.values()), seed)

    started = time.perf_counter()
    used = sorted({(lang, line) for lang, lines, _ in plans for line in lines})
    texts = sorted({corpus[lang][i] for lang, i in used})
    vectors = make_embedder("e5").passages(texts)
    by_text = {text: vectors[n] for n, text in enumerate(texts)}
    seconds["embed"] = time.perf_counter() - started
    seconds["sentences"] = len(texts)

    store = open_store(db)
    started = time.perf_counter()
    store.sync_feeds([(f"https://{lang}.bench.example/feed", f"Wire {lang}", lang, None, True) for lang in SCOPES], NOW)
    feed_ids = {f.lang: f.id for f in store.list_feeds()}
    for lang, feed_id in feed_ids.items():
        entries = []
        for n, (story_lang, lines, published) in enumerate(plans):
            if story_lang == lang:
                lines_of = [corpus[lang][line] for line in lines]
                entries.append(
                    ParsedEntry(
                        guid=str(n),
                        url=f"https://{lang}.bench.example/{n}",
                        title=lines_of[0],
                        text=" ".join(lines_of[1:]),
                        published=published.isoformat(timespec="seconds"),
                    )
                )
        for at in range(0, len(entries), SAVE_BATCH):
            batch = entries[at : at + SAVE_BATCH]
            store.save_entries(feed_id, decide(batch, {}, {}), NOW)
    seconds["save"] = time.perf_counter() - started

    started = time.perf_counter()
    conn = store.conn
    ids = {url: int(i) for i, url in conn.execute("SELECT id, url FROM stories")}
    conn.execute("BEGIN IMMEDIATE")  # every save_enrichment below joins this one transaction
    for n, (lang, lines, _) in enumerate(plans):
        own, english = [corpus[lang][line] for line in lines], [corpus["en"][line] for line in lines]
        store.save_enrichment(
            ids[f"https://{lang}.bench.example/{n}"],
            NOW,
            lang=lang,
            lang_confidence=1.0,
            title_en=english[0],
            text_en=" ".join(english[1:]),
            summary_en=" ".join(english[1:3]),
            translated=True,
            models={"translate": "newstest2009 reference translation"},
            source_hash=content_hash(own[0], " ".join(own[1:])),
        )
    conn.commit()
    seconds["enrich"] = time.perf_counter() - started

    started = time.perf_counter()
    rows = []
    for n, (lang, lines, _) in enumerate(plans):
        own = [corpus[lang][line] for line in lines]
        mean = np.mean([by_text[s] for s in own], axis=0)
        rows.append(
            (
                ids[f"https://{lang}.bench.example/{n}"],
                content_hash(own[0], " ".join(own[1:])),
                mean / np.linalg.norm(mean),
            )
        )
    store.save_vectors("e5", rows)
    seconds["vectors"] = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return seconds


def build_in_child(db: Path, stories: int, lines: int | None, seed: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(build, (db, stories, lines, seed))


# -- measuring --------------------------------------------------------------------------------------------------------
