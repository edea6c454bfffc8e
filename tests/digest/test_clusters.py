"""Clusters: one event's stories grouped by vector and time, merged into one digest entry for each reader's
language, and shown as "also: …, 3 languages" with each other source linked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.digest.clusters import clusters
from bot.digest.compose import Candidate, Digest, DigestItem, merge
from bot.digest.rank import select
from bot.i18n import texts
from bot.render.digest import render_digest
from tests.telegram_html import parse

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def unit(*values: float) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def test_close_vectors_within_the_window_group_and_far_or_late_ones_do_not() -> None:
    vectors = {
        1: unit(1.0, 0.0, 0.0),
        2: unit(0.99, 0.1, 0.0) * 7,  # scale does not matter: cosine
        3: unit(0.0, 1.0, 0.0),  # another event
        4: unit(1.0, 0.0, 0.01),  # the first event's vector, but five days later
        6: unit(0.97, 0.0, 0.24),  # close to 2's neighbour 1 only through 7: single linkage chains
        7: unit(0.995, 0.0, 0.1),
    }
    at = {1: T0, 2: T0 + timedelta(hours=5), 3: T0, 4: T0 + timedelta(days=5), 5: T0, 6: T0, 7: T0}
    groups = clusters([1, 2, 3, 4, 5, 6, 7], vectors, at, threshold=0.98)
    assert sorted(map(sorted, groups)) == [[1, 2, 6, 7], [3], [4], [5]]  # 5 has no vector: alone
    assert float(vectors[1] @ vectors[6]) < 0.98  # 6 joined through 7, not directly
    assert clusters([1, 2], vectors, at, threshold=0.9999) == [[1], [2]]
    # One feed's two items are two stories however alike (templated blurbs): only other feeds' stories join.
    # Not even through a third story: 1 and 2 both link to 7, the closer pair (1, 7) wins.
    feeds = {1: ["Wire"], 2: ["Wire", "Echo"], 6: ["Post"], 7: ["Diario"]}
    assert sorted(map(sorted, clusters([1, 2, 6, 7], vectors, at, threshold=0.98, feeds=feeds))) == [[1, 6, 7], [2]]


def candidate(story_id: int, lang: str, source: str, hours: int = 0, **kw: object) -> Candidate:
    return Candidate(
        story_id=story_id,
        title=f"title {story_id} ({lang})",
        at=T0 + timedelta(hours=hours),
        sources=(source,),
        link=f"https://news.example/{story_id}",
        lang=lang,
        **kw,  # type: ignore[arg-type]
    )


EVENT = [
    candidate(1, "en", "Tech Wire", 0, summary_en="A voice agent for call centers."),
    candidate(2, "it", "Il Post Tech", 2),
    candidate(3, "es", "Diario IA", 3),
]


def test_a_cluster_is_one_candidate_led_by_the_readers_language_with_every_source() -> None:
    lone = candidate(9, "en", "Tech Wire", 1)
    groups = [[1, 2, 3], [9], [42]]  # 42: outside this reader's window, not a candidate
    [italian, alone] = merge([*EVENT, lone], groups, "it")
    assert italian.story_id == 2 and italian.members == (2, 1, 3) and italian.story_ids() == (2, 1, 3)
    assert italian.sources == ("Il Post Tech", "Tech Wire", "Diario IA")
    assert italian.source_links == (None, "https://news.example/1", "https://news.example/3")
    assert italian.langs == ("en", "es", "it") and italian.at == T0 + timedelta(hours=3)
    assert "A voice agent for call centers." in italian.texts()  # a topic matches any member's text
    assert alone == lone and alone.story_ids() == (9,)
    # However the stories were stored (group and candidates in another order), the others come earliest first.
    [again] = merge([EVENT[2], EVENT[1], EVENT[0]], [[3, 2, 1]], "it")
    assert again.sources == italian.sources and again.members == italian.members
    # No member in the reader's language: the one most feeds carry, then the newest.
    [german] = merge(EVENT, [[1, 2, 3]], "de")
    assert german.story_id == 3
    carried = replace(EVENT[0], sources=("Tech Wire", "Echo", "Il Post Tech"))
    [two_feeds] = merge([carried, *EVENT[1:]], [[1, 2, 3]], "de")
    assert two_feeds.story_id == 1 and two_feeds.sources == ("Tech Wire", "Echo", "Il Post Tech", "Diario IA")


def test_a_cluster_with_any_member_delivered_is_not_sent_again() -> None:
    [event] = merge(EVENT, [[1, 2, 3]], "en")
    assert select([event], delivered={3}, topics=(), now=T0 + timedelta(hours=6)).chosen == []
    chosen = select([event], delivered=set(), topics=("call centers",), now=T0 + timedelta(hours=6)).chosen
    assert chosen == [event]


def test_the_entry_says_also_reported_by_each_linked_and_how_many_languages() -> None:
    item = DigestItem(
        title="OpenAI lancia un agente vocale",
        summary="Risponde alle chiamate.",
        link="https://news.example/2",
        sources=("Il Post Tech", "Tech Wire", "Diario IA"),
        source_links=(None, "https://news.example/1", "javascript:alert(1)"),
        languages=3,
    )
    for lang, expected in (
        ("en", "Il Post Tech · also: Tech Wire, Diario IA · 3 languages"),
        ("it", "Il Post Tech · anche: Tech Wire, Diario IA · 3 lingue"),
    ):
        [message] = render_digest(Digest(lang, [item], story_ids=[2, 1, 3]), texts(lang))
        text, links = parse(message)
        assert expected in text, text
        assert links == ["https://news.example/2", "https://news.example/1"]  # a bad link is shown, never linked
    [single] = render_digest(Digest("it", [DigestItem("t", "s", None, ("A",))]), texts("it"))
    assert "lingu" not in parse(single)[0]
