"""What the language engine made of each story: the enrichment queue with its retry state, per-language summaries,
and the model problems an admin should see."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.store.base import StoreBase, iso
from bot.store.rows import EngineModels, EnrichFailure, PendingStory, Problem
from bot.store.search import index_story

# Stories whose current text has no enrichment yet; the partial index stories_pending covers exactly these.
_PENDING = "(s.enriched_hash IS NULL OR s.enriched_hash != s.content_hash)"
# ...and that are due: never failed, their backoff is over, or they failed with other models than today's.
_DUE = "(s.next_enrich_at IS NULL OR s.next_enrich_at <= ? OR s.enrich_fingerprint IS NOT ?)"


def _stale(models: EngineModels | None) -> tuple[str, list[str]]:
    """Stories enriched with other models than the engine would use now (the models each one records): SQL that is
    false when `models` is None."""
    if models is None:
        return "0", []
    clauses = ["json_extract(s.models, '$.summarize') IS NOT ?"]
    params = [models.summarize]
    for lang, translate in sorted(models.translate.items()):
        clauses.append("(s.lang = ? AND json_extract(s.models, '$.translate') IS NOT ?)")
        params += [lang, translate]
    return f"(s.enriched_hash = s.content_hash AND ({' OR '.join(clauses)}))", params


class EnrichmentStore(StoreBase):
    def stories_to_enrich(
        self,
        limit: int,
        *,
        now: datetime,
        fingerprint: str,
        models: EngineModels | None = None,
        besides: Sequence[int] = (),
    ) -> list[PendingStory]:
        """Due stories, newest first: fresh news does not wait behind a backlog. With `models`, also the stories
        enriched by other models than these (an admin switched backend or model): done again, newest first.
        `besides`: stories left out (their jobs are in flight)."""
        stale, params = _stale(models)
        skip = f"AND s.id NOT IN ({', '.join('?' * len(besides))})" if besides else ""
        with self._read() as conn:
            cursor = conn.execute(
                f"""
                SELECT s.id, s.title, s.text,
                    (SELECT coalesce(f.lang, f.feed_lang) FROM story_sources src JOIN feeds f ON f.id = src.feed_id
                     WHERE src.story_id = s.id ORDER BY src.id LIMIT 1),
                    s.content_hash, s.enrich_attempts, s.enrich_fingerprint, s.created_at
                FROM stories s
                WHERE ({_PENDING} OR {stale}) AND {_DUE} {skip}
                ORDER BY s.created_at DESC, s.id DESC LIMIT ?
                """,
                [*params, iso(now), fingerprint, *besides, limit],
            )
            return [PendingStory(*row) for row in cursor.fetchall()]

    def count_to_enrich(self, *, now: datetime, fingerprint: str, models: EngineModels | None = None) -> int:
        stale, params = _stale(models)
        with self._read() as conn:
            sql = f"SELECT count(*) FROM stories s WHERE ({_PENDING} OR {stale}) AND {_DUE}"
            row = conn.execute(sql, [*params, iso(now), fingerprint])
            return int(row.fetchone()[0])

    def save_enrichment(
        self,
        story_id: int,
        now: datetime,
        *,
        lang: str,
        lang_confidence: float,
        title_en: str,
        text_en: str,
        summary_en: str,
        translated: bool,
        models: dict[str, str],
        source_hash: str,
    ) -> bool:
        """Store what the engine made of the text whose hash was `source_hash`; False if the text changed meanwhile,
        the story is gone, or this very enrichment (same text, same models) is stored already: a job done twice (its
        worker was thought lost) is stored once."""
        models_json = json.dumps(models, sort_keys=True)
        with self._write() as conn:
            cursor = conn.execute(
                """
                UPDATE stories SET lang = ?, lang_confidence = ?, title_en = ?, text_en = ?, summary_en = ?,
                    translated = ?, models = ?, enriched_hash = content_hash, enriched_at = ?, enrich_error = NULL,
                    enrich_attempts = 0, next_enrich_at = NULL, enrich_fingerprint = NULL
                WHERE id = ? AND content_hash = ? AND NOT (enriched_hash IS content_hash AND models IS ?)
                """,
                [
                    lang,
                    lang_confidence,
                    title_en,
                    text_en,
                    summary_en,
                    int(translated),
                    models_json,
                    iso(now),
                    story_id,
                    source_hash,
                    models_json,
                ],
            )
            if cursor.rowcount == 1:
                index_story(conn, story_id)  # the English pivot is searchable now
            return cursor.rowcount == 1

    def record_enrich_failures(self, failures: Sequence[EnrichFailure], *, fingerprint: str) -> None:
        """Each failed story's reason and next attempt; its language too when detection worked without the models."""
        with self._write() as conn:
            conn.executemany(
                """
                UPDATE stories SET enrich_error = ?, enrich_attempts = ?, next_enrich_at = ?, enrich_fingerprint = ?,
                    lang = coalesce(?, lang), lang_confidence = coalesce(?, lang_confidence)
                WHERE id = ?
                """,
                [
                    (f.reason, f.attempts, iso(f.next_attempt_at), fingerprint, f.lang, f.lang_confidence, f.story_id)
                    for f in failures
                ],
            )

    def cached_translation(self, story_id: int, lang: str, content_hash: str, model: str) -> tuple[str, str] | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT title, summary FROM story_translations "
                "WHERE story_id = ? AND lang = ? AND content_hash = ? AND model = ?",
                [story_id, lang, content_hash, model],
            ).fetchone()
        return (row[0], row[1]) if row else None

    def save_translation(
        self, story_id: int, lang: str, content_hash: str, model: str, title: str, summary: str, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO story_translations (story_id, lang, content_hash, model, title, summary, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(story_id, lang) DO UPDATE SET content_hash = excluded.content_hash,
                    model = excluded.model, title = excluded.title, summary = excluded.summary,
                    created_at = excluded.created_at
                """,
                [story_id, lang, content_hash, model, title, summary, iso(now)],
            )

    # -- problems an admin should see ------------------------------------------------------------------------------
    def record_problem(self, key: str, message: str, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO problems (key, message, first_at, last_at, count) VALUES (?, ?, ?, ?, 1)
                ON CONFLICT(key) DO UPDATE SET message = excluded.message, last_at = excluded.last_at,
                    count = count + 1
                """,
                [key, message, iso(now), iso(now)],
            )

    def clear_problem(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM problems WHERE key = ?", [key])

    def problems(self) -> list[Problem]:
        with self._read() as conn:
            cursor = conn.execute("SELECT key, message, first_at, last_at, count FROM problems ORDER BY last_at DESC")
            return [Problem(*row) for row in cursor.fetchall()]
