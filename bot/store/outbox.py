"""The outbox: every message to send, its state, attempts and Telegram message id. Digests enter it through
DigestStore.save_digests; the sender takes due rows and records each outcome the moment it is known."""

from __future__ import annotations

from datetime import datetime

from bot.store.base import StoreBase, iso, iso_ms
from bot.store.rows import OutboxRow

_OUTBOX_COLUMNS = "id, key, subscription_id, chat_id, thread_id, priority, text, attempts, created_at, reply_markup"


class OutboxStore(StoreBase):
    def due_messages(self, now: datetime, limit: int) -> list[OutboxRow]:
        """Pending messages whose time has come: replies to commands first, then by age."""
        with self._read() as conn:
            cursor = conn.execute(
                f"""
                SELECT {_OUTBOX_COLUMNS} FROM outbox
                WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY priority, id LIMIT ?
                """,
                [iso_ms(now), limit],
            )
            return [OutboxRow(*row) for row in cursor.fetchall()]

    def outbox_state(self, message_id: int) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT state FROM outbox WHERE id = ?", [message_id]).fetchone()
        return row[0] if row else None

    def next_attempt_due(self) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()
        return row[0] if row else None

    def mark_sent(self, message_id: int, telegram_id: int | None, now: datetime) -> None:
        """Committed at once after Telegram accepted it: what shrinks the one-duplicate window after a crash."""
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'sent', message_id = ?, sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                [telegram_id, iso(now), message_id],
            )

    def mark_retry(self, row: OutboxRow, error: str, next_attempt_at: datetime, *, count: bool = True) -> None:
        """A failure worth retrying; `count` False for a flood wait (429), which says nothing about the message.

        The chat's later messages wait as long, so that a digest's parts still arrive in order.
        """
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET last_error = ?, next_attempt_at = ?, attempts = attempts + ? WHERE id = ?",
                [error, iso_ms(next_attempt_at), int(count), row.id],
            )
            conn.execute(
                """
                UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?)
                WHERE chat_id = ? AND thread_id = ? AND state = 'pending' AND id > ?
                """,
                [iso_ms(next_attempt_at), row.chat_id, row.thread_id, row.id],
            )

    def mark_failed(self, message_id: int, error: str, *, state: str = "failed") -> None:
        """Given up: Telegram refused the message (BadRequest), or it is too old to be worth sending."""
        with self._write() as conn:
            conn.execute(
                "UPDATE outbox SET state = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?",
                [state, error, message_id],
            )

    def outbox_counts(self) -> dict[str, int]:
        with self._read() as conn:
            cursor = conn.execute("SELECT state, count(*) FROM outbox GROUP BY state")
            return {state: int(n) for state, n in cursor.fetchall()}

    def outbox_states(self) -> dict[str, tuple[str, int | None, str | None]]:
        """key -> (state, Telegram message id, last error): what tests and admins check."""
        with self._read() as conn:
            cursor = conn.execute("SELECT key, state, message_id, last_error FROM outbox")
            return {key: (state, mid, error) for key, state, mid, error in cursor.fetchall()}
