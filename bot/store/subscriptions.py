"""Subscribers: one row per (chat, forum topic) with language, schedule, time zone, topics and whether it is active."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.store.base import StoreBase, iso
from bot.store.rows import SUBSCRIPTION_COLUMNS, Subscription, subscription_row

_SETTABLE = {"lang", "times", "tz", "topics", "next_digest_at", "window_start", "active", "inactive_reason", "title"}


class SubscriptionStore(StoreBase):
    def get_subscription(self, chat_id: int, thread_id: int = 0) -> Subscription | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE chat_id = ? AND thread_id = ?",
                [chat_id, thread_id],
            ).fetchone()
        return subscription_row(row) if row else None

    def subscription(self, subscription_id: int) -> Subscription | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?", [subscription_id]
            ).fetchone()
        return subscription_row(row) if row else None

    def insert_subscription(
        self,
        chat_id: int,
        thread_id: int,
        *,
        kind: str,
        title: str | None,
        lang: str,
        times: Sequence[str],
        tz: str,
        window_start: datetime,
        next_digest_at: datetime,
        now: datetime,
    ) -> Subscription:
        """A new subscription; if the chat subscribed meanwhile (two /start at once), the existing one."""
        with self._write() as conn:
            conn.execute(
                """
                INSERT INTO subscriptions (chat_id, thread_id, kind, title, lang, times, tz, window_start,
                    next_digest_at, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (chat_id, thread_id) DO NOTHING
                """,
                [
                    chat_id,
                    thread_id,
                    kind,
                    title,
                    lang,
                    json.dumps(list(times)),
                    tz,
                    iso(window_start),
                    iso(next_digest_at),
                    iso(now),
                    iso(now),
                ],
            )
            found = self.get_subscription(chat_id, thread_id)
        assert found is not None
        return found

    def update_subscription(self, subscription_id: int, now: datetime, **fields: Any) -> Subscription:
        unknown = set(fields) - _SETTABLE
        if unknown:
            raise ValueError(f"not a subscription setting: {sorted(unknown)}")
        values = {name: _column_value(value) for name, value in fields.items()}
        assignments = ", ".join(f"{name} = ?" for name in values)
        with self._write() as conn:
            conn.execute(
                f"UPDATE subscriptions SET {assignments}, updated_at = ? WHERE id = ?",
                [*values.values(), iso(now), subscription_id],
            )
            if fields.get("active") is False:
                # A stopped or blocked chat gets nothing more, not even what was queued for it.
                conn.execute(
                    "UPDATE outbox SET state = 'dropped', last_error = ? WHERE subscription_id = ? AND state = 'pending'",
                    [f"subscription inactive: {fields.get('inactive_reason') or 'stopped'}", subscription_id],
                )
            found = self.subscription(subscription_id)
        assert found is not None
        return found

    def move_chat(self, old: int, new: int, now: datetime) -> int:
        """A group became a supergroup: its subscriptions (every topic), their history and their pending messages
        follow the new id. A topic the new chat already has keeps the new chat's settings. Returns how many moved."""
        moved = 0
        with self._write() as conn:
            for sub_id, thread_id in conn.execute(
                "SELECT id, thread_id FROM subscriptions WHERE chat_id = ?", [old]
            ).fetchall():
                taken = conn.execute(
                    "SELECT 1 FROM subscriptions WHERE chat_id = ? AND thread_id = ?", [new, thread_id]
                ).fetchone()
                if taken:  # the new chat subscribed this topic itself: the old subscription and its queue end here
                    conn.execute(
                        "UPDATE subscriptions SET active = 0, inactive_reason = 'migrated', updated_at = ? WHERE id = ?",
                        [iso(now), sub_id],
                    )
                    conn.execute(
                        "UPDATE outbox SET state = 'dropped', last_error = 'merged into the supergroup' "
                        "WHERE subscription_id = ? AND state = 'pending'",
                        [sub_id],
                    )
                    continue
                conn.execute(
                    "UPDATE subscriptions SET chat_id = ?, kind = 'supergroup', updated_at = ? WHERE id = ?",
                    [new, iso(now), sub_id],
                )
                moved += 1
            conn.execute("UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state = 'pending'", [new, old])
        return moved

    def deactivate_chat(self, chat_id: int, reason: str, now: datetime) -> int:
        """The bot was removed from a chat: every subscription there goes inactive and its queue is dropped."""
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE subscriptions SET active = 0, inactive_reason = ?, updated_at = ? WHERE chat_id = ? AND active = 1",
                [reason, iso(now), chat_id],
            ).rowcount
            conn.execute(
                "UPDATE outbox SET state = 'dropped', last_error = ? WHERE chat_id = ? AND state = 'pending'",
                [f"chat left: {reason}", chat_id],
            )
        return int(changed)

    def due_subscriptions(self, now: datetime, limit: int = 10_000) -> list[Subscription]:
        with self._read() as conn:
            cursor = conn.execute(
                f"""
                SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions
                WHERE active = 1 AND next_digest_at <= ? ORDER BY next_digest_at, id LIMIT ?
                """,
                [iso(now), limit],
            )
            return [subscription_row(row) for row in cursor.fetchall()]

    def next_digest_due(self) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT min(next_digest_at) FROM subscriptions WHERE active = 1").fetchone()
        return row[0] if row else None

    def subscription_counts(self) -> list[tuple[str, str, bool, int]]:
        """(kind, lang, active, count) for admins."""
        with self._read() as conn:
            cursor = conn.execute(
                "SELECT kind, lang, active, count(*) FROM subscriptions GROUP BY kind, lang, active ORDER BY 4 DESC"
            )
            return [(kind, lang, bool(active), int(n)) for kind, lang, active, n in cursor.fetchall()]


class KeptStore(StoreBase):
    def kept_value(self, key: str, make: Callable[[], str], now: datetime) -> str:
        """The value kept under `key`, made by `make()` and stored the first time it is asked for."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO kept (key, value, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING",
                [key, make(), iso(now)],
            )
            return str(conn.execute("SELECT value FROM kept WHERE key = ?", [key]).fetchone()[0])

    def swap_kept(self, key: str, value: str, now: datetime) -> str | None:
        """Keep `value` under `key`; returns what was kept there before, if anything."""
        with self._write() as conn:
            before = conn.execute("SELECT value FROM kept WHERE key = ?", [key]).fetchone()
            conn.execute(
                "INSERT INTO kept (key, value, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
                [key, value, iso(now)],
            )
        return None if before is None else str(before[0])


def _column_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    if isinstance(value, bool):
        return int(value)
    return value
