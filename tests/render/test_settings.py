"""The settings keyboards as data: callback data within Telegram's 64 bytes and parsed back to what it asks for;
anything else (forged, truncated, from another kind of button) parses to nothing."""

from __future__ import annotations

import pytest

from bot.i18n import texts
from bot.render.settings import (
    SCHEDULE_PRESETS,
    ClearTopics,
    DropTopic,
    SetLang,
    SetSchedule,
    SetSource,
    SourceState,
    language_keyboard,
    parse_choice,
    schedule_keyboard,
    sources_keyboard,
    topic_check,
    topics_keyboard,
)


def test_every_button_parses_back_to_its_choice_within_64_bytes() -> None:
    t = texts("de")
    topics = ("OpenAI", "-crypto", "x" * 60)
    keyboards = [
        language_keyboard(["en", "de", "pt", "zh"], "de"),
        sources_keyboard([SourceState(10**11, "n" * 80, on=True, muted=False), SourceState(7, "Echo", False, True)]),
        schedule_keyboard(("07:30", "18:00")),
        topics_keyboard(topics, t),
    ]
    buttons = [b for keyboard in keyboards for row in keyboard for b in row]
    assert all(1 <= len(b.data.encode()) <= 64 for b in buttons)
    assert [parse_choice(b.data) for b in buttons] == [
        SetLang("en"),
        SetLang("de"),
        SetLang("pt"),
        SetLang("zh"),
        SetSource(10**11, False),  # on: pressing switches it off
        SetSource(7, True),
        *(SetSchedule(times) for times in SCHEDULE_PRESETS),
        *(DropTopic(i, topic_check(topic)) for i, topic in enumerate(topics)),
        ClearTopics(),
    ]
    assert [b.label for b in buttons[:4]] == ["English", "✓ Deutsch", "Português", "中文"]
    assert buttons[4].label == "✅ " + "n" * 39 + "…" and buttons[5].label == "🔇 Echo"
    assert [b.label for b in buttons[6:8]] == ["07:30", "✓ 07:30 · 18:00"]
    assert buttons[-3].label == "❌ ohne crypto"


@pytest.mark.parametrize(
    "data",
    [
        "",
        "sl:",
        "sl:DE",
        "sl:de;x",
        "sl:" + "a" * 40,
        "ss:1",
        "ss:x:1",
        "ss:1:2",
        "ss:-1:1",
        "ss:" + "9" * 13 + ":1",
        "sc:",
        "sc:4",
        "sc:-1",
        "st:",
        "st:1",
        "st:1:xyz1",
        "st:1:ABCD",
        "st:1000:abcd",
        "st:**",
        "sx:1",
        "a:1",
    ],
)
def test_anything_else_parses_to_nothing(data: str) -> None:
    assert parse_choice(data) is None
