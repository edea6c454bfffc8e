"""Fair use: 30 /ask in 10 s from one user get 10 answers and one polite reply (from the catalog, in the user's
language) saying when to try again; meanwhile another user's scheduled digest arrives on time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.i18n import texts
from bot.service import Chat
from bot.store.base import iso
from tests.chat.harness import running_bot
from tests.httpserver import FeedServer

FLOODER, READER = 90, 91
ASKED = 30


async def test_a_flood_of_questions_meets_the_limit_and_another_digest_is_on_time(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    async with running_bot(tmp_path, feed_server, user_limit="10/minute") as world:
        await world.publish([("a", "Nvidia reports record data center revenue")])
        await world.service.indexing.index()
        await world.say(FLOODER, "/start", language_code="it")
        await world.say(READER, "/start")
        reader = await world.service.subscribers.get(Chat(READER))
        assert reader is not None
        before, seen = len(world.api.messages_to(FLOODER)), len(world.api.messages_to(READER))

        due_at = None
        for n in range(ASKED):  # 3 a second for 10 s
            world.api.push_text(FLOODER, f"/ask Who reported record revenue? ({n})", language_code="it")
            if n == ASKED // 2:  # half way through the flood the reader's digest falls due
                due_at = time.monotonic()
                await world.service.ctx.db(
                    world.service.store.update_subscription,
                    reader.id,
                    datetime.now(UTC),
                    next_digest_at=iso(datetime.now(UTC) - timedelta(seconds=1)),
                )
            await asyncio.sleep(10 / ASKED)
        [digest] = await world.until(lambda: world.api.messages_to(READER)[seen:] or None)
        assert due_at is not None and "Nvidia" in digest.visible
        arrived = next(m for m in world.api.sent if m.chat_id == READER and "Nvidia" in m.text)
        assert arrived.at - due_at < 2.0  # rounds run every 0.2 s: the flood held nothing up

        await asyncio.sleep(1.0)  # let the last replies out
        replies = world.api.messages_to(FLOODER)[before:]
        limited = [m for m in replies if "riprova tra" in m.visible]
        answers = [m for m in replies if "[1]" in m.visible]
        assert len(answers) == 10 and len(limited) == 1 and len(replies) == 11  # told once, the rest dropped
        [told] = limited
        seconds = int(told.visible.rsplit(" ", 2)[-2])
        assert 40 <= seconds <= 60  # the first answer's minute is not over yet
        assert told.visible == texts("it").n(
            "You are going a little fast for me: please try again in {count} second.",
            "You are going a little fast for me: please try again in {count} seconds.",
            seconds,
        )
