"""What every command handler shares: the guard that turns errors into one sentence, who is asking (their
subscription and language), the command's argument. No command is handled here."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import wraps

from telegram import Update
from telegram.ext import ContextTypes

from bot.chat.replies import chat_of, deps, reply
from bot.errors import NewsbotError, NotChatAdminError, NotSubscribedError
from bot.i18n import Texts, texts
from bot.service import Chat, Service, Subscription
from bot.service.subscribers import guess_language

log = logging.getLogger(__name__)

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[object, object, None]]


async def ensure_may_change(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await deps(context).admins.may_change(context.bot, update):
        raise NotChatAdminError("not an administrator of this chat")


def argument(update: Update) -> str:
    """Everything after the command (and its @botname), as typed."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=1) if message is not None else []
    return parts[1].strip() if len(parts) > 1 else ""


@dataclass(frozen=True)
class Asker:
    """Who sent a command, their subscription and their language: what every handler starts from."""

    service: Service
    chat: Chat
    subscription: Subscription
    t: Texts


async def subscriber(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Asker:
    """The sender's active subscription (NotSubscribedError, answered by `guarded`, if there is none)."""
    service = deps(context).service
    chat = chat_of(update)
    found = await service.subscribers.active(chat)
    return Asker(service, chat, found, texts(found.lang))


async def lang_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    """The texts in this chat's subscription language, or guessed from the client for a chat not subscribed."""
    service = deps(context).service
    found = await service.subscribers.get(chat_of(update))
    if found is not None:
        return texts(found.lang)
    return texts(guess_language(chat_of(update).language_code, await service.subscribers.languages()))


def guarded(handler: Handler) -> Handler:
    """Errors a user can fix become one sentence; anything else is logged and apologised for."""

    @wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handler(update, context)
        except NotSubscribedError:
            t = await lang_of(update, context)
            await reply(update, context, t("You are not subscribed yet: send /start first."))
        except NotChatAdminError:
            t = await lang_of(update, context)
            await reply(update, context, t("Only this group's administrators can change its subscription."))
        except Exception as e:  # NewsbotError (a locked database, say) or a bug: an apology, never a silence
            if isinstance(e, NewsbotError):
                log.error("update %s: %s", update.update_id, e)
            else:
                log.exception("update %s failed", update.update_id)
            try:
                t = await lang_of(update, context)
            except Exception:
                t = texts("en")
            await reply(update, context, t("Sorry, something went wrong on my side. Please try again in a minute."))

    return wrapper
