"""Clusters on the QA corpus with the real embedders: pairwise precision and recall against the corpus's event labels
(printed), and one event told in three languages by three feeds reaching a digest as one entry, in the reader's
language, while another story about the same company that week stays its own entry."""

from __future__ import annotations

from datetime import datetime
from itertools import combinations

import numpy as np
import pytest

from bot.digest.clusters import THRESHOLD, WINDOW, clusters
from bot.service import Chat
from tests.qa_corpus import QaWorld
from tests.telegram_html import parse

pytestmark = pytest.mark.slow


async def test_pairwise_precision_and_recall_on_the_labelled_corpus(
    qa: QaWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = {qa.ids[s["id"]]: s for s in qa.corpus}
    ids = sorted(labelled)
    at = {i: datetime.fromisoformat(labelled[i]["published"]) for i in ids}
    same = {frozenset(p) for p in combinations(ids, 2) if len({labelled[i]["event"] for i in p}) == 1}
    assert len(labelled) >= 40 and len(same) >= 20
    rows = []
    for key in ("e5", "minilm"):
        service = qa.service(key)
        try:
            vectors = await service.indexing.vectors.get(ids)
        finally:
            await service.aclose()
        assert set(vectors) == set(ids)
        feeds = {i: [labelled[i]["feed"]] for i in ids}
        groups = clusters(ids, vectors, at, threshold=THRESHOLD[key], feeds=feeds)
        found = {frozenset(p) for g in groups for p in combinations(g, 2)}
        precision = len(found & same) / len(found) if found else 0.0
        recall = len(found & same) / len(same)
        unit = {i: v / np.linalg.norm(v) for i, v in vectors.items()}
        cosine = {p: float(unit[min(p)] @ unit[max(p)]) for p in map(frozenset, combinations(ids, 2))}
        near = [c for p, c in cosine.items() if p not in same and abs(at[min(p)] - at[max(p)]) <= WINDOW]
        rows.append((key, THRESHOLD[key], precision, recall, min(cosine[p] for p in same), max(near)))
        assert precision >= 0.95 and recall >= 0.95, rows[-1]
    with capsys.disabled():
        print(f"\npairwise clustering on {len(ids)} stories: {len(same)} same-event pairs")
        print(f"{'embedder':9} threshold precision recall  same-event min  other pairs max (within {WINDOW.days} days)")
        for key, threshold, precision, recall, low, high in rows:
            print(f"{key:9} {threshold:9.3f} {precision:9.3f} {recall:6.3f}  {low:14.3f}  {high:15.3f}")


@pytest.mark.parametrize("key", ["e5", "minilm"])
async def test_one_event_in_three_languages_is_one_digest_entry_in_the_readers_language(qa: QaWorld, key: str) -> None:
    service = qa.service(key)
    chat = Chat(7000 + len(key), language_code="it")
    try:
        started = await service.subscribers.start(chat)
        assert started.subscription.lang == "it"
        await service.subscribers.set_topics(chat, "OpenAI")
        queued = await service.digests.digest_now(chat, request=f"clusters-{key}")
        rows = service.store.db.execute(
            "SELECT text FROM outbox WHERE subscription_id = ? ORDER BY id", [started.subscription.id]
        ).fetchall()
        delivered = service.store.delivered([started.subscription.id], list(qa.ids.values()))
    finally:
        await service.aclose()
    text = "\n".join(parse(t)[0] for (t,) in rows)
    # The voice agent (Tech Wire in English, Il Post Tech in Italian, Diario IA in Spanish): once, in Italian, with the
    # Italian story's own summary (nothing here translates into Italian).
    assert text.count("OpenAI lancia un agente vocale per i call center\n") == 1
    assert "OpenAI launches a voice agent" not in text and "OpenAI ha presentato un agente vocale" in text
    assert "Il Post Tech · anche: Tech Wire, Diario IA · 3 lingue" in text
    # Price cuts by the same company the same week: another event, its own entry, in English and said to be.
    assert "OpenAI cuts API prices for its smallest model by half" in text
    assert "Tech Wire · non tradotto, originale in EN" in text
    assert queued.stories == 2 and text.startswith("Il tuo notiziario: 2 notizie")  # nothing else on OpenAI
    names = qa.names()
    got = {names[i] for i in delivered[started.subscription.id]}
    assert {"e4-en", "e4-it", "e4-es", "openai-prices"} <= got  # every member counts as delivered: never sent again
