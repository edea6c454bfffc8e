"""Command handlers: parse the arguments, make one service call, render, reply. Every text goes through gettext in
the subscriber's language; a malformed argument gets a one-line correction with an example, never a traceback."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ContextTypes

from bot.chat.buttons import send_linked_article
from bot.chat.commands import help_text
from bot.chat.handling import argument, ensure_may_change, guarded, lang_of, subscriber
from bot.chat.permissions import is_admin
from bot.chat.replies import chat_of, deps, reply, reply_blocks, reply_photo
from bot.chat.settings import (
    exclusion_hint,
    show_languages,
    show_schedules,
    show_topics,
    source_states,
)
from bot.errors import LanguageNotOfferedError, UsageError
from bot.i18n import Texts, texts
from bot.render.answer import render_answer
from bot.render.keyboards import start_story
from bot.render.settings import language_name, sources_keyboard
from bot.render.sources import render_sources
from bot.render.spans import plain
from bot.render.trends import chart_title, chart_ylabel, trend_blocks
from bot.service import Subscription

log = logging.getLogger(__name__)


MAX_TREND_DAYS = 30  # /trends DAYS: a chart of more days gets unreadable on a phone


def settings_line(t: Texts, sub: Subscription) -> str:
    return t(
        "Language: {name} ({lang}). Digests at {times} ({tz}).",
        name=language_name(sub.lang),
        lang=sub.lang,
        times=", ".join(sub.times),
        tz=sub.tz,
    )


@guarded
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ensure_may_change(update, context)
    service = deps(context).service
    started = await service.subscribers.start(chat_of(update))
    t, sub = texts(started.subscription.lang), started.subscription
    story_id = start_story(argument(update)) if sub.kind == "private" else None
    if story_id is not None and started.status == "already":  # a deep link to a story: the article is the answer
        await send_linked_article(update, context, sub, story_id)
        return
    if started.status == "already":
        lines = [t("You are already subscribed.") + " " + settings_line(t, sub), t("/help lists what you can change.")]
    else:
        offered = ", ".join(await service.subscribers.languages())
        lines = [
            t("Welcome back!")
            if started.status == "reactivated"
            else t("Welcome! You are subscribed to the AI news digest."),
            settings_line(t, sub),
            t("Change the language with /lang CODE, e.g. /lang de (offered: {codes}).", codes=offered),
            t("Change the times with /schedule, e.g. /schedule 07:30 Europe/Rome."),
            t("/digest sends the latest news now; /help lists everything."),
        ]
    await reply(update, context, "\n".join(lines))
    if story_id is not None:
        await send_linked_article(update, context, sub, story_id)


@guarded
async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await ensure_may_change(update, context)
    stopped = await deps(context).service.subscribers.stop(chat_of(update))
    if stopped is None:
        t = await lang_of(update, context)
        await reply(update, context, t("You are not subscribed. /start subscribes you."))
        return
    t = texts(stopped.lang)
    await reply(
        update,
        context,
        t("You are unsubscribed, and your settings and delivery history are deleted. /start subscribes you again."),
    )


@guarded
async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    me, code = await subscriber(update, context), argument(update)
    offered = ", ".join(await me.service.subscribers.languages())
    if not code:
        await show_languages(update, context, me)
        return
    await ensure_may_change(update, context)
    try:
        sub = await me.service.subscribers.set_lang(me.chat, code)
    except LanguageNotOfferedError as e:
        await reply(
            update,
            context,
            me.t('I do not offer "{code}". Use one of: {codes}, e.g. /lang de.', code=e.code, codes=offered),
        )
        return
    t = texts(sub.lang)  # the confirmation in the new language
    await reply(update, context, t("Done: your digests now come in {name}.", name=language_name(sub.lang)))


@guarded
async def schedule(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    me, text = await subscriber(update, context), argument(update)
    t = me.t
    if not text:
        await show_schedules(update, context, me)
        return
    await ensure_may_change(update, context)
    try:
        sub = await me.service.subscribers.set_schedule(me.chat, text)
    except UsageError:
        await reply(
            update,
            context,
            t('I cannot read "{text}" as a schedule. Example: /schedule 07:30,18:00 Europe/Rome', text=text[:80]),
        )
        return
    upcoming = datetime.fromisoformat(sub.next_digest_at or "").astimezone(ZoneInfo(sub.tz)).strftime("%Y-%m-%d %H:%M")
    done = t(
        "Done: digests at {times} ({tz}). The next one: {next}.", times=", ".join(sub.times), tz=sub.tz, next=upcoming
    )
    await reply(update, context, done)


@guarded
async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    me, text = await subscriber(update, context), argument(update)
    t = me.t
    if not text:
        await show_topics(update, context, me)
        return
    await ensure_may_change(update, context)
    try:
        sub, _ = await me.service.subscribers.set_topics(me.chat, text)
    except UsageError:
        usage = t("Topics are words or phrases separated by commas (at most 20). Example: /topics OpenAI, open source")
        await reply(update, context, usage + "\n" + exclusion_hint(t))
        return
    wanted = ", ".join(topic for topic in sub.topics if not topic.startswith("-"))
    unwanted = ", ".join(topic[1:] for topic in sub.topics if topic.startswith("-"))
    if wanted and unwanted:
        done = t(
            "Done: you get only stories about {topics}, except those mentioning {words}.", topics=wanted, words=unwanted
        )
    elif unwanted:
        done = t("Done: you get every story except those mentioning {words}.", words=unwanted)
    else:
        done = t("Done: you get only stories about {topics}.", topics=wanted)
    await reply(update, context, done)


async def within_fair_use(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether this user may have another costly answer now; over the limit they are told once when to try again
    (in their language), and what they send until then is dropped."""
    user, chat = update.effective_user, update.effective_chat
    allowed, wait = deps(context).fair_use.check(user.id if user else chat.id if chat else 0)
    if not allowed and wait is not None:
        t = await lang_of(update, context)
        await reply(
            update,
            context,
            t.n(
                "You are going a little fast for me: please try again in {count} second.",
                "You are going a little fast for me: please try again in {count} seconds.",
                wait,
            ),
        )
    return allowed


@guarded
async def digest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await within_fair_use(update, context):
        return
    me = await subscriber(update, context)
    queued = await me.service.digests.digest_now(me.chat, request=str(update.update_id))
    if queued.parts:
        deps(context).sender.wake(urgent=True)  # the digest is the reply: it goes ahead of scheduled traffic
        return
    await reply(update, context, me.t("Nothing new since your last digest."))


@guarded
async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The feeds stories come from; for a subscriber, with a button per feed that switches it on or off for them."""
    service = deps(context).service
    feeds = [s for s in await service.feeds.sources() if s.enabled]
    listed = [(s.name, s.url, s.lang) for s in feeds]
    found = await service.subscribers.get(chat_of(update))
    if found is None or not found.active or not feeds:
        await reply_blocks(update, context, render_sources(listed, await lang_of(update, context)))
        return
    me = await subscriber(update, context)
    blocks = [
        *render_sources(listed, me.t),
        plain(me.t("Press a source to switch it off or on: ✅ on, ⬜ off, 🔇 muted.")),
    ]
    await reply_blocks(update, context, blocks, keyboard=sources_keyboard(await source_states(me)))


@guarded
async def trends(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/trends [DAYS]: a chart of the most told names and phrases, and a short table with their change."""
    t, text, service = await lang_of(update, context), argument(update), deps(context).service
    most = min(MAX_TREND_DAYS, service.trends.max_days)  # never further back than stories are kept
    if text and not (text.isdecimal() and 1 <= int(text) <= most):
        await reply(update, context, t("Usage: /trends or /trends DAYS (1 to {max})", max=most))
        return
    found = await service.subscribers.get(chat_of(update))
    report = await service.trends.report(days=int(text or 7), tz=found.tz if found else "UTC")
    if report.stories:
        title = chart_title(report, t)
        png = await service.trends.chart(report, title=title, ylabel=chart_ylabel(t), lang=t.lang)
        await reply_photo(update, context, png, title)
    await reply_blocks(update, context, trend_blocks(report, t))


@guarded
async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    admin = is_admin(update, deps(context).service.settings.admin_ids)
    await reply(update, context, help_text(await lang_of(update, context), admin=admin))


@guarded
async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    command, _, addressee = ((message.text or "").split() or ["?"])[0].partition("@") if message else ("?", "", "")
    ours = addressee.lower() == (context.bot.username or "").lower()
    if addressee and not ours:
        return  # a command for another bot in the same group: not ours to answer
    if chat is not None and chat.type != "private" and not ours:
        return  # in a group or channel, an unaddressed unknown command may well be another bot's
    t = await lang_of(update, context)
    await reply(update, context, t("I do not know {command}. /help lists what I can do.", command=command[:40]))


@guarded
async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION, or a plain message in a private chat: an answer from the stored stories, with citations."""
    message = update.effective_message
    question = (
        argument(update)
        if message is not None and (message.text or "").startswith("/")
        else (message.text if message else "")
    )
    t = await lang_of(update, context)
    if not (question or "").strip():
        await reply(update, context, t("Ask me about the news, for example: /ask What did OpenAI release this week?"))
        return
    if not await within_fair_use(update, context):
        return
    answer = await deps(context).service.ask.answer(question or "", lang=t.lang)
    await reply_blocks(update, context, render_answer(answer, t))


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup (Telegram says so in both chats): the subscription follows the new id."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    if await deps(context).service.subscribers.migrate(old, new):
        log.info("chat %s became supergroup %s: its subscriptions follow", old, new)
        deps(context).sender.wake()


async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was removed from (or banned in) a chat: its subscriptions there stop until a new /start."""
    change = update.my_chat_member
    if change is None or change.new_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        return
    if await deps(context).service.subscribers.left(change.chat.id, "removed from the chat"):
        log.info("removed from chat %s: its subscriptions are inactive", change.chat.id)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one error handler: the update id and the exception, never the token (it is not in either)."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed: %s", update_id, context.error, exc_info=context.error)
