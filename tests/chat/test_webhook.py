"""Webhook mode: the webhook is registered with a kept secret; an update with it is answered through the fake
Bot API, one with a wrong or missing secret gets 403 and no reply."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from tests.chat.harness import running_bot
from tests.fakebotapi import FakeBotAPI
from tests.httpserver import FeedServer


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def update(update_id: int, chat_id: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Ada"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ada", "language_code": "en"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


async def test_webhook_updates_need_the_secret(tmp_path: Path, feed_server: FeedServer) -> None:
    port = free_port()
    api = FakeBotAPI()
    hook = f"http://127.0.0.1:{port}/telegram-hook"
    settings = {"webhook_url": "https://bot.example/telegram-hook", "webhook_listen": f"127.0.0.1:{port}"}
    async with running_bot(tmp_path, feed_server, api=api, **settings) as world:
        registered = api.webhook
        assert registered is not None and registered["url"] == "https://bot.example/telegram-hook"
        secret = str(registered["secret_token"])
        assert len(secret) >= 32 and api.calls_of("getUpdates") == []
        async with httpx.AsyncClient() as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                refused = await client.post(hook, json=update(1, 77, "/help"), headers=headers)
                assert refused.status_code == 403
            accepted = await client.post(
                hook, json=update(2, 78, "/help"), headers={"X-Telegram-Bot-Api-Secret-Token": secret}
            )
            assert accepted.status_code == 200
        [answer] = await world.until(lambda: api.messages_to(78) or None)
        assert "/digest" in answer.visible and api.messages_to(77) == []
    again = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=again, **settings):  # a restart registers the kept secret
        assert again.webhook is not None and again.webhook["secret_token"] == secret
