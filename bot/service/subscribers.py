"""The subscribers stage: /start, /stop, /lang, /schedule, /topics as service calls keyed by (chat, forum topic)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.digest.compose import FIRST_DIGEST_WINDOW
from bot.digest.schedule import DEFAULT_TIMES, DEFAULT_TZ, Schedule, ScheduleError, next_slot, parse_schedule
from bot.digest.topics import TopicsError, parse_topics
from bot.errors import LanguageNotOfferedError, NotSubscribedError, UsageError
from bot.service.context import Context
from bot.service.engines import Engines
from bot.store.rows import Subscription

ENGLISH = "en"


@dataclass(frozen=True)
class Chat:
    """Where a command came from, as the front-end knows it."""

    chat_id: int
    thread_id: int = 0  # forum topic
    kind: str = "private"
    title: str | None = None
    language_code: str | None = None  # the client's IETF tag ("it", "pt-br"), when Telegram gives one


@dataclass(frozen=True)
class Started:
    subscription: Subscription
    status: Literal["new", "reactivated", "already"]


def guess_language(language_code: str | None, offered: list[str]) -> str:
    """The offered language closest to the client's tag ("pt-BR" -> "pt", "zh-hans" -> "zh"), else English."""
    if language_code:
        primary = language_code.replace("_", "-").split("-")[0].lower()
        if primary in offered:
            return primary
    return ENGLISH if ENGLISH in offered or not offered else offered[0]


def schedule_of(subscription: Subscription) -> Schedule:
    return Schedule(subscription.times or DEFAULT_TIMES, subscription.tz or DEFAULT_TZ)


class Subscribers:
    def __init__(self, ctx: Context, engines: Engines) -> None:
        self.ctx = ctx
        self.engines = engines

    async def languages(self) -> list[str]:
        return await self.engines.servable_languages()

    async def webhook_secret(self) -> str:
        """The secret Telegram sends with every webhook update: NEWSBOT_WEBHOOK_SECRET, else made once and kept."""
        if self.ctx.settings.webhook_secret:
            return self.ctx.settings.webhook_secret
        return await self.ctx.db(
            self.ctx.store.kept_value, "webhook_secret", lambda: secrets.token_urlsafe(32), self.ctx.now()
        )

    async def former_admins(self) -> list[int]:
        """Who was in NEWSBOT_ADMIN_IDS at the last start and is not now (their admin menus are to go); remembers
        the ids of this start."""
        now = sorted(self.ctx.settings.admin_ids)
        before = await self.ctx.db(self.ctx.store.swap_kept, "admin_menus", json.dumps(now), self.ctx.now())
        return sorted(set(json.loads(before)) - set(now)) if before else []

    async def counts(self) -> list[tuple[str, str, bool, int]]:
        """(kind, language, active, how many) for admins."""
        return await self.ctx.db(self.ctx.store.subscription_counts)

    async def get(self, chat: Chat) -> Subscription | None:
        return await self.ctx.db(self.ctx.store.get_subscription, chat.chat_id, chat.thread_id)

    async def active(self, chat: Chat) -> Subscription:
        found = await self.get(chat)
        if found is None or not found.active:
            raise NotSubscribedError("this chat is not subscribed")
        return found

    async def start(self, chat: Chat) -> Started:
        """Subscribe (language guessed from the client), or reactivate a stopped or blocked subscription."""
        now = self.ctx.now()
        window_start = now - FIRST_DIGEST_WINDOW  # a first digest covers the last 24 hours
        existing = await self.get(chat)
        if existing is not None and existing.active:
            return Started(existing, "already")
        if existing is not None:
            revived = await self.ctx.db(
                self.ctx.store.update_subscription,
                existing.id,
                now,
                active=True,
                inactive_reason=None,
                window_start=max(window_start, datetime.fromisoformat(existing.window_start)),
                next_digest_at=next_slot(schedule_of(existing), now),
                title=chat.title or existing.title,
            )
            return Started(revived, "reactivated")
        lang = guess_language(chat.language_code, await self.languages())
        created = await self.ctx.db(
            self.ctx.store.insert_subscription,
            chat.chat_id,
            chat.thread_id,
            kind=chat.kind,
            title=chat.title,
            lang=lang,
            times=DEFAULT_TIMES,
            tz=DEFAULT_TZ,
            window_start=window_start,
            next_digest_at=next_slot(Schedule(), now),
            now=now,
        )
        return Started(created, "new")

    async def stop(self, chat: Chat) -> Subscription | None:
        """Unsubscribe and forget: the chat's settings, digests, delivery history and queued messages are deleted
        (a later /start begins afresh). Returns the subscription as it was, or None if it was not active."""
        found = await self.get(chat)
        if found is None or not found.active:
            return None
        await self.ctx.db(self.ctx.store.forget_chat, chat.chat_id, chat.thread_id)
        return found

    async def deactivate(self, subscription_id: int, reason: str) -> None:
        """The chat is gone for the bot (blocked it, left the group): nothing more is sent until a /start."""
        await self.ctx.db(
            self.ctx.store.update_subscription, subscription_id, self.ctx.now(), active=False, inactive_reason=reason
        )

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> int:
        """The group `old_chat_id` is now the supergroup `new_chat_id` (Telegram said so): move its subscriptions."""
        return await self.ctx.db(self.ctx.store.move_chat, old_chat_id, new_chat_id, self.ctx.now())

    async def left(self, chat_id: int, reason: str) -> int:
        """The bot is no longer in the chat (removed, kicked): nothing more is sent there until a new /start."""
        return await self.ctx.db(self.ctx.store.deactivate_chat, chat_id, reason, self.ctx.now())

    async def set_lang(self, chat: Chat, code: str) -> Subscription:
        found = await self.active(chat)
        offered = await self.languages()
        wanted = code.strip().lower()
        if wanted not in offered:
            raise LanguageNotOfferedError(code.strip(), offered)
        return await self._update(found, lang=wanted)

    async def set_schedule(self, chat: Chat, text: str) -> Subscription:
        found = await self.active(chat)
        try:
            schedule = parse_schedule(text)
        except ScheduleError as e:
            raise UsageError(str(e)) from e
        return await self._update(
            found, times=schedule.times, tz=schedule.tz, next_digest_at=next_slot(schedule, self.ctx.now())
        )

    async def set_topics(self, chat: Chat, text: str) -> tuple[Subscription, tuple[str, ...]]:
        """New topics (empty text: every story), and the ones they replace."""
        found = await self.active(chat)
        try:
            topics = parse_topics(text)
        except TopicsError as e:
            raise UsageError(str(e)) from e
        return await self._update(found, topics=topics), found.topics

    async def _update(self, subscription: Subscription, **fields: object) -> Subscription:
        return await self.ctx.db(self.ctx.store.update_subscription, subscription.id, self.ctx.now(), **fields)
