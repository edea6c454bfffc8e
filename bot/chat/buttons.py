"""Inline buttons under digests and article views: 📖 opens the whole article, 👍 / 👎 / 🔇 under it say what the
reader thinks of it, and a last handler refuses whatever else is pressed. Callback data is never trusted (bot.render.keyboards reads it): the chat it was pressed in must hold an
active subscription that the story was delivered to. Every query is answered exactly once, at once; the slow work (a
translation) comes after the answer."""

from __future__ import annotations

import logging

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat.keyboards import markup
from bot.chat.replies import chat_of, deps, send_paced
from bot.errors import StaleChoiceError
from bot.i18n import Texts, texts
from bot.render.article import article_messages
from bot.render.keyboards import feedback_buttons, parse_press, story_link
from bot.service import Chat, Service, Subscription
from bot.service.articles import Viewed
from bot.service.subscribers import guess_language

log = logging.getLogger(__name__)


async def answer(query: CallbackQuery, text: str | None = None, *, url: str | None = None) -> None:
    """The one answer a query gets; a query already too old to answer is only logged."""
    try:
        await query.answer(text[:200] if text else None, url=url)
    except TelegramError as e:
        log.info("callback query %s could not be answered: %s", query.id, e)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press nobody may act on (forged, replayed, stale, for a story removed or a chat unsubscribed): one toast."""
    query = update.callback_query
    if query is None:
        return
    t = await _texts_for(update, context)
    await answer(query, t("This button no longer works here."))


async def open_article(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """📖 under a digest: the article in the reader's language, in this chat (private) or in the presser's private
    chat (a group), or a toast with the deep link when the presser has not started the bot."""
    query, service = update.callback_query, deps(context).service
    assert query is not None
    press = parse_press(query.data)
    sub = await service.subscribers.get(chat_of(update))
    story = await service.articles.story(press.story_id) if press and press.kind == "open" else None
    if (
        press is None
        or story is None
        or sub is None
        or not sub.active
        or not await service.articles.owed(sub.id, story.id)
    ):
        await refuse(update, context)
        return
    t, user = texts(sub.lang), update.effective_user
    if sub.kind == "private" or user is None:
        reader, target = sub, chat_of(update)
    else:
        private = await service.subscribers.get(Chat(user.id, kind="private"))
        if private is None or not private.active:
            await answer(
                query,
                t("Start a private chat with me and I send you the article there."),
                url=story_link(context.bot.username, story.id),
            )
            return
        reader, target = private, Chat(user.id, kind="private")
    t = texts(reader.lang)
    if reader is not sub:
        await answer(query, t("I am sending you the article in our private chat."))
    elif await service.articles.instant(story, reader.lang):
        await answer(query)  # nothing to wait for: no toast
    else:
        await answer(query, t("Translating…"))
    viewed = Viewed(sub.id, story.id, user.id if user else target.chat_id)
    await send_article(context, service, target, reader, story.id, viewed)


async def send_article(
    context: ContextTypes.DEFAULT_TYPE,
    service: Service,
    target: Chat,
    reader: Subscription,
    story_id: int,
    viewed: Viewed,
) -> None:
    """The article view's messages to `target`; the last one carries 👍 👎 🔇 and is remembered for them."""
    t = texts(reader.lang)
    story = await service.articles.story(story_id)
    if story is None:
        await send_paced(context, target, t("This story is no longer available."))
        return
    view = await service.articles.view(story, reader.lang)
    parts = article_messages(
        title=view.title,
        text=view.text,
        link=view.link,
        sources=view.sources,
        published=view.published,
        t=t,
        original_lang=None if view.translated else view.lang,
        note=view.note,
        teaser=view.teaser,
    )
    vote = await service.articles.vote_of(viewed)
    last = None
    for index, part in enumerate(parts):
        keyboard = markup(feedback_buttons(story.id, vote, t)) if index == len(parts) - 1 else None
        last = await send_paced(context, target, part, keyboard)
    if last is not None:
        await service.articles.record_view(target.chat_id, last.message_id, viewed)
    await service.articles.opened(viewed)


async def _texts_for(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Texts:
    service = deps(context).service
    try:
        found = await service.subscribers.get(chat_of(update))
    except Exception:  # a refusal must be answered even with the database locked
        found = None
    if found is not None:
        return texts(found.lang)
    user = update.effective_user
    return texts(guess_language(user.language_code if user else None, await service.subscribers.languages()))


async def send_linked_article(
    update: Update, context: ContextTypes.DEFAULT_TYPE, sub: Subscription, story_id: int
) -> None:
    """`/start story_<id>` (the deep link of a channel's or a group's 📖): the article in this private chat."""
    user = update.effective_user
    viewed = Viewed(sub.id, story_id, user.id if user else sub.chat_id)
    await send_article(context, deps(context).service, chat_of(update), sub, story_id, viewed)


async def vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎 under an article view: the vote of who pressed, for the subscription the view was opened from (a
    group's too); a second press changes it, and the buttons show the vote now standing."""
    query, service = update.callback_query, deps(context).service
    assert query is not None
    viewed = await _viewed(update, context, "vote")
    press = parse_press(query.data)
    if viewed is None or press is None:
        await refuse(update, context)
        return
    t = await _texts_for(update, context)
    try:
        await service.preferences.vote(viewed.subscription_id, viewed.user_id, viewed.story_id, press.value)
    except StaleChoiceError:  # the story or the subscription went since the view was sent
        await refuse(update, context)
        return
    standing = await service.preferences.vote_of(viewed.subscription_id, viewed.user_id, viewed.story_id)
    await answer(query, t("Noted: more like this.") if standing > 0 else t("Noted: fewer like this."))
    try:
        await query.edit_message_reply_markup(markup(feedback_buttons(viewed.story_id, standing, t)))
    except TelegramError as e:  # "message is not modified": the same vote again
        log.info("feedback buttons of %s unchanged: %s", viewed.story_id, e)


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """🔇 under an article view: the story's feed is muted for the subscription the view was opened from."""
    query, service = update.callback_query, deps(context).service
    assert query is not None
    viewed = await _viewed(update, context, "mute")
    story = await service.articles.story(viewed.story_id) if viewed is not None else None
    if viewed is None or story is None or not story.sources:
        await refuse(update, context)
        return
    t = await _texts_for(update, context)
    source = story.sources[0]
    try:
        await service.preferences.mute_feed(viewed.subscription_id, source.feed_id)
    except StaleChoiceError:
        await refuse(update, context)
        return
    name = source.feed_title or source.feed_url
    await answer(query, t("{source} is muted here. /sources turns it back on.", source=name[:80]))


async def _viewed(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str) -> Viewed | None:
    """The article view a 👍 👎 🔇 press sits under, if the press is one of ours, for that view's story, pressed by
    whoever opened it; None for anything else (forged, replayed elsewhere, the subscription stopped)."""
    query, service = update.callback_query, deps(context).service
    press = parse_press(query.data if query else None)
    message, user = query.message if query else None, update.effective_user
    if press is None or press.kind != kind or message is None or user is None:
        return None
    viewed = await service.articles.view_under(message.chat.id, message.message_id)
    if viewed is None or viewed.story_id != press.story_id or viewed.user_id != user.id:
        return None
    return viewed
