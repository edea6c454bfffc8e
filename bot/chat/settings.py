"""Settings by buttons: the keyboards under /lang, /sources, /schedule and /topics (built by bot.render.settings) and
the one CallbackQueryHandler for their presses. A press is never trusted: it acts on the chat it was pressed in,
only for a subscribed chat and (in a group) an administrator, and only on what still exists; anything else gets a
short refusal and changes nothing. Every press is answered exactly once, before the keyboard is edited."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.chat.handling import Asker, lang_of
from bot.chat.keyboards import markup
from bot.chat.replies import chat_of, deps, reply_blocks
from bot.errors import StaleChoiceError, UsageError
from bot.i18n import N_, Texts, texts
from bot.render.settings import (
    PATTERN,
    Choice,
    ClearTopics,
    DropTopic,
    Keyboard,
    SetLang,
    SetSchedule,
    SetSource,
    SourceState,
    language_keyboard,
    language_name,
    parse_choice,
    schedule_keyboard,
    sources_keyboard,
    topic_check,
    topics_keyboard,
)
from bot.render.spans import plain

log = logging.getLogger(__name__)


async def source_states(me: Asker) -> list[SourceState]:
    found = await me.service.preferences.sources(me.subscription.id)
    return [SourceState(s.feed_id, s.name, s.on, s.muted) for s in found]


async def show_languages(update: Update, context: ContextTypes.DEFAULT_TYPE, me: Asker) -> None:
    """/lang without a code: the offered languages as buttons."""
    offered = await me.service.subscribers.languages()
    sub = me.subscription
    text = me.t(
        "Your language is {name} ({lang}). Change it with /lang CODE; offered: {codes}.",
        name=language_name(sub.lang),
        lang=sub.lang,
        codes=", ".join(offered),
    )
    await reply_blocks(update, context, [plain(text)], keyboard=language_keyboard(offered, sub.lang))


async def show_schedules(update: Update, context: ContextTypes.DEFAULT_TYPE, me: Asker) -> None:
    """/schedule without an argument: the current times, presets as buttons, and the text form."""
    t, sub = me.t, me.subscription
    now = t("Digests come at {times} ({tz}).", times=", ".join(sub.times), tz=sub.tz)
    text = now + " " + t("Change them like this: /schedule 07:30,18:00 Europe/Rome")
    text += "\n" + t("Or press one of these times ({tz}):", tz=sub.tz)
    await reply_blocks(update, context, [plain(text)], keyboard=schedule_keyboard(sub.times))


async def show_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, me: Asker) -> None:
    """/topics without an argument: the current topics, each with a ❌, and how to set them."""
    t, topics = me.t, me.subscription.topics
    if not topics:
        text = t("You get every story. To narrow them: /topics OpenAI, open source")
        await reply_blocks(update, context, [plain(text + "\n" + exclusion_hint(t))])
        return
    text = t("Your topics: {topics}. Press ❌ to remove one.", topics=", ".join(topics))
    await reply_blocks(update, context, [plain(text)], keyboard=topics_keyboard(topics, t))


def exclusion_hint(t: Texts) -> str:
    return t("Start one with - to leave out the stories that mention it: /topics -crypto")


async def on_choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A settings button was pressed: check, act, answer once, then show the new state in the keyboard."""
    query = update.callback_query
    if query is None:
        return
    service, chat = deps(context).service, chat_of(update)
    refusal = N_("This button no longer works: send the command again.")
    toast, keyboard = texts("en")(refusal), None
    try:  # whatever happens from here (a locked database, say), the press is answered once
        found = await service.subscribers.get(chat)
        t = texts(found.lang) if found is not None else await lang_of(update, context)
        toast = t(refusal)
        choice = parse_choice(query.data or "")
        if choice is None or found is None or not found.active:
            return
        if not await deps(context).admins.may_change(context.bot, update):
            toast = t("Only this group's administrators can change its subscription.")
            return
        me = Asker(service, chat, found, t)
        try:
            toast, keyboard = await _apply(me, choice)
        except (StaleChoiceError, UsageError) as e:
            log.info("settings button refused in chat %s: %s", chat.chat_id, e)
    finally:
        await query.answer(toast[:200])
    if keyboard is not None:
        try:
            await query.edit_message_reply_markup(markup(keyboard))
        except BadRequest as e:  # the same state shown already (a double press): nothing to edit
            log.debug("keyboard not edited: %s", e)


async def _apply(me: Asker, choice: Choice) -> tuple[str, Keyboard]:
    service, sub = me.service, me.subscription
    if isinstance(choice, SetLang):
        changed = await service.subscribers.set_lang(me.chat, choice.lang)
        name = language_name(changed.lang)
        keyboard = language_keyboard(await service.subscribers.languages(), changed.lang)
        return texts(changed.lang)("Done: your digests now come in {name}.", name=name), keyboard
    if isinstance(choice, SetSource):
        await service.preferences.set_source(sub.id, choice.feed_id, choice.on)
        states = await source_states(me)
        [name] = [s.name for s in states if s.feed_id == choice.feed_id] or ["?"]
        done = me.t("Switched on: {name}.", name=name) if choice.on else me.t("Switched off: {name}.", name=name)
        return done, sources_keyboard(states)
    if isinstance(choice, SetSchedule):
        changed = await service.subscribers.set_schedule(me.chat, f"{','.join(choice.times)} {sub.tz}")
        return me.t(
            "Done: digests at {times} ({tz}).", times=", ".join(changed.times), tz=changed.tz
        ), schedule_keyboard(changed.times)
    remaining = _without(sub.topics, choice)
    changed, _ = await service.subscribers.set_topics(me.chat, ", ".join(remaining))
    if not changed.topics:
        return me.t("Topics cleared: you get every story (before: {topics}).", topics=", ".join(sub.topics)), ()
    return me.t("Your topics: {topics}. Press ❌ to remove one.", topics=", ".join(changed.topics)), topics_keyboard(
        changed.topics, me.t
    )


def _without(topics: Sequence[str], choice: DropTopic | ClearTopics) -> list[str]:
    if isinstance(choice, ClearTopics):
        return []
    if choice.index >= len(topics) or topic_check(topics[choice.index]) != choice.check:
        raise StaleChoiceError(f"topic {choice.index} is not the one the button was made for")
    return [topic for index, topic in enumerate(topics) if index != choice.index]


def handler() -> CallbackQueryHandler[ContextTypes.DEFAULT_TYPE, None]:
    """The settings buttons' handler, for their data prefixes only (other buttons have handlers of their own)."""
    return CallbackQueryHandler(on_choice, pattern=PATTERN)
