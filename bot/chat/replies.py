"""Replies to commands: made Telegram HTML by bot.render (escaped, split when long), paced per chat like digests,
retried once when Telegram asks to wait. Replies go straight out (they do not queue behind digests in the outbox)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.chat.fairuse import FairUse
from bot.chat.keyboards import markup
from bot.chat.pacing import ChatPacer
from bot.chat.permissions import GroupAdmins
from bot.chat.sender import NO_PREVIEW, Sender, retry_after_seconds
from bot.render.keyboards import Keyboard
from bot.render.spans import Block, caption_html, pack, plain
from bot.service import Chat, Service

log = logging.getLogger(__name__)

MAX_REPLY_WAIT = 10.0  # seconds a reply may wait for the rate limits (or a flood wait) before it is dropped


@dataclass(frozen=True)
class Deps:
    """What handlers need, kept in the Application's bot_data."""

    service: Service
    sender: Sender
    pacer: ChatPacer
    admins: GroupAdmins
    fair_use: FairUse


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    found: Deps = context.application.bot_data["newsbot"]
    return found


def chat_of(update: Update) -> Chat:
    """The subscription key and what we know of the chat: a forum topic is a chat of its own."""
    chat = update.effective_chat
    message = update.effective_message
    user = update.effective_user
    assert chat is not None
    thread = message.message_thread_id if message is not None and message.is_topic_message else None
    title = chat.title or (user.full_name if user else None)
    return Chat(
        chat_id=chat.id,
        thread_id=thread or 0,
        kind=chat.type,
        title=title,
        language_code=user.language_code if user else None,
    )


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Plain text, escaped."""
    await reply_blocks(update, context, [plain(text)])


async def reply_blocks(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    blocks: Sequence[Block],
    *,
    keyboard: Keyboard = (),
) -> None:
    """`blocks` packed into messages (paced like any reply); the keyboard, if any, under the last one."""
    chat = chat_of(update)
    messages = pack(blocks)
    for index, message in enumerate(messages):
        await send_paced(context, chat, message, markup(keyboard) if index == len(messages) - 1 else None)


async def send_paced(
    context: ContextTypes.DEFAULT_TYPE, chat: Chat, message: str, reply_markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send one reply (with its inline keyboard, if any) under the chat's pacing and the limiter's, retrying once
    after a short flood wait; a reply that cannot go out within MAX_REPLY_WAIT is dropped (the user has moved on, and
    a stop is not held up). The message sent, or None."""

    def send() -> Awaitable[Message]:
        return context.bot.send_message(
            chat.chat_id,
            message,
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
            message_thread_id=chat.thread_id or None,
            reply_markup=reply_markup,
        )

    sent = await _paced(context, chat, send)
    return sent if isinstance(sent, Message) else None


async def reply_photo(update: Update, context: ContextTypes.DEFAULT_TYPE, png: bytes, caption: str) -> None:
    """A picture (sendPhoto, uploaded) with a plain caption, paced like any reply."""
    chat = chat_of(update)

    def send() -> Awaitable[object]:
        return context.bot.send_photo(
            chat.chat_id,
            png,
            caption=caption_html(caption),
            parse_mode=ParseMode.HTML,
            message_thread_id=chat.thread_id or None,
        )

    await _paced(context, chat, send)


async def _paced(
    context: ContextTypes.DEFAULT_TYPE, chat: Chat, send: Callable[[], Awaitable[object]]
) -> object | None:
    try:
        async with asyncio.timeout(MAX_REPLY_WAIT):
            return await _send_reply(context, chat, send)
    except TimeoutError:
        log.warning("reply to chat %s dropped: the rate limits would hold it over %.0f s", chat.chat_id, MAX_REPLY_WAIT)
        return None


async def _send_reply(
    context: ContextTypes.DEFAULT_TYPE, chat: Chat, send: Callable[[], Awaitable[object]]
) -> object | None:
    pacer = deps(context).pacer
    for attempt in range(2):
        await pacer.turn((chat.chat_id, chat.thread_id))
        try:
            return await send()
        except RetryAfter as e:
            wait = retry_after_seconds(e)
            if attempt or wait > MAX_REPLY_WAIT:
                log.warning("reply to chat %s dropped: Telegram asks to wait %.0f s", chat.chat_id, wait)
                return None
            await asyncio.sleep(wait)
        except TelegramError as e:
            log.warning("reply to chat %s failed: %s", chat.chat_id, e)
            return None
    return None
