"""The Telegram Application, wired like python-telegram-bot's own examples, and its lifecycle in `newsbot run`:
poller and enrichment worker, JobQueue digest rounds, outbox sender, long polling; a clean stop on request."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection, Sequence
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.chat import admin, buttons, handlers, links
from bot.chat import settings as settings_buttons
from bot.chat.commands import menu
from bot.chat.fairuse import FairUse
from bot.chat.pacing import ChatPacer, sends_in_flight
from bot.chat.permissions import GroupAdmins
from bot.chat.replies import Deps, deps
from bot.chat.sender import Sender
from bot.chat.transport import AiohttpRequest
from bot.config import Settings, listen_address
from bot.errors import ConfigError, NewsbotError
from bot.i18n import texts
from bot.render.keyboards import MUTE_PATTERN, OPEN_PATTERN, VOTE_PATTERN
from bot.service import Service

log = logging.getLogger(__name__)

DIGEST_ROUND_SECONDS = 30.0  # how often the JobQueue looks for subscribers whose slot has come
LONG_POLL_SECONDS = 10  # getUpdates timeout
SEND_TIMEOUT = 20.0  # read timeout for a send: a slow answer is not a failed send (retrying it would duplicate)


# Subscribers' commands, then the admins' (they refuse everyone else themselves).
COMMAND_HANDLERS = (
    ("start", handlers.start),
    ("stop", handlers.stop),
    ("lang", handlers.lang),
    ("schedule", handlers.schedule),
    ("topics", handlers.topics),
    ("digest", handlers.digest),
    ("sources", handlers.sources),
    ("ask", handlers.ask),
    ("trends", handlers.trends),
    ("help", handlers.help_command),
    ("summarize", links.summarize),
    ("feeds", admin.feeds),
    ("addfeed", admin.addfeed),
    ("rmfeed", admin.rmfeed),
    ("pausefeed", admin.pausefeed),
    ("resumefeed", admin.resumefeed),
    ("health", admin.health),
    ("subs", admin.subs),
)
# Inline buttons by the prefix of their callback data (bot/render/keyboards.py). Whatever no pattern takes (forged
# data, a button of an older version) is refused by the last handler: every query is answered once.
CALLBACK_HANDLERS = (
    (OPEN_PATTERN, buttons.open_article),
    (VOTE_PATTERN, buttons.vote),
    (MUTE_PATTERN, buttons.mute),
    (r"^p:", links.read_page),  # the 📖 under a summarized page
)


def build_application(service: Service, settings: Settings) -> Application:
    token = settings.telegram_bot_token
    if not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram and export its token "
            "(`newsbot poll --once` and `newsbot digest` work without one)"
        )
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.send_rate,
                overall_time_period=1,
                group_max_rate=settings.group_rate,
                group_time_period=60,
                max_retries=0,  # our sender retries, by its own policy
            )
        )
        .concurrent_updates(True)  # one user's slow /digest never holds up another user's /help
        .request(AiohttpRequest(pool_size=sends_in_flight(settings.send_rate) + 4, read_timeout=SEND_TIMEOUT))
        .get_updates_request(AiohttpRequest(pool_size=1, read_timeout=10.0))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    pacer = ChatPacer(settings.chat_rate)
    application.bot_data["newsbot"] = Deps(
        service,
        Sender(application.bot, service, pacer, send_rate=settings.send_rate),
        pacer,
        GroupAdmins(),
        FairUse(settings.user_limit),
    )
    # New messages and channel posts; an edited "/digest" is not a second request.
    fresh = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
    for name, callback in COMMAND_HANDLERS:
        application.add_handler(CommandHandler(name, callback, filters=fresh))
    application.add_handler(settings_buttons.handler())  # the settings buttons (data "s…:")
    for pattern, on_press in CALLBACK_HANDLERS:
        application.add_handler(CallbackQueryHandler(on_press, pattern=pattern))
    application.add_handler(CallbackQueryHandler(buttons.refuse))  # last: whatever no handler above takes
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, handlers.migrated))
    application.add_handler(ChatMemberHandler(handlers.membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.COMMAND & fresh, handlers.unknown_command))
    private_text = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & fresh
    # A private message that is only a link is a page to summarize; any other is a question (the first match wins).
    application.add_handler(MessageHandler(private_text & filters.Regex(links.LINK_ONLY), links.summarize))
    application.add_handler(MessageHandler(private_text, handlers.ask))
    application.add_error_handler(handlers.on_error)
    return application


async def _post_init(application: Application) -> None:
    """Register the command menu: English for every client language without its own, then one per offered language
    in that language (English until it has a catalog), so Telegram shows each user the menu in theirs."""
    bot, service = application.bot, deps_of(application).service
    service.digests.bot_username = bot.username  # channels' 📖 buttons link to the bot's deep link
    codes = [None, *(await service.engines.config()).languages]  # None: every client language without its own
    for code in codes:
        await bot.set_my_commands(_commands(code), language_code=code)
    await _admin_menus(bot, service.settings.admin_ids, await service.subscribers.former_admins(), codes)


async def _admin_menus(
    bot: Bot, admin_ids: Collection[int], former: Collection[int], codes: Sequence[str | None]
) -> None:
    """Each admin's private chat lists the admin commands too, the same way: a chat's own menu outranks everyone's in
    any language, so it is set per offered language as well. Telegram refuses a menu for a user who has not started
    the bot yet: logged, and the next start tries again. Telegram keeps a chat's menu until it is deleted: those of
    users no longer in NEWSBOT_ADMIN_IDS are."""
    menus = {code: _commands(code, admin=True) for code in codes}
    for admin_id in sorted(admin_ids):
        try:
            for code, menu_of_code in menus.items():
                await bot.set_my_commands(menu_of_code, scope=BotCommandScopeChat(admin_id), language_code=code)
        except TelegramError as e:
            log.warning("no admin command menu for user %s (has the user started the bot?): %s", admin_id, e)
    for user_id in former:
        try:
            for code in codes:
                await bot.delete_my_commands(scope=BotCommandScopeChat(user_id), language_code=code)
        except TelegramError as e:
            log.warning("could not take the admin command menu from former admin %s: %s", user_id, e)


def _commands(code: str | None, *, admin: bool = False) -> list[BotCommand]:
    """The menu in language `code`; in English for None (every client language without a menu of its own)."""
    return [BotCommand(command, description) for command, description in menu(texts(code or "en"), admin=admin)]


async def _post_shutdown(application: Application) -> None:
    await deps_of(application).service.aclose()


def deps_of(application: Application) -> Deps:
    found: Deps = application.bot_data["newsbot"]
    return found


async def _digest_round(context: ContextTypes.DEFAULT_TYPE) -> None:
    found = deps(context)
    try:
        report = await found.service.digests.run_due()
    except NewsbotError as e:
        log.error("digest round failed: %s", e)
        return
    if report.messages:
        found.sender.wake()


async def _start_updates(application: Application, found: Deps) -> None:
    """Long polling, or with NEWSBOT_WEBHOOK_URL a webhook: Telegram posts updates to that URL (a reverse proxy
    forwards them to NEWSBOT_WEBHOOK_LISTEN) with the secret token; any other request gets 403."""
    assert application.updater is not None
    settings = found.service.settings
    if not settings.webhook_url:
        await application.updater.start_polling(timeout=LONG_POLL_SECONDS, allowed_updates=Update.ALL_TYPES)
        return
    host, port = listen_address(settings.webhook_listen)
    await application.updater.start_webhook(
        listen=host,
        port=port,
        url_path=re.escape(urlsplit(settings.webhook_url).path.lstrip("/")),  # python-telegram-bot reads a regex
        webhook_url=settings.webhook_url,
        secret_token=await found.service.subscribers.webhook_secret(),
        allowed_updates=Update.ALL_TYPES,
    )
    log.info("receiving updates by webhook on %s:%d", host, port)


async def serve(
    application: Application, stop: asyncio.Event, *, tick: float = 30.0, digest_round: float = DIGEST_ROUND_SECONDS
) -> None:
    """Run everything until `stop`, in run_polling's order: initialize, post_init, poll, start ... stop, shutdown.

    On stop: no new updates are taken, the sends in flight finish and are recorded, the workers end between
    batches, the database is closed. Returns normally (exit code 0).
    """
    found = deps_of(application)
    worker_stop = asyncio.Event()
    await application.initialize()
    try:
        await _post_init(application)
        assert application.updater is not None and application.job_queue is not None
        await _start_updates(application, found)
        await application.start()
        application.job_queue.run_repeating(_digest_round, interval=digest_round, first=0.5, name="digest round")
        workers = [
            asyncio.create_task(found.service.run_pipeline(worker_stop, tick=tick), name="poller+enrichment"),
            asyncio.create_task(found.sender.run(worker_stop), name="outbox sender"),
            asyncio.create_task(found.service.health.beat_forever(worker_stop, every=tick), name="heartbeat"),
        ]
        log.info("newsbot is running")
        await stop.wait()
        log.info("stopping: finishing the sends in flight")
        await application.updater.stop()
        worker_stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        await application.stop()
    finally:
        worker_stop.set()
        await application.shutdown()
        await _post_shutdown(application)
