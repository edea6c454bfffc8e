"""Trends' data: each story's keyphrases, made from its English pivot once enrichment gave one (else from its own text),
and the stories of a date range with what names are looked for in."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.store.base import StoreBase
from bot.store.search import time_scope

# The text keyphrases are made from, and the key that says which: a story is done again when it changes.
_PIVOT = "(s.enriched_hash = s.content_hash AND s.translated = 1 AND s.title_en IS NOT NULL)"
_SOURCE = f"""
    SELECT s.id, s.created_at,
        CASE WHEN {_PIVOT} THEN 'en' ELSE coalesce(s.lang, 'und') END AS lang,
        CASE WHEN {_PIVOT} THEN 'en:' ELSE coalesce(s.lang, 'und') || ':' END || s.content_hash AS hash,
        CASE WHEN {_PIVOT} THEN s.title_en ELSE s.title END AS title,
        CASE WHEN {_PIVOT} THEN coalesce(s.text_en, '') ELSE s.text END AS body
    FROM stories s
    WHERE s.enriched_hash = s.content_hash OR s.enrich_error IS NOT NULL
"""
_UNPHRASED = f"""
    FROM ({_SOURCE}) src LEFT JOIN story_keyphrases k ON k.story_id = src.id
    WHERE k.story_id IS NULL OR k.source_hash != src.hash
"""


class TrendStore(StoreBase):
    def stories_to_phrase(self, limit: int) -> list[tuple[int, str, str, str, str]]:
        """(id, source hash, language, title, text) of enriched stories without current keyphrases, newest first."""
        with self._read() as conn:
            cursor = conn.execute(
                f"SELECT src.id, src.hash, src.lang, src.title, src.body {_UNPHRASED} "
                "ORDER BY src.created_at DESC, src.id DESC LIMIT ?",
                [limit],
            )
            return [(int(i), h, lang, title, body) for i, h, lang, title, body in cursor.fetchall()]

    def count_to_phrase(self) -> int:
        with self._read() as conn:
            return int(conn.execute(f"SELECT count(*) {_UNPHRASED}").fetchone()[0])

    def save_keyphrases(self, rows: Sequence[tuple[int, str, Sequence[str]]]) -> None:
        """(story id, source hash, keyphrases) rows."""
        with self._write() as conn:
            conn.executemany(
                """
                INSERT INTO story_keyphrases (story_id, source_hash, phrases) VALUES (?, ?, ?)
                ON CONFLICT (story_id) DO UPDATE SET source_hash = excluded.source_hash, phrases = excluded.phrases
                """,
                [(i, h, json.dumps(list(p), ensure_ascii=False)) for i, h, p in rows],
            )

    def trend_stories(self, since: datetime, until: datetime) -> list[tuple[str, tuple[str, ...], str]]:
        """(time, keyphrases, text names are looked for in) of the stories of [since, until) by their time
        (published, else stored): keyphrases () where none were made yet."""
        condition, params = time_scope(since, until, table="s.")
        with self._read() as conn:
            cursor = conn.execute(
                f"""
                SELECT coalesce(s.published, s.created_at), k.phrases,
                    s.title || '\n' || s.text || '\n' || coalesce(s.title_en, '') || '\n' || coalesce(s.text_en, '')
                FROM stories s LEFT JOIN story_keyphrases k ON k.story_id = s.id
                WHERE {condition}
                """,
                params,
            )
            return [(at, tuple(json.loads(p)) if p else (), text) for at, p, text in cursor.fetchall()]
