"""Admin commands through the running bot: refused to others, feed edits that are the CLI's, one notice when a feed
is disabled and one when it recovers, the metadata address refused even with private URLs allowed."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.chat.commands import ADMIN_COMMANDS, menu
from bot.cli import app
from bot.i18n import texts
from tests.chat.harness import running_bot
from tests.fakebotapi import FakeBotAPI
from tests.httpserver import FeedServer, Route
from tests.service.test_enrichment_retries import rss

ADMIN, MEMBER, STRANGER_ADMIN = 900, 901, 902


def feeds_json(tmp_path: Path) -> list[dict[str, object]]:
    env = {"NEWSBOT_FEEDS": str(tmp_path / "feeds.yaml"), "NEWSBOT_DB": str(tmp_path / "newsbot.db")}
    result = CliRunner().invoke(app, ["feeds", "list", "--json"], env=env)
    assert result.exit_code == 0, result.output
    parsed: list[dict[str, object]] = json.loads(result.stdout)
    return parsed


async def test_admin_feed_commands(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.routes["/new"] = Route(body=rss([("n", "A new feed's story")]))
    async with running_bot(tmp_path, feed_server, admin_ids=frozenset({ADMIN})) as world:
        before = (tmp_path / "feeds.yaml").read_bytes()
        [refused] = await world.say(MEMBER, f"/addfeed {feed_server.url('/new')}")
        assert "only for the bot's administrators" in refused.visible
        assert (tmp_path / "feeds.yaml").read_bytes() == before and feed_server.requests("/new") == []

        for bad, why in (
            ("not-a-url", "must start with http:// or https://"),
            ("file:///etc/passwd", "command line only"),
        ):
            [answer] = await world.say(ADMIN, f"/addfeed {bad}")
            assert answer.visible.startswith("Not added:") and why in answer.visible, answer.visible
        [metadata] = await world.say(ADMIN, "/addfeed http://169.254.169.254/latest/meta-data/")
        assert "cloud metadata" in metadata.visible and "even with NEWSBOT_ALLOW_PRIVATE_URLS=1" in metadata.visible
        assert (tmp_path / "feeds.yaml").read_bytes() == before

        [added] = await world.say(ADMIN, f"/addfeed {feed_server.url('/new')}")
        assert added.visible.startswith("Added feed ")
        new_id = int(added.visible.split()[2].rstrip(":"))
        assert feed_server.url("/new") in (tmp_path / "feeds.yaml").read_text()
        [listing] = await world.say(ADMIN, "/feeds")
        assert f"#{new_id} " in listing.visible and "2 feeds" in listing.visible

        [paused] = await world.say(ADMIN, f"/pausefeed {new_id}")
        assert "is now paused" in paused.visible
        listed = await asyncio.to_thread(feeds_json, tmp_path)
        assert [f["status"] for f in listed if f["id"] == new_id] == ["paused"]
        [resumed] = await world.say(ADMIN, f"/resumefeed {new_id}")
        assert "is now new" in resumed.visible or "is now ok" in resumed.visible
        listed = await asyncio.to_thread(feeds_json, tmp_path)
        assert [f["enabled"] for f in listed if f["id"] == new_id] == [True]
        [unknown] = await world.say(ADMIN, "/rmfeed 99")
        assert "There is no feed 99" in unknown.visible
        [removed] = await world.say(ADMIN, f"/rmfeed {new_id}")
        assert removed.visible.startswith(f"Removed feed {new_id}:")
        assert [f["id"] for f in await asyncio.to_thread(feeds_json, tmp_path)] == [1]

        [health] = await world.say(ADMIN, "/health")
        assert "Last poll:" in health.visible and "Outbox:" in health.visible
        [subs] = await world.say(ADMIN, "/subs")
        assert "subscriber" in subs.visible


async def test_one_notice_when_a_feed_is_disabled_and_one_when_it_recovers(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/feed"] = Route(status=500)
    api = FakeBotAPI()
    async with running_bot(tmp_path, feed_server, api=api, admin_ids=frozenset({ADMIN}), max_failures=3) as world:
        for _ in range(6):  # three failures disable it; the polls after change nothing
            await world.service.ingest.poll(force=True)
        feed = await world.service.feeds.get(1)
        assert feed.status == "disabled"
        [notice] = await world.until(lambda: api.messages_to(ADMIN) or None)
        assert notice.visible.startswith("Feed 1 (Wire) was disabled after 3 failures in a row: HTTP 500")
        assert "/resumefeed 1" in notice.visible
        feed_server.routes["/feed"] = Route(body=rss([("a", "Back")]))
        await world.say(ADMIN, "/resumefeed 1")
        for _ in range(3):
            await world.service.ingest.poll(force=True)
        await world.until(lambda: len(api.messages_to(ADMIN)) >= 3)
        notices = [m.visible for m in api.messages_to(ADMIN) if m.visible.startswith("Feed 1 (Wire)")]
        assert notices[1:] == ["Feed 1 (Wire) works again."] and len(notices) == 2


async def test_feed_problems_are_shown_to_admins_and_in_the_cli(tmp_path: Path, feed_server: FeedServer) -> None:
    teaser = rss([("t", "A teaser")]).replace(b"https://news.example/t", feed_server.url("/gone").encode())
    feed_server.routes["/feed"] = Route(body=teaser)
    feed_server.routes["/gone"] = Route(status=404)
    async with running_bot(tmp_path, feed_server, admin_ids=frozenset({ADMIN}), extract_articles=True) as world:
        await world.service.ingest.poll(force=True)
        [listing] = await world.say(ADMIN, "/feeds")
        assert "problem" in listing.visible and "HTTP 404" in listing.visible
    [feed] = await asyncio.to_thread(feeds_json, tmp_path)
    assert feed["status"] == "ok" and "HTTP 404" in str(feed["recent_problems"])


async def test_admins_see_the_admin_commands_in_their_menu_and_help_and_no_one_else_does(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    api = FakeBotAPI()
    api.not_started.add(STRANGER_ADMIN)  # listed in NEWSBOT_ADMIN_IDS, never opened a chat with the bot
    admins = frozenset({ADMIN, STRANGER_ADMIN})
    with caplog.at_level(logging.WARNING, logger="bot.chat.app"):
        async with running_bot(tmp_path, feed_server, api=api, admin_ids=admins) as world:
            calls = world.api.calls_of("setMyCommands")
            everyone = [call for call in calls if "scope" not in call.params]
            mine = [call for call in calls if call.params.get("scope") == {"type": "chat", "chat_id": ADMIN}]
            assert [call.params.get("language_code") for call in mine] == [None, "en", "it", "de"]
            for call in mine:
                t = texts(call.params.get("language_code") or "en")
                assert [(c["command"], c["description"]) for c in call.params["commands"]] == menu(t, admin=True)
            assert [c for call in everyone for c in call.params["commands"] if c["command"] == "addfeed"] == []
            assert menu(texts("it"), admin=True)[-1] != menu(texts("en"), admin=True)[-1]  # translated

            [admin_help] = await world.say(ADMIN, "/help")
            [member_help] = await world.say(MEMBER, "/help")
            for command, _ in ADMIN_COMMANDS:
                assert f"/{command} " in admin_help.visible
                assert f"/{command} " not in member_help.visible
            [group_help] = await world.say(-5, "/help", user_id=ADMIN, chat_type="group")  # not in a group
            assert "/addfeed" not in group_help.visible
    assert f"no admin command menu for user {STRANGER_ADMIN}" in caplog.text  # and the bot started all the same


async def test_a_user_taken_off_the_admin_list_loses_the_admin_menu_at_the_next_start(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    former = 903
    async with running_bot(tmp_path, feed_server, admin_ids=frozenset({ADMIN, former})) as world:
        assert world.api.calls_of("deleteMyCommands") == []
    async with running_bot(tmp_path, feed_server, admin_ids=frozenset({ADMIN})) as world:
        deleted = world.api.calls_of("deleteMyCommands")
        assert [call.params["scope"] for call in deleted] == [{"type": "chat", "chat_id": former}] * 4
        assert [call.params.get("language_code") for call in deleted] == [None, "en", "it", "de"]
    async with running_bot(tmp_path, feed_server, admin_ids=frozenset({ADMIN})) as world:
        assert world.api.calls_of("deleteMyCommands") == []  # once is enough
