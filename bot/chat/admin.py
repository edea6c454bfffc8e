"""Admin commands (NEWSBOT_ADMIN_IDS, in a private chat with the bot): the feed list and its state, feed edits through
the same service calls as `newsbot feeds ...`, health, subscribers. Everyone else gets a polite refusal."""

from __future__ import annotations

import logging
from functools import wraps

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat.handling import Handler, argument, guarded, lang_of
from bot.chat.permissions import is_admin
from bot.chat.replies import deps, reply, reply_blocks
from bot.errors import ConfigError, FeedError, UnknownFeedError
from bot.render.admin import feeds_page, health_blocks, status, subscriber_blocks
from bot.service import Chat

log = logging.getLogger(__name__)


def admin_only(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_admin(update, deps(context).service.settings.admin_ids):
            user = update.effective_user
            log.info("admin command refused for user %s", user.id if user else None)
            t = await lang_of(update, context)
            await reply(update, context, t("Sorry, this command is only for the bot's administrators."))
            return
        await handler(update, context)

    return guarded(wrapper)


@admin_only
async def feeds(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    service, t = deps(context).service, await lang_of(update, context)
    page = argument(update)
    rows = await service.feeds.all()
    blocks, _ = feeds_page(rows, await service.feeds.recent_problems(), int(page) if page.isdigit() else 1, t)
    await reply_blocks(update, context, blocks)


@admin_only
async def addfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    url, t = argument(update), await lang_of(update, context)
    if not url:
        await reply(update, context, t("Usage: /addfeed https://example.com/feed.xml"))
        return
    try:
        # http(s) only: file:// is for the command line, whatever NEWSBOT_ALLOW_PRIVATE_URLS says.
        feed = await deps(context).service.feeds.add(url, allow_file=False)
    except (ConfigError, FeedError) as e:
        await reply(update, context, t("Not added: {reason}", reason=str(e)))
        return
    await reply(update, context, t("Added feed {id}: {name}", id=feed.id, name=feed.name))


async def _edit(update: Update, context: ContextTypes.DEFAULT_TYPE, usage: str, action: str) -> None:
    feed_id, t = argument(update), await lang_of(update, context)
    if not feed_id:
        await reply(update, context, t("Usage: {usage} ID (the numbers /feeds shows)", usage=usage))
        return
    service = deps(context).service
    try:
        if action == "remove":
            feed = await service.feeds.remove(feed_id)
            await reply(update, context, t("Removed feed {id}: {name}", id=feed.id, name=feed.name))
            return
        feed = await service.feeds.set_enabled(feed_id, action == "resume")
    except UnknownFeedError:
        await reply(update, context, t("There is no feed {id}: /feeds lists them.", id=feed_id[:40]))
        return
    await reply(
        update, context, t("Feed {id} is now {status}: {name}", id=feed.id, status=status(feed, t), name=feed.name)
    )


@admin_only
async def rmfeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _edit(update, context, "/rmfeed", "remove")


@admin_only
async def pausefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _edit(update, context, "/pausefeed", "pause")


@admin_only
async def resumefeed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _edit(update, context, "/resumefeed", "resume")


@admin_only
async def health(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    report = await deps(context).service.health.report()
    await reply_blocks(update, context, health_blocks(report, await lang_of(update, context)))


@admin_only
async def subs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    words = argument(update).split()
    if words[:1] == ["add"]:
        await _add_channel(update, context, words[1] if len(words) > 1 else "")
        return
    counts = await deps(context).service.subscribers.counts()
    await reply_blocks(update, context, subscriber_blocks(counts, await lang_of(update, context)))


async def _add_channel(update: Update, context: ContextTypes.DEFAULT_TYPE, name: str) -> None:
    """/subs add @channel: the bot must be an administrator there that may post; then the channel is subscribed."""
    t = await lang_of(update, context)
    if not name.startswith("@") or len(name) < 2:
        await reply(update, context, t("Usage: /subs add @channelname"))
        return
    try:
        chat = await context.bot.get_chat(name)
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except TelegramError as e:
        log.info("channel %s not found: %s", name, e)
        await reply(update, context, t("I cannot find {channel}: check the name.", channel=name))
        return
    if chat.type != ChatType.CHANNEL:
        await reply(update, context, t("{channel} is not a channel.", channel=name))
        return
    if member.status != ChatMemberStatus.ADMINISTRATOR or not getattr(member, "can_post_messages", False):
        await reply(
            update,
            context,
            t(
                "I am not an administrator of {channel} who may post: add me as one, then try again.",
                channel=name,
            ),
        )
        return
    started = await deps(context).service.subscribers.start(Chat(chat.id, kind="channel", title=chat.title or name))
    if started.status == "already":
        await reply(update, context, t("{channel} is already subscribed.", channel=name))
        return
    sub = started.subscription
    await reply(
        update,
        context,
        t("Subscribed {channel}: digests at {times} ({tz}).", channel=name, times=", ".join(sub.times), tz=sub.tz),
    )
