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
import math
import time
import warnings
from collections.abc import Callable
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.service import Outcome, Service
from bot.store.rows import OutboxRow

log = logging.getLogger(__name__)

ChatKey = tuple[int, int]  # (chat id, forum topic)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_BATCH = 500  # due messages read per look at the outbox
_IDLE = 5.0  # seconds between looks when nothing wakes the sender
_GONE_PHRASES = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")


def sends_in_flight(send_rate: float) -> int:
    """Digest sends started at once: enough to keep `send_rate` going over a 200 ms round trip to Telegram, and few
    enough that a reply to a command queues behind at most a tenth of a second of digest traffic in the limiter."""
    return max(8, math.ceil(send_rate / 10))


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
    if isinstance(error, ChatMigrated):
        return Outcome.REFUSED, 0.0
    return Outcome.TRANSIENT, 0.0  # NetworkError, TimedOut, 5xx, anything unexpected


class ChatPacer:
    """At most `rate` messages a second to one chat, replies and digests together.

    `turn` takes the chat's next free moment (sleeping until then); `ready` only waits for it, so a digest sender can
    wait outside its send slot and take its turn inside, without holding a slot while it sleeps.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._next: dict[ChatKey, float] = {}

    async def ready(self, chat: ChatKey) -> None:
        wait = self._next.get(chat, 0.0) - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)

    async def turn(self, chat: ChatKey) -> None:
        now = self._clock()
        at = max(now, self._next.get(chat, 0.0))
        self._next[chat] = at + self.interval
        if len(self._next) > 50_000:  # forget chats whose turn is long past
            self._next = {key: t for key, t in self._next.items() if t > now}
        if at > now:
            await asyncio.sleep(at - now)


class Sender:
    def __init__(self, bot: Bot, service: Service, pacer: ChatPacer, *, send_rate: float) -> None:
        self.bot = bot
        self.delivery = service.delivery
        self.pacer = pacer
        self.max_in_flight = sends_in_flight(send_rate)
        self._wake = asyncio.Event()
        self._busy: dict[ChatKey, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(self.max_in_flight)
        self._paused_until = 0.0  # after a 429: Telegram asks the whole bot to wait
        self._stopping = False
        self._urgent = False
        self.sent = 0

    def wake(self, *, urgent: bool = False) -> None:
        """New messages are in the outbox; `urgent` for replies to commands, which must not wait for a lull."""
        self._urgent = self._urgent or urgent
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop`; then let the sends in flight finish (and be recorded), start no new ones, return."""
        try:
            while not stop.is_set():
                self._wake.clear()
                started = 0
                # Read the outbox when the chats in hand run low (not at every finished send: that would keep the
                # SQLite thread busy re-reading rows already in hand), or at once for a reply.
                if self._urgent or len(self._busy) <= _BATCH // 2:
                    self._urgent = False
                    try:
                        started = await self._start_due()
                    except Exception:  # the outbox unreadable for a moment (a locked database): look again soon
                        log.exception("could not read the outbox")
                await self._sleep(stop, started)
        finally:
            self._stopping = True
            if self._busy:
                await asyncio.wait(list(self._busy.values()), timeout=30)

    async def _sleep(self, stop: asyncio.Event, started: int) -> None:
        delay = _IDLE
        if started or self._busy:
            delay = 0.05  # more may be due behind them
        else:
            due_in = await self.delivery.seconds_until_due()
            if due_in is not None:
                delay = min(delay, max(0.05, due_in))
        delay = max(delay, self._paused_until - time.monotonic())
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _start_due(self) -> int:
        if time.monotonic() < self._paused_until:
            return 0
        rows = await self.delivery.due(_BATCH)
        by_chat: dict[ChatKey, list[OutboxRow]] = {}
        for row in rows:
            key = (row.chat_id, row.thread_id)
            if key not in self._busy:
                by_chat.setdefault(key, []).append(row)
        for key, chat_rows in by_chat.items():
            chat_rows.sort(key=lambda r: r.id)  # a chat gets its messages in the order they were written
            task = asyncio.create_task(self._send_chat(key, chat_rows))
            self._busy[key] = task
            task.add_done_callback(functools.partial(self._chat_done, key))
        return len(by_chat)

    def _chat_done(self, key: ChatKey, _task: asyncio.Task[None]) -> None:
        self._busy.pop(key, None)
        self._wake.set()  # the chat may have more, and a slot is free

    async def _send_chat(self, key: ChatKey, rows: list[OutboxRow]) -> None:
        for row in rows:
            await self.pacer.ready(key)  # a multi-part digest waits between parts without holding a send slot
            if self._stopping or time.monotonic() < self._paused_until:
                return
            async with self._slots:
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
            )
        except TelegramError as e:
            outcome, wait = classify(e)
            await self._failed(row, outcome, e, wait)
            return False
        except Exception as e:  # a bug must cost a retry, not the sender
            log.exception("sending outbox message %s failed", row.key)
            await self._failed(row, Outcome.TRANSIENT, e, 0.0)
            return False
        await self.delivery.sent(row, message.message_id)
        self.sent += 1
        return True

    async def _failed(self, row: OutboxRow, outcome: Outcome, error: Exception, wait: float) -> None:
        text = f"{type(error).__name__}: {error}"
        if outcome is Outcome.FLOOD:
            self._paused_until = max(self._paused_until, time.monotonic() + wait)
            log.warning("Telegram asks to slow down: pausing sends for %.0f s", wait)
        step = await self.delivery.failed(row, outcome, text, retry_after=wait)
        if step.at is None:
            log.warning("message %s given up (%s): %s", row.key, outcome.value, text)
        elif outcome is not Outcome.FLOOD:
            log.info("message %s will be retried at %s: %s", row.key, step.at.isoformat(), text)
