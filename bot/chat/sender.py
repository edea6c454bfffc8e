"""The outbox sender: drains due messages to Telegram, one chat at a time in order, many chats side by side.

Pacing: python-telegram-bot's AIORateLimiter holds the bot-wide and per-group rates; `ChatPacer` spaces messages
to one chat (replies and digests alike). Retries are ours (the limiter retries nothing): Telegram's answer becomes
an Outcome, and the delivery stage's policy decides when to try again. Each outcome is committed the moment it is
known, so a crash can repeat at most the sends that were in flight.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import warnings
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.chat.keyboards import stored_markup
from bot.chat.pacing import ChatKey, ChatPacer, PrioritySlots, sends_in_flight
from bot.service import OutboxRow, Outcome, Service

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_BATCH = 500  # due messages read per look at the outbox
_IDLE = 5.0  # seconds between looks when nothing wakes the sender
# A 400 that means the chat (or the forum topic) is gone for the bot: its subscription stops, not just this message.
_GONE_PHRASES = (
    "chat not found",
    "user is deactivated",
    "bot was kicked",
    "have no rights to send",
    "message thread not found",
)


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # python-telegram-bot 22 warns that this will become a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(error: Exception) -> tuple[Outcome, float]:
    """Telegram's answer as an outcome for the retry policy, with the flood wait if any."""
    if isinstance(error, RetryAfter):
        return Outcome.FLOOD, retry_after_seconds(error)
    if isinstance(error, Forbidden):
        return Outcome.GONE, 0.0
    if isinstance(error, BadRequest):  # before NetworkError: BadRequest is one of its subclasses
        gone = any(phrase in error.message.lower() for phrase in _GONE_PHRASES)
        return (Outcome.GONE if gone else Outcome.REFUSED), 0.0
    return Outcome.TRANSIENT, 0.0  # NetworkError, TimedOut, 5xx, anything unexpected


class Sender:
    def __init__(self, bot: Bot, service: Service, pacer: ChatPacer, *, send_rate: float) -> None:
        self.bot = bot
        self.delivery = service.delivery
        self.pacer = pacer
        self.max_in_flight = sends_in_flight(send_rate)
        self._wake = asyncio.Event()
        self._busy: dict[ChatKey, asyncio.Task[None]] = {}
        self._slots = PrioritySlots(self.max_in_flight)
        self._paused_until = 0.0  # after a 429: Telegram asks the whole bot to wait
        self._stopping = False
        self._urgent = False
        # Accepted by Telegram but not yet recorded (the database refused the write): never sent again, and recorded
        # as soon as the database takes writes again.
        self._unrecorded: dict[int, tuple[OutboxRow, int | None]] = {}
        self.sent = 0

    def wake(self, *, urgent: bool = False) -> None:
        """New messages are in the outbox; `urgent` for replies to commands, which must not wait for a lull."""
        self._urgent = self._urgent or urgent
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop`; then finish the sends in flight (and record them), start no new ones, return."""
        try:
            while not stop.is_set():
                self._wake.clear()
                try:
                    delay = await self._look()
                except Exception:  # the database locked or full for a moment: the sender waits, it does not die
                    log.exception("the outbox could not be read or written; trying again in a second")
                    delay = 1.0
                await self._wait(stop, max(delay, self._paused_until - time.monotonic()))
        finally:
            self._stopping = True
            await self._drain()

    async def _look(self) -> float:
        """Record what is unrecorded, start the due chats; how long to wait before looking again."""
        if self._unrecorded:
            await self._record_unrecorded()
        # Read the outbox when the chats in hand run low (not at every finished send: that would keep the SQLite
        # thread busy re-reading rows already in hand), or at once for a reply.
        if (self._urgent or len(self._busy) <= _BATCH // 2) and not self._halted():
            self._urgent = False
            if await self._start_due() or self._busy:
                return 0.05  # more may be due behind them
        elif self._busy:
            return 0.05
        due_in = await self.delivery.seconds_until_due()
        return _IDLE if due_in is None else min(_IDLE, max(0.05, due_in))

    async def _wait(self, stop: asyncio.Event, delay: float) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _drain(self) -> None:
        """Let the sends in flight end; those still waiting for a slot send nothing. Then record what is owed."""
        tasks = list(self._busy.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=30)
            for task in late:  # stuck in a request past the timeout: its outcome stays unknown, so it stays pending
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._unrecorded:
            try:
                await self._record_unrecorded()
            except Exception:
                log.exception("%d sent messages could not be recorded as sent", len(self._unrecorded))

    def _halted(self) -> bool:
        return self._stopping or time.monotonic() < self._paused_until

    async def _start_due(self) -> int:
        rows = await self.delivery.due(_BATCH)
        by_chat: dict[ChatKey, list[OutboxRow]] = {}
        for row in rows:
            key = (row.chat_id, row.thread_id)
            if key not in self._busy and row.id not in self._unrecorded:
                by_chat.setdefault(key, []).append(row)
        for key, chat_rows in by_chat.items():
            chat_rows.sort(key=lambda r: r.id)  # a chat gets its messages in the order they were written
            task = asyncio.create_task(self._send_chat(key, chat_rows))
            self._busy[key] = task
            task.add_done_callback(functools.partial(self._chat_done, key))
        return len(by_chat)

    def _chat_done(self, key: ChatKey, task: asyncio.Task[None]) -> None:
        self._busy.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("sending to chat %s failed", key[0], exc_info=task.exception())
        self._wake.set()  # the chat may have more, and a slot is free

    async def _send_chat(self, key: ChatKey, rows: list[OutboxRow]) -> None:
        priority = min(row.priority for row in rows)  # a chat with a reply waiting is served as a reply
        for index, row in enumerate(rows):
            await self.pacer.ready(key)  # a multi-part digest waits between parts without holding a send slot
            if self._halted():
                return
            if index and not await self.delivery.still_pending(row):
                return  # the subscriber stopped (or was blocked) while the earlier parts went out
            async with self._slots.take(priority):
                if self._halted():  # a 429 or a stop came while this send waited for its slot
                    return
                await self.pacer.turn(key)
                if not await self._send(row):
                    return  # the rest of this chat waits, so its messages keep their order

    async def _send(self, row: OutboxRow) -> bool:
        try:
            message = await self.bot.send_message(
                row.chat_id,
                row.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                message_thread_id=row.thread_id or None,
                reply_markup=stored_markup(row.reply_markup),
            )
        except ChatMigrated as e:
            log.info("chat %s became supergroup %s: its messages follow", row.chat_id, e.new_chat_id)
            await self.delivery.migrated(row, e.new_chat_id)
            return False  # this chat's queue now belongs to the new id, and is taken at the next look
        except TelegramError as e:
            outcome, wait = classify(e)
            await self._failed(row, outcome, e, wait)
            return False
        except Exception as e:  # a bug must cost a retry, not the sender
            log.exception("sending outbox message %s failed", row.key)
            await self._failed(row, Outcome.TRANSIENT, e, 0.0)
            return False
        self.sent += 1
        try:
            await self.delivery.sent(row, message.message_id)
        except Exception:
            log.exception("message %s was sent but could not be recorded yet", row.key)
            self._unrecorded[row.id] = (row, message.message_id)
        return True

    async def _record_unrecorded(self) -> None:
        for row_id, (row, telegram_id) in list(self._unrecorded.items()):
            await self.delivery.sent(row, telegram_id)
            del self._unrecorded[row_id]

    async def _failed(self, row: OutboxRow, outcome: Outcome, error: Exception, wait: float) -> None:
        text = f"{type(error).__name__}: {error}"
        if outcome is Outcome.FLOOD:
            self._paused_until = max(self._paused_until, time.monotonic() + wait)
            log.warning("Telegram asks to slow down: pausing sends for %.0f s", wait)
        try:
            step = await self.delivery.failed(row, outcome, text, retry_after=wait)
        except Exception:  # unrecorded, the message stays pending: it is tried again, which is what a failure wants
            log.exception("could not record the failure of message %s (%s)", row.key, text)
            return
        if step.at is None:
            log.warning("message %s given up (%s): %s", row.key, outcome.value, text)
        elif outcome is not Outcome.FLOOD:
            log.info("message %s will be retried at %s: %s", row.key, step.at.isoformat(), text)
