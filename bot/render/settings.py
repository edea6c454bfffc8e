"""The settings keyboards (/lang, /sources, /schedule, /topics) as plain data, and their callback data, built and
parsed here in one place. Callback data is never trusted: parsing only says what a press asks for; the chat layer
checks that the chat may ask it and the service that what it names still exists. Pure: no telegram, no store."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError

from bot.i18n import Texts
from bot.render.keyboards import Button, Keyboard

# Every settings button's data starts with "s" and a letter for its kind: the chat layer's CallbackQueryHandler pattern.
PATTERN = r"^s[lsct]:"
SCHEDULE_PRESETS: tuple[tuple[str, ...], ...] = (
    ("07:30",),
    ("07:30", "18:00"),
    ("12:00",),
    ("08:00", "13:00", "19:00"),
)
MAX_SOURCE_BUTTONS = 90  # Telegram shows at most 100 buttons under a message
_LABEL_CHARS = 40
_LANG = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")


@dataclass(frozen=True)
class SetLang:
    lang: str


@dataclass(frozen=True)
class SetSource:
    feed_id: int
    on: bool


@dataclass(frozen=True)
class SetSchedule:
    times: tuple[str, ...]


@dataclass(frozen=True)
class DropTopic:
    index: int
    check: str  # of the topic the button was made for: a replayed press after the topics changed is refused


@dataclass(frozen=True)
class ClearTopics:
    pass


Choice = SetLang | SetSource | SetSchedule | DropTopic | ClearTopics


def language_name(code: str) -> str:
    """The language's own name for itself ("Deutsch"), capitalised; the code when babel does not know it."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


def topic_check(topic: str) -> str:
    return f"{zlib.crc32(topic.casefold().encode()) & 0xFFFF:04x}"


def parse_choice(data: str) -> Choice | None:
    """What a settings button asks for, or None for data no settings button carries (forged, or from an old version)."""
    kind, _, rest = data.partition(":")
    if kind == "sl" and _LANG.fullmatch(rest):
        return SetLang(rest)
    if kind == "ss":
        feed, _, state = rest.partition(":")
        if feed.isdecimal() and len(feed) <= 12 and state in ("0", "1"):
            return SetSource(int(feed), state == "1")
    if kind == "sc" and rest.isdecimal() and int(rest) < len(SCHEDULE_PRESETS):
        return SetSchedule(SCHEDULE_PRESETS[int(rest)])
    if kind == "st":
        if rest == "*":
            return ClearTopics()
        index, _, check = rest.partition(":")
        if index.isdecimal() and len(index) <= 3 and re.fullmatch(r"[0-9a-f]{4}", check):
            return DropTopic(int(index), check)
    return None


def _label(text: str) -> str:
    return text if len(text) <= _LABEL_CHARS else text[: _LABEL_CHARS - 1] + "…"


def language_keyboard(offered: Sequence[str], current: str) -> Keyboard:
    """The offered languages by their own names, two to a row; the current one ticked."""
    buttons = [Button(("✓ " if code == current else "") + language_name(code), f"sl:{code}") for code in offered]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


@dataclass(frozen=True)
class SourceState:
    feed_id: int
    name: str
    on: bool
    muted: bool


def sources_keyboard(sources: Sequence[SourceState]) -> Keyboard:
    """One toggle per feed: ✅ read, ⬜ switched off, 🔇 muted from an article; pressing switches it."""
    rows = []
    for source in sources[:MAX_SOURCE_BUTTONS]:
        mark = "✅" if source.on else "🔇" if source.muted else "⬜"
        rows.append((Button(f"{mark} {_label(source.name)}", f"ss:{source.feed_id}:{0 if source.on else 1}"),))
    return tuple(rows)


def schedule_keyboard(current: Sequence[str]) -> Keyboard:
    """The preset schedules (in the subscriber's time zone), the current one ticked."""
    return tuple(
        (Button(("✓ " if tuple(current) == times else "") + " · ".join(times), f"sc:{index}"),)
        for index, times in enumerate(SCHEDULE_PRESETS)
    )


def topics_keyboard(topics: Sequence[str], t: Texts) -> Keyboard:
    """A ❌ per topic (an excluded one shown as such), and one to remove them all."""
    rows = [
        (Button("❌ " + _label(t("not {word}", word=topic[1:]) if topic.startswith("-") else topic), data),)
        for index, topic in enumerate(topics)
        if len(data := f"st:{index}:{topic_check(topic)}") <= 64
    ]
    if len(topics) > 1:
        rows.append((Button("❌ " + t("Remove all"), "st:*"),))
    return tuple(rows)
