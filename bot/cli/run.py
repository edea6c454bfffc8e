"""`newsbot run`: the product. Poller, enrichment worker and Telegram bot in one process until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import warnings

import typer

from bot.cli.apps import app
from bot.cli.common import friendly
from bot.cli.poll import stop_on_signals
from bot.config import load_settings
from bot.errors import ConfigError
from bot.service import make_service


class RedactToken(logging.Filter):
    """Removes the bot token from every log line, tracebacks included: the Bot API puts it in every URL."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


@app.command()
@friendly
def run(ctx: typer.Context) -> None:
    """Run the bot: poll feeds, summarize, send digests, answer commands. Needs TELEGRAM_BOT_TOKEN."""
    settings = load_settings()
    token = settings.telegram_bot_token
    if not token:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram and export its token "
            "(`newsbot poll --once` and `newsbot digest` work without one)"
        )
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(RedactToken(token))
    if root.level > logging.INFO:
        logging.getLogger("bot").setLevel(logging.INFO)  # one line per poll, digest round and stop
    # With max_retries=0 the limiter logs every 429 with a traceback; the sender logs them in one line.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)

    from telegram.warnings import PTBDeprecationWarning

    from bot.chat.app import build_application, serve  # telegram is imported by this command only

    # python-telegram-bot 22 warns inside RetryAfter itself, at every 429, that retry_after will become a timedelta.
    warnings.filterwarnings("ignore", message=".*retry_after.*", category=PTBDeprecationWarning)

    async def main() -> None:
        service = make_service(settings)
        application = build_application(service, settings)
        stop = asyncio.Event()
        stop_on_signals(stop)
        await serve(application, stop)

    asyncio.run(main())
