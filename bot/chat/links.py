"""A link, summarized: /summarize URL (anywhere) and, in a private chat, a message that is only an http(s) URL; and
the 📖 button under such a summary (callback data "p:<page id>"), which sends the page's whole text. Thin: parse,
one service call, render, reply."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.chat.handlers import within_fair_use
from bot.chat.handling import argument, guarded, lang_of
from bot.chat.replies import chat_of, deps, reply, reply_blocks
from bot.errors import PageError
from bot.i18n import texts
from bot.render.page import page_summary, page_text, parse_page_data, read_button, refusal

log = logging.getLogger(__name__)

# A private message that is one http(s) URL and nothing else is a page to summarize, not a question.
LINK_ONLY = re.compile(r"^\s*https?://\S+\s*$", re.IGNORECASE)


@guarded
async def summarize(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/summarize URL, or a private message that is only a link: the page summarized in the reader's language."""
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    url, t = argument(update) if text.startswith("/") else text.strip(), await lang_of(update, context)
    if not url:
        await reply(update, context, t("Usage: /summarize URL, e.g. /summarize https://example.com/news/story"))
        return
    if not await within_fair_use(update, context):
        return
    try:
        view = await deps(context).service.links.summarize(url, t.lang, chat_id=chat_of(update).chat_id)
    except PageError as e:
        log.info("page not summarized: %s", e)
        await reply(update, context, refusal(e.kind, t))
        return
    await reply_blocks(update, context, page_summary(view, t), keyboard=((read_button(view.page_id, t),),))


async def read_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """📖 under a page's summary: answered at once ("translating…" when the text is not ready), then the whole text.
    The data is never trusted: a page this chat did not ask for, or one forgotten since, gets a refusal toast."""
    query = update.callback_query
    if query is None:
        return
    answered, t = False, texts("en")
    try:
        t, links = await lang_of(update, context), deps(context).service.links
        page_id = parse_page_data(query.data)
        page = await links.readable(page_id, chat_of(update).chat_id) if page_id is not None else None
        if page is None:
            answered = True
            await query.answer(t("This page is no longer available here: send its link again."))
            return
        ready = await links.text_ready(page, t.lang)
        answered = True
        await query.answer(None if ready else t("Translating…"))
        await reply_blocks(update, context, page_text(await links.text_in(page, t.lang), t))
    except Exception:
        log.exception("update %s: opening a page failed", update.update_id)
        if not answered:
            with contextlib.suppress(TelegramError):
                await query.answer(t("Sorry, something went wrong on my side. Please try again in a minute."))
