"""The delivery stage: the outbox as the sender sees it, and the retry policy as a pure function of what went wrong.

The sender (bot/chat/sender.py) maps Telegram's answers to an Outcome; this stage records it. Nothing here knows
Telegram's exception classes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.service.context import Context
from bot.service.subscribers import Subscribers
from bot.store.rows import OutboxRow

# Network errors and 5xx: 2 s, 4 s, 8 s ... at most 5 minutes between tries; a message not sent within a day is stale.
FIRST_BACKOFF = 2.0
MAX_BACKOFF = 300.0
STALE_AFTER = timedelta(hours=24)


class Outcome(enum.Enum):
    SENT = "sent"
    FLOOD = "flood"  # 429: wait what Telegram says, then send again; says nothing about the message
    TRANSIENT = "transient"  # network error, timeout, 5xx: retry with capped backoff
    REFUSED = "refused"  # 400 BadRequest: recorded on the row, never retried
    GONE = "gone"  # 403 (blocked, kicked) or the chat no longer exists: the subscription goes inactive


@dataclass(frozen=True)
class Next:
    """What to do with a message after a failed send: try again at `at`, or give up (`at` None)."""

    at: datetime | None
    count: bool = True  # whether the attempt counts (a flood wait does not)


def after_failure(outcome: Outcome, attempts: int, created_at: datetime, now: datetime, retry_after: float = 0) -> Next:
    """The retry policy. `attempts`: failed tries before this one."""
    if outcome in (Outcome.REFUSED, Outcome.GONE):
        return Next(None)
    if outcome is Outcome.FLOOD:
        return Next(now + timedelta(seconds=max(retry_after, 1.0)), count=False)
    if now - created_at >= STALE_AFTER:
        return Next(None)
    return Next(now + timedelta(seconds=min(MAX_BACKOFF, FIRST_BACKOFF * 2**attempts)))


class Delivery:
    def __init__(self, ctx: Context, subscribers: Subscribers) -> None:
        self.ctx = ctx
        self.subscribers = subscribers

    async def due(self, limit: int) -> list[OutboxRow]:
        return await self.ctx.db(self.ctx.store.due_messages, self.ctx.now(), limit)

    async def seconds_until_due(self) -> float | None:
        """How long until the next pending message is due (negative: overdue); None when the outbox is empty."""
        found = await self.ctx.db(self.ctx.store.next_attempt_due)
        return (datetime.fromisoformat(found) - self.ctx.now()).total_seconds() if found else None

    async def still_pending(self, row: OutboxRow) -> bool:
        """Whether a message read a moment ago is still to be sent (not dropped by a /stop meanwhile)."""
        return await self.ctx.db(self.ctx.store.outbox_state, row.id) == "pending"

    async def sent(self, row: OutboxRow, telegram_id: int | None) -> None:
        await self.ctx.db(self.ctx.store.mark_sent, row.id, telegram_id, self.ctx.now())

    async def failed(self, row: OutboxRow, outcome: Outcome, error: str, *, retry_after: float = 0) -> Next:
        """Record a failed send as the policy says; a chat that is gone deactivates its subscriber."""
        now = self.ctx.now()
        step = after_failure(outcome, row.attempts, datetime.fromisoformat(row.created_at), now, retry_after)
        store = self.ctx.store
        if step.at is not None:
            await self.ctx.db(store.mark_retry, row, error, step.at, count=step.count)
        elif outcome is Outcome.GONE:
            await self.ctx.db(store.mark_failed, row.id, error, state="dropped")
            if row.subscription_id is not None:
                await self.subscribers.deactivate(row.subscription_id, f"blocked: {error}")
        else:
            await self.ctx.db(store.mark_failed, row.id, error)
        return step

    async def migrated(self, row: OutboxRow, new_chat_id: int) -> None:
        """Telegram refused a send because the group became a supergroup: everything follows the new id, and the
        message goes out again there."""
        await self.subscribers.migrate(row.chat_id, new_chat_id)

    async def counts(self) -> dict[str, int]:
        return await self.ctx.db(self.ctx.store.outbox_counts)
