"""Groups, supergroup migration, removal, forum topics and channels through the running bot and the fake Bot API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.service import Chat
from bot.store.base import iso
from tests.chat.harness import BotWorld, running_bot
from tests.fakebotapi import FakeBotAPI
from tests.httpserver import FeedServer

GROUP, ADMIN, MEMBER = -1001234, 7, 8


async def make_due(world: BotWorld, chat: Chat) -> None:
    sub = await world.service.subscribers.get(chat)
    assert sub is not None
    now = datetime.now(UTC)
    await world.service.ctx.db(
        world.service.store.update_subscription, sub.id, now, next_digest_at=iso(now - timedelta(minutes=1))
    )


async def test_a_group_is_changed_by_its_admins_only(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    api.admins[GROUP] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        in_group = {"chat_type": "supergroup"}
        [refused] = await world.say(GROUP, "/start", user_id=MEMBER, **in_group)
        assert "Only this group's administrators" in refused.visible
        assert await world.service.subscribers.get(Chat(GROUP)) is None
        [welcome] = await world.say(GROUP, "/start@newsbot_test_bot", user_id=ADMIN, language_code="it", **in_group)
        assert welcome.visible.startswith("Benvenuto!")
        sub = await world.service.subscribers.get(Chat(GROUP))
        assert sub is not None and (sub.kind, sub.lang) == ("supergroup", "it")

        [no] = await world.say(GROUP, "/lang de", user_id=MEMBER, **in_group)
        assert "amministratori" in no.visible  # refused, in the group's language
        assert (await world.service.subscribers.get(Chat(GROUP))).lang == "it"  # type: ignore[union-attr]
        [shown] = await world.say(GROUP, "/lang", user_id=MEMBER, **in_group)  # looking is not changing
        assert "Italiano" in shown.visible

        await world.publish([("a", "Group news")])
        before = len(api.messages_to(GROUP))
        api.push_text(GROUP, "/digest@otherbot", user_id=MEMBER, **in_group)
        [digest] = await world.say(GROUP, "/digest@newsbot_test_bot", user_id=MEMBER, **in_group)
        assert "Group news" in digest.visible
        await asyncio.sleep(0.3)
        assert len(api.messages_to(GROUP)) == before + 1  # the other bot's command got nothing from us


@pytest.mark.parametrize("told_by", ["migration update", "refused send"])
async def test_migration_to_a_supergroup_moves_everything(
    tmp_path: Path, feed_server: FeedServer, told_by: str
) -> None:
    """Telegram says so in both chats, or (the update missed) refuses the next send to the old id: either way the
    subscription and its queued message follow the new id and the digest goes there, once."""
    old, new = -4001, -1004001
    api = FakeBotAPI()
    api.admins[old] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.say(old, "/start", user_id=ADMIN, chat_type="group")
        await world.publish([("a", "Before the upgrade")])
        if told_by == "migration update":
            api.push_migration(old, new)
            await world.until(lambda: world.service.store.get_subscription(new, 0))
            await make_due(world, Chat(new))
        else:
            api.migrated[old] = new
            await make_due(world, Chat(old))
        [digest] = await world.until(lambda: api.messages_to(new) or None)
        assert "Before the upgrade" in digest.visible and len(api.messages_to(old)) == 1  # just the welcome
        moved = world.service.store.get_subscription(new, 0)
        assert moved is not None and moved.kind == "supergroup" and world.service.store.get_subscription(old, 0) is None
        states = await world.settled_outbox()
        assert [state for state, _, _ in states.values()] == ["sent"]  # one row, re-addressed if need be, sent once
        assert len(api.messages_to(new)) == 1


async def test_removed_from_a_group_nothing_more_is_sent_until_a_new_start(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    api = FakeBotAPI()
    api.admins[GROUP] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.say(GROUP, "/start", user_id=ADMIN, chat_type="supergroup")
        api.push_member_change(GROUP, "kicked")
        await world.until(lambda: not world.service.store.get_subscription(GROUP, 0).active)  # type: ignore[union-attr]
        await world.publish([("a", "Nobody hears this")])
        await make_due(world, Chat(GROUP))
        await asyncio.sleep(1.0)  # several digest rounds
        assert len(api.messages_to(GROUP)) == 1 and world.service.store.outbox_counts() == {}
        api.push_member_change(GROUP, "member")
        [back] = await world.say(GROUP, "/start", user_id=ADMIN, chat_type="supergroup")
        assert back.visible.startswith("Welcome back!")


async def test_forum_topics_get_their_own_digests_in_their_languages(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    api.admins[GROUP] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        forum = {"chat_type": "supergroup", "user_id": ADMIN}
        await world.say(GROUP, "/start", thread_id=11, language_code="it", **forum)
        await world.say(GROUP, "/start", thread_id=22, language_code="de", **forum)
        await world.publish([("a", "Topic news")])
        for thread in (11, 22):
            await make_due(world, Chat(GROUP, thread))
        await world.until(lambda: len(api.messages_to(GROUP)) >= 4)
        digests = {m.thread_id: m.visible for m in api.messages_to(GROUP)[2:]}
        assert digests[11].startswith("Il tuo notiziario") and digests[22].startswith("Deine Nachrichtenübersicht")
        welcomes = {m.thread_id for m in api.messages_to(GROUP)[:2]}
        assert welcomes == {11, 22}  # every reply went to its topic


async def test_a_channel_subscribes_by_posting_start_or_by_an_admin(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    channel, other = -1005001, -1005002
    api.chats["@other_news"] = {"id": other, "type": "channel", "title": "Other news"}
    async with running_bot(tmp_path, feed_server, api=api, admin_ids=frozenset({900})) as world:
        api.push_channel_post(channel, "/start")
        [welcome] = await world.until(lambda: api.messages_to(channel) or None)
        assert welcome.visible.startswith("Welcome!")
        sub = await world.service.subscribers.get(Chat(channel))
        assert sub is not None and sub.kind == "channel"
        await world.publish([("a", "Channel news")])
        await make_due(world, Chat(channel))
        [_, digest] = await world.until(lambda: api.messages_to(channel)[1:] and api.messages_to(channel))
        assert "Channel news" in digest.visible

        [not_admin] = await world.say(900, "/subs add @other_news")
        assert "I am not an administrator of @other_news" in not_admin.visible
        [missing] = await world.say(900, "/subs add @no_such_channel")
        assert "I cannot find @no_such_channel" in missing.visible
        api.bot_admin_in.add(other)
        [added] = await world.say(900, "/subs add @other_news")
        assert added.visible.startswith("Subscribed @other_news")
        assert (await world.service.subscribers.get(Chat(other))).kind == "channel"  # type: ignore[union-attr]


@pytest.mark.slow
async def test_the_per_group_rate_is_kept(tmp_path: Path, feed_server: FeedServer) -> None:
    """NEWSBOT_GROUP_RATE messages a minute to one group (3 here): a fourth reply would wait 20 s, longer than a
    reply may wait, so it is dropped rather than sent too soon (or holding up the stop)."""
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api, group_rate=3) as world:
        for _ in range(4):
            api.push_text(GROUP, "/help", user_id=MEMBER, chat_type="supergroup")
        await world.until(lambda: len(api.messages_to(GROUP)) >= 3)
        await asyncio.sleep(2.0)  # the fourth is due about 20 s after the first
        assert len(api.messages_to(GROUP)) == 3
        [private] = await world.say(MEMBER, "/help")  # other chats are not held up
        assert "/digest" in private.visible


def group_message(chat_id: int, text: str, **extra: object) -> dict[str, object]:
    return {
        "message_id": 5000 + len(text),
        "date": int(datetime.now(UTC).timestamp()),
        "chat": {"id": chat_id, "type": "supergroup", "title": "G", "is_forum": True},
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        **extra,
    }


async def test_who_may_change_a_group_and_what_is_not_a_request(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    api.admins[GROUP] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        # An anonymous administrator posts as the group itself.
        anonymous = {
            "from": {"id": 1087968824, "is_bot": True, "first_name": "Group"},
            "sender_chat": {"id": GROUP, "type": "supergroup", "title": "G"},
        }
        api.push_update(message=group_message(GROUP, "/start", **anonymous))
        [welcome] = await world.until(lambda: api.messages_to(GROUP) or None)
        assert welcome.visible.startswith("Welcome!")
        # A member posting as some channel of theirs is not the group.
        as_channel = {
            "from": {"id": 136817688, "is_bot": True, "first_name": "Channel"},
            "sender_chat": {"id": -100999, "type": "channel", "title": "Mine"},
        }
        api.push_update(message=group_message(GROUP, "/stop", **as_channel))
        [refused] = await world.until(lambda: api.messages_to(GROUP)[1:] or None)
        assert "Only this group's administrators" in refused.visible
        # In a topic, a member's /stop and /topics change nothing.
        topic = {"chat_type": "supergroup", "thread_id": 33}
        await world.say(GROUP, "/start", user_id=ADMIN, **topic)
        for command in ("/stop", "/topics chips"):
            [no] = await world.say(GROUP, command, user_id=MEMBER, **topic)
            assert "Only this group's administrators" in no.visible and no.thread_id == 33
        sub = await world.service.subscribers.get(Chat(GROUP, 33))
        assert sub is not None and sub.active and sub.topics == ()
        # An edited command is not a second request; an unknown, unaddressed command may be another bot's.
        before = len(api.messages_to(GROUP))
        edited = group_message(GROUP, "/digest", **{"from": {"id": ADMIN, "is_bot": False, "first_name": "A"}})
        api.push_update(edited_message={**edited, "edit_date": int(datetime.now(UTC).timestamp())})
        api.push_text(GROUP, "/roll", user_id=MEMBER, chat_type="supergroup")
        api.push_channel_post(-1005009, "/weather")
        [_] = await world.say(GROUP, "/help@newsbot_test_bot", user_id=MEMBER, chat_type="supergroup")
        await asyncio.sleep(0.5)
        assert len(api.messages_to(GROUP)) == before + 1 and api.messages_to(-1005009) == []


async def test_a_deleted_forum_topic_stops_its_subscription(tmp_path: Path, feed_server: FeedServer) -> None:
    api = FakeBotAPI()
    api.admins[GROUP] = {ADMIN}
    async with running_bot(tmp_path, feed_server, api=api) as world:
        await world.say(GROUP, "/start", user_id=ADMIN, chat_type="supergroup", thread_id=44)
        await world.publish([("a", "For a topic that is gone")])
        api.fail(400, "Bad Request: message thread not found", chat_id=GROUP)
        await make_due(world, Chat(GROUP, 44))
        await world.until(lambda: not world.service.store.get_subscription(GROUP, 44).active)  # type: ignore[union-attr]
        sub = world.service.store.get_subscription(GROUP, 44)
        assert sub is not None and "thread not found" in (sub.inactive_reason or "")
