"""Subscribers through the service: /start guesses the language, /stop and a later /start, settings validated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.errors import LanguageNotOfferedError, NotSubscribedError, UsageError
from bot.service import Chat, Service, make_service
from bot.service.subscribers import guess_language
from tests.test_service import make_settings

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"settings": {"languages": ["en", "it", "de"]}, "feeds": []}))
    made = make_service(make_settings(tmp_path, backend="extractive"), now=lambda: NOW)
    yield made
    await made.aclose()


@pytest.mark.parametrize(
    ("code", "expected"),
    [("it", "it"), ("it-IT", "it"), ("DE_at", "de"), ("pt-br", "en"), (None, "en"), ("", "en")],
)
def test_guess_language(code: str | None, expected: str) -> None:
    assert guess_language(code, ["en", "it", "de"]) == expected


async def test_start_stop_start(service: Service) -> None:
    chat = Chat(42, language_code="it-IT", title="Ada")
    started = await service.subscribers.start(chat)
    sub = started.subscription
    assert started.status == "new" and (sub.lang, sub.times, sub.tz, sub.active) == ("it", ("08:00",), "UTC", True)
    assert sub.next_digest_at == "2026-11-26T08:00:00+00:00" and sub.window_start == "2026-11-24T12:00:00+00:00"
    assert (await service.subscribers.start(chat)).status == "already"
    await service.subscribers.set_schedule(chat, "07:30 Europe/Rome")
    stopped = await service.subscribers.stop(chat)
    assert stopped is not None and stopped.tz == "Europe/Rome"  # as it was, for the goodbye in its language
    assert await service.subscribers.get(chat) is None  # settings and history are deleted
    assert await service.subscribers.stop(chat) is None
    with pytest.raises(NotSubscribedError):
        await service.digests.digest_now(chat)
    again = await service.subscribers.start(chat)
    assert again.status == "new" and again.subscription.id != sub.id
    assert (again.subscription.lang, again.subscription.tz) == ("it", "UTC")  # afresh, from the client language


async def test_settings_are_validated(service: Service) -> None:
    chat = Chat(7)
    await service.subscribers.start(chat)
    with pytest.raises(LanguageNotOfferedError) as refused:
        await service.subscribers.set_lang(chat, "xx")
    assert refused.value.offered == ["en", "it", "de"]
    assert (await service.subscribers.set_lang(chat, " DE ")).lang == "de"
    for bad in ("25:00", "07:30 Mars/Base", ""):
        with pytest.raises(UsageError):
            await service.subscribers.set_schedule(chat, bad)
    sub, previous = await service.subscribers.set_topics(chat, "OpenAI, open source")
    assert sub.topics == ("OpenAI", "open source") and previous == ()
    sub, previous = await service.subscribers.set_topics(chat, "")
    assert sub.topics == () and previous == ("OpenAI", "open source")
    with pytest.raises(UsageError):
        await service.subscribers.set_topics(chat, "x" * 100)
