"""Delivery when Telegram pushes back: 429s honoured, a blocked chat deactivated, 5xx retried, a refused message
recorded and not retried, and the configured rates kept (the fake Telegram answers 429 when they are not)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from bot.errors import StorageError
from tests.chat.harness import due_subscribers, running_bot
from tests.fakebotapi import FakeBotAPI
from tests.httpserver import FeedServer


async def test_429_three_times_then_ok_delivers_every_message_exactly_once(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.publish([("a", "Story A"), ("b", "Story B")])
        api.fail(429, "Too Many Requests: retry after 1", retry_after=1, times=3)
        chats = list(range(101, 131))  # more chats than send slots: some wait for a slot when the 429s come
        await due_subscribers(world, chats)
        await world.until(lambda: world.service.store.outbox_counts() == {"sent": 30}, timeout=20)
        assert [len(api.messages_to(chat)) for chat in chats] == [1] * 30
        refused = [c for c in api.calls_of("sendMessage") if c.status == 429]
        assert len(refused) == 3
        # Honoured: after a 429 no new send arrives until the second Telegram asked for has passed (sends arriving
        # within 50 ms were already on their way).
        for refusal in refused:
            early = [c for c in api.calls_of("sendMessage") if refusal.at + 0.05 < c.at < refusal.at + 0.9]
            assert not early, (refusal, early)


async def test_a_blocked_chat_is_deactivated_and_the_others_are_served(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.publish([("a", "Story A")])
        api.block(202)
        api.fail(502, "Bad Gateway", chat_id=203)  # a 5xx is retried
        api.fail(400, "Bad Request: can't parse entities: unsupported start tag", chat_id=204)  # a refusal is not
        await due_subscribers(world, [201, 202, 203, 204])
        await world.until(lambda: len(api.messages_to(201)) == 1 and len(api.messages_to(203)) == 1, timeout=20)
        states = await world.settled_outbox()
        by_chat = {key.split(":")[0]: value for key, value in states.items()}
        subs = {c: await world.service.subscribers.get(_chat(c)) for c in (201, 202, 203, 204)}
        assert by_chat[str(subs[202].id)][0] == "dropped" and "blocked" in (by_chat[str(subs[202].id)][2] or "")  # type: ignore[union-attr]
        assert not subs[202].active and subs[202].inactive_reason.startswith("blocked")  # type: ignore[union-attr]
        assert subs[201].active and subs[203].active and subs[204].active  # type: ignore[union-attr]
        assert by_chat[str(subs[203].id)][0] == "sent"  # type: ignore[union-attr]
        assert by_chat[str(subs[204].id)] == ("failed", None, "BadRequest: Can't parse entities: unsupported start tag")  # type: ignore[union-attr]
        assert len([c for c in api.calls_of("sendMessage") if c.params["chat_id"] == 204]) == 1
        # A later /start reactivates the blocked subscriber.
        api.forbidden.discard(202)
        [welcome] = await world.say(202, "/start")
        assert welcome.visible.startswith("Welcome back!")
        assert (await world.service.subscribers.get(_chat(202))).active  # type: ignore[union-attr]


async def test_the_configured_rates_are_kept(tmp_path: Path, feed_server: FeedServer) -> None:
    """60 subscribers, one of them with a three-part digest: the fake Telegram enforces 25/s overall and 2/s per chat."""
    # Arrival jitter forgiven: 0.25 s, since on a loaded box sends released 0.5 s apart can arrive bunched; without
    # pacing they would be 0.04 s apart.
    api = FakeBotAPI(rate=25, chat_rate=2, slack=0.05, jitter=0.25)
    async with running_bot(tmp_path, feed_server, api=api, send_rate=25, chat_rate=2) as world:
        long_items = [
            (f"s{i}", f"Story {i} " + "with a title long enough to need more messages " * 4) for i in range(40)
        ]
        await world.publish(long_items)
        await due_subscribers(world, list(range(300, 360)))
        await world.until(lambda: world.service.store.outbox_counts().get("sent", 0) >= 60, timeout=60)
        await world.until(lambda: not world.service.store.outbox_counts().get("pending"), timeout=60)
        assert api.too_fast == 0, api.too_fast_for
        assert all(c.status == 200 for c in api.calls_of("sendMessage"))
        total = world.service.store.outbox_counts()["sent"]
        sends = api.calls_of("sendMessage")
        assert total == len(sends) >= 60
        per_chat = api.messages_to(300)
        assert len(per_chat) >= 2
        assert all(b.at - a.at >= 0.45 for a, b in itertools.pairwise(per_chat))


async def test_one_chats_digest_parts_are_spaced_by_the_per_chat_rate(tmp_path: Path, feed_server: FeedServer) -> None:
    """One subscriber and nothing else to send: the bot-wide rate never binds, so only the per-chat pacing keeps the
    parts of a long digest apart (the fake Telegram answers 429 to a chat sent to faster than 4/s)."""
    api = FakeBotAPI(chat_rate=4, slack=0.05)
    async with running_bot(tmp_path, feed_server, api=api, send_rate=25, chat_rate=4, digest_max_stories=40) as world:
        long_items = [
            (f"s{i}", f"Story {i} " + "with a title long enough to need more messages " * 4) for i in range(40)
        ]
        await world.publish(long_items)
        await due_subscribers(world, [700])
        await world.until(lambda: world.service.store.outbox_counts().get("sent", 0) >= 3, timeout=20)
        await world.until(lambda: not world.service.store.outbox_counts().get("pending"), timeout=20)
        parts = api.messages_to(700)
        assert len(parts) >= 3, "the digest was meant to need several messages"
        assert api.too_fast == 0, f"sent to the chat faster than 4/s: {api.too_fast_for}"
        assert [c.status for c in api.calls_of("sendMessage")] == [200] * len(parts)
        gaps = [round(b.at - a.at, 3) for a, b in itertools.pairwise(parts)]
        assert all(gap >= 0.22 for gap in gaps), gaps  # 1/4 s apart, less the fake's arrival jitter


async def test_a_reply_that_meets_a_429_is_sent_again_after_the_wait_telegram_asked_for(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api) as world:
        api.fail(429, "Too Many Requests: retry after 1", retry_after=1, chat_id=800)
        [help_text] = await world.say(800, "/help")
        assert "/ask" in help_text.visible
        refused, retried = api.calls_of("sendMessage")
        assert (refused.status, retried.status) == (429, 200)
        waited = retried.at - refused.at
        assert waited >= 0.95, f"the reply was sent again {waited:.3f} s after a 429 that asked for 1 s"


def _chat(chat_id: int):  # type: ignore[no-untyped-def]
    from bot.service import Chat

    return Chat(chat_id)


async def test_a_send_that_cannot_be_recorded_is_not_sent_again(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api) as world:
        store = world.service.store
        real_mark, real_next = store.mark_sent, store.next_attempt_due
        failures = {"mark": 3, "next": 2}

        def flaky_mark(*args: object, **kwargs: object) -> None:
            if failures["mark"]:
                failures["mark"] -= 1
                raise StorageError("database newsbot.db: database or disk is full")
            real_mark(*args, **kwargs)  # type: ignore[arg-type]

        def flaky_next() -> str | None:
            if failures["next"]:
                failures["next"] -= 1
                raise StorageError("database newsbot.db: database is locked")
            return real_next()

        monkeypatch.setattr(store, "mark_sent", flaky_mark)
        monkeypatch.setattr(store, "next_attempt_due", flaky_next)
        await world.publish([("a", "Story A")])
        await due_subscribers(world, [501])
        await world.until(lambda: store.outbox_counts() == {"sent": 1}, timeout=20)
        await world.until(lambda: failures["next"] == 0, timeout=20)  # the idle sender's look failed twice too
        await asyncio.sleep(1.5)  # more looks at the outbox: nothing goes out twice
        assert len(api.messages_to(501)) == 1
        await due_subscribers(world, [502])  # and the sender, which lived through it all, still sends
        await world.until(lambda: api.messages_to(502), timeout=20)


async def test_a_digest_asked_for_during_a_fan_out_goes_ahead_of_it(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api, send_rate=10) as world:
        await world.publish([("a", "Story A")])
        await world.say(600, "/start")
        await due_subscribers(world, list(range(601, 661)))  # 60 messages at 10/s: six seconds of digests
        await world.until(lambda: len(api.sent) > 10)
        served_before = len(api.sent)
        [reply] = await world.say(600, "/digest", timeout=5)
        assert "Story A" in reply.visible
        assert len(api.sent) - served_before < 20, "the reply waited behind the fan-out"
