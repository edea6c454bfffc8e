"""The aiohttp transport under python-telegram-bot: calls work, a stall is a TimedOut, a dead server a
NetworkError whose message carries no URL (the URL holds the token)."""

from __future__ import annotations

import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.chat.transport import AiohttpRequest
from tests.fakebotapi import TOKEN, FakeBotAPI


async def test_calls_timeouts_and_errors() -> None:
    with FakeBotAPI() as api:
        api.stall_sends = {1}
        bot = Bot(TOKEN, base_url=api.base_url, request=AiohttpRequest(pool_size=2, read_timeout=0.3))
        async with bot:
            assert (await bot.get_me()).username == "newsbot_test_bot"
            with pytest.raises(TimedOut):
                await bot.send_message(1, "stalls")
            api.release.set()
            assert (await bot.send_message(2, "<b>fine</b>", parse_mode="HTML")).text == "fine"
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    gone = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(pool_size=1, read_timeout=1))
    with pytest.raises(NetworkError) as refused:
        await gone.initialize()
    assert TOKEN not in str(refused.value) and "aiohttp.ClientConnectorError" in str(refused.value)
    await gone.shutdown()
