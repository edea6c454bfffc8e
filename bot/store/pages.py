"""Pages readers sent to be summarized: the page (cached by canonical URL), its translations, who asked for it. These
tables are the pages' own: nothing here touches stories, so no digest, search or /ask answer reads a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.store.base import StoreBase, iso

_COLUMNS = "id, url, link, title, text, lang, title_en, text_en, summary_en, translated, fetched_at"


@dataclass(frozen=True)
class NewPage:
    """A page as fetched and enriched, before it has an id."""

    url: str  # canonical
    link: str
    title: str
    text: str
    lang: str
    title_en: str
    text_en: str
    summary_en: str
    translated: bool  # False: the extractive backend, the *_en fields are the original


@dataclass(frozen=True, kw_only=True)
class PageRow(NewPage):
    """A stored page."""

    id: int
    fetched_at: str


def _row(values: tuple[Any, ...]) -> PageRow:
    pid, url, link, title, text, lang, title_en, text_en, summary_en, translated, fetched_at = values
    return PageRow(
        url, link, title, text, lang, title_en, text_en, summary_en, bool(translated), id=pid, fetched_at=fetched_at
    )


def _fields(page: NewPage) -> list[object]:
    return [page.url, page.link, page.title, page.text, page.lang, page.title_en, page.text_en, page.summary_en,
            int(page.translated)]  # fmt: skip


class PageStore(StoreBase):
    def page(self, page_id: int) -> PageRow | None:
        with self._read() as conn:
            found = conn.execute(f"SELECT {_COLUMNS} FROM pages WHERE id = ?", [page_id]).fetchone()
        return _row(found) if found else None

    def page_by_url(self, url: str) -> PageRow | None:
        with self._read() as conn:
            found = conn.execute(f"SELECT {_COLUMNS} FROM pages WHERE url = ?", [url]).fetchone()
        return _row(found) if found else None

    def save_page(self, page: NewPage, now: datetime, *, forget_before: datetime) -> PageRow:
        """Store a page (a page fetched again replaces its text and drops its translations) and forget the pages
        fetched before `forget_before`."""
        with self._write() as conn:
            conn.execute("DELETE FROM pages WHERE fetched_at < ?", [iso(forget_before)])
            old = conn.execute("SELECT id FROM pages WHERE url = ?", [page.url]).fetchone()
            if old is not None:
                conn.execute("DELETE FROM page_translations WHERE page_id = ?", [old[0]])
            conn.execute(
                """
                INSERT INTO pages (url, link, title, text, lang, title_en, text_en, summary_en, translated, fetched_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (url) DO UPDATE SET link = excluded.link, title = excluded.title, text = excluded.text,
                    lang = excluded.lang, title_en = excluded.title_en, text_en = excluded.text_en,
                    summary_en = excluded.summary_en, translated = excluded.translated,
                    fetched_at = excluded.fetched_at
                """,
                [*_fields(page), iso(now)],
            )
            saved = conn.execute(f"SELECT {_COLUMNS} FROM pages WHERE url = ?", [page.url]).fetchone()
        return _row(saved)

    def add_page_reader(self, page_id: int, chat_id: int, now: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO page_readers (page_id, chat_id, asked_at) VALUES (?, ?, ?) "
                "ON CONFLICT (page_id, chat_id) DO UPDATE SET asked_at = excluded.asked_at",
                [page_id, chat_id, iso(now)],
            )

    def is_page_reader(self, page_id: int, chat_id: int) -> bool:
        with self._read() as conn:
            found = conn.execute(
                "SELECT 1 FROM page_readers WHERE page_id = ? AND chat_id = ?", [page_id, chat_id]
            ).fetchone()
        return found is not None

    def page_translation(self, page_id: int, lang: str, part: str, model: str) -> tuple[str, str] | None:
        with self._read() as conn:
            found = conn.execute(
                "SELECT title, body FROM page_translations WHERE page_id = ? AND lang = ? AND part = ? AND model = ?",
                [page_id, lang, part, model],
            ).fetchone()
        return (str(found[0]), str(found[1])) if found else None

    def save_page_translation(
        self, page_id: int, lang: str, part: str, model: str, title: str, body: str, now: datetime
    ) -> None:
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO page_translations (page_id, lang, part, model, title, body, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (page_id, lang, part, model) DO UPDATE SET title = excluded.title, body = excluded.body
                """,
                [page_id, lang, part, model, title, body, iso(now)],
            )
