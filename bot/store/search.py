"""The search side of stories: the FTS5 index (written with every story change) and the stored embeddings."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from bot.ask.fts import index_text
from bot.store.base import StoreBase, iso, select_in


def index_story(conn: sqlite3.Connection, story_id: int) -> None:
    """(Re)write a story's FTS5 row from the story as it is now: called in the transaction that changed it."""
    row = conn.execute("SELECT title, text, title_en, text_en FROM stories WHERE id = ?", [story_id]).fetchone()
    conn.execute("DELETE FROM stories_fts WHERE rowid = ?", [story_id])
    if row is not None:
        title, text, title_en, text_en = row
        conn.execute(
            "INSERT INTO stories_fts (rowid, title, body) VALUES (?, ?, ?)",
            [story_id, index_text(title, title_en), index_text(text, text_en)],
        )


class SearchStore(StoreBase):
    def search_text(
        self, match: str, *, limit: int, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[int, float]]:
        """(story id, BM25 score, higher is better) for a MATCH expression, titles weighing double."""
        condition, params = time_scope(since, until, table="s.")
        # A scope is checked on the matching stories only, each found by its id: no index covers a story's time,
        # and reading every story for it (`rowid IN (SELECT id FROM stories WHERE ...)`) took 0.3-1 s at 100,000.
        join, where = ("JOIN stories s ON s.id = stories_fts.rowid", f"AND {condition}") if condition else ("", "")
        with self._read() as conn:
            cursor = conn.execute(
                f"""
                SELECT stories_fts.rowid, -bm25(stories_fts, 2.0, 1.0) FROM stories_fts {join}
                WHERE stories_fts MATCH ? {where} ORDER BY bm25(stories_fts, 2.0, 1.0) LIMIT ?
                """,
                [match, *params, limit],
            )
            return [(int(i), float(score)) for i, score in cursor.fetchall()]

    def stories_in_scope(self, since: datetime | None, until: datetime | None, among: Sequence[int]) -> set[int] | None:
        """Those of the ids `among` a date scope allows (None: no scope, every story), each looked up by its id rather
        than every story read."""
        if since is None and until is None:
            return None
        condition, params = time_scope(since, until)
        with self._read() as conn:
            sql = f"SELECT id FROM stories WHERE id IN ({{marks}}) AND {condition}"
            return {int(i) for (i,) in select_in(conn, sql, among, params)}

    def stories_to_embed(self, embedder: str, limit: int, *, pivot: bool) -> list[tuple[int, str, str]]:
        """(id, content hash, text) of stories without a current vector; `pivot`: the English text, enriched only."""
        text = "coalesce(s.title_en, '') || '\n' || coalesce(s.text_en, '')" if pivot else "s.title || '\n' || s.text"
        with self._read() as conn:
            cursor = conn.execute(
                f"SELECT s.id, s.content_hash, {text} FROM stories s {_UNEMBEDDED.format(ready=_ready(pivot))} "
                "ORDER BY s.created_at DESC, s.id DESC LIMIT ?",
                [embedder, limit],
            )
            return [(int(i), h, t) for i, h, t in cursor.fetchall()]

    def count_to_embed(self, embedder: str, *, pivot: bool) -> int:
        with self._read() as conn:
            sql = f"SELECT count(*) FROM stories s {_UNEMBEDDED.format(ready=_ready(pivot))}"
            return int(conn.execute(sql, [embedder]).fetchone()[0])

    def save_vectors(self, embedder: str, rows: Sequence[tuple[int, str, np.ndarray]]) -> None:
        """(story id, content hash embedded, vector) rows."""
        with self._write() as conn:
            conn.executemany(
                """
                INSERT INTO story_vectors (story_id, embedder, source_hash, vector) VALUES (?, ?, ?, ?)
                ON CONFLICT (story_id, embedder) DO UPDATE SET source_hash = excluded.source_hash,
                    vector = excluded.vector
                """,
                [(i, embedder, h, np.asarray(v, dtype=np.float32).tobytes()) for i, h, v in rows],
            )

    def vectors(self, embedder: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
        """(story ids, matrix of their vectors, one row each) for one embedder."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT story_id, vector FROM story_vectors WHERE embedder = ? ORDER BY story_id", [embedder]
            ).fetchall()
        ids = np.fromiter((i for i, _ in rows), dtype=np.int64, count=len(rows))
        matrix = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float32).reshape(len(rows), dim)
        return ids, matrix

    def vector_state(self, embedder: str) -> tuple[int, str | None]:
        """How many vectors there are and a marker that changes when any is written: for a cached matrix."""
        with self._read() as conn:
            count, marker = conn.execute(
                "SELECT count(*), max(source_hash || story_id) FROM story_vectors WHERE embedder = ?", [embedder]
            ).fetchone()
        return int(count), marker

    def cached_phrases(self, keys: Sequence[str]) -> dict[str, str]:
        with self._read() as conn:
            return dict(select_in(conn, "SELECT key, text FROM phrase_translations WHERE key IN ({marks})", keys))

    def save_phrases(self, rows: Sequence[tuple[str, str]], now: datetime) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO phrase_translations (key, text, created_at) VALUES (?, ?, ?)",
                [(key, text, iso(now)) for key, text in rows],
            )

    def stories_by_id(self, story_ids: Sequence[int]) -> dict[int, tuple[str, str | None, str | None]]:
        """id -> (published or stored time, link, language) for ranking and citing."""
        sql = "SELECT id, coalesce(published, created_at), link, lang FROM stories WHERE id IN ({marks})"
        with self._read() as conn:
            return {int(i): (at, link, lang) for i, at, link, lang in select_in(conn, sql, story_ids)}


_UNEMBEDDED = """
    LEFT JOIN story_vectors v ON v.story_id = s.id AND v.embedder = ?
    WHERE (v.story_id IS NULL OR v.source_hash != s.content_hash) {ready}
"""


def _ready(pivot: bool) -> str:
    """For an English-only embedder, only stories whose English pivot exists (enriched, really translated)."""
    return "AND s.summary_en IS NOT NULL AND s.translated IS NOT 0" if pivot else ""


def time_scope(since: datetime | None, until: datetime | None, *, table: str = "") -> tuple[str, list[str]]:
    """The condition on a story's time (published, else stored) for a date scope: SQL and its parameters. `table`:
    the stories table's alias and a dot, where a query joins it."""
    clauses, params = [], []
    if since is not None:
        clauses.append(f"coalesce({table}published, {table}created_at) >= ?")
        params.append(iso(since))
    if until is not None:
        clauses.append(f"coalesce({table}published, {table}created_at) < ?")
        params.append(iso(until))
    return " AND ".join(clauses), params
