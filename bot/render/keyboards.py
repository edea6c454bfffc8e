"""Inline keyboards as plain data, and the one place callback data is written and read.

A keyboard is rows of `Button`s (a label and either callback data or a URL); bot/chat turns it into Telegram's
InlineKeyboardMarkup, the outbox keeps it as JSON. Callback data comes back from anyone who can press (or forge) a
button: `parse_press` accepts only the exact shapes written here, at most 64 bytes, and trusts nothing else in them.
Pure: no telegram, no store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.i18n import Texts

CALLBACK_LIMIT = 64  # bytes Telegram carries as callback_data
PER_ROW = 5  # 📖 buttons on one row: five numbers fit a phone's width
MAX_ID = 2**53  # a story id beyond this is no story of ours (and keeps the data short)

OPEN, VOTE, MUTE = "a", "v", "m"  # callback prefixes: 📖 open, 👍/👎 vote, 🔇 mute the story's feed
OPEN_PATTERN = r"^a:"
VOTE_PATTERN = r"^v:"
MUTE_PATTERN = r"^m:"
_PRESS = re.compile(r"(?P<kind>[avm]):(?P<story>[1-9][0-9]{0,15})(?::(?P<value>[+-]1))?")

BOOK, UP, DOWN, MUTED = "📖", "👍", "👎", "🔇"
CHOSEN = "✓"  # beside the vote a reader has given


@dataclass(frozen=True)
class Button:
    label: str
    data: str | None = None  # callback data, at most CALLBACK_LIMIT bytes
    url: str | None = None


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Press:
    """A button's callback data as read back: what to do with which story (`value` +1/-1 for a vote)."""

    kind: Literal["open", "vote", "mute"]
    story_id: int
    value: int = 0


def open_data(story_id: int) -> str:
    return f"{OPEN}:{story_id}"


def vote_data(story_id: int, value: int) -> str:
    return f"{VOTE}:{story_id}:{'+1' if value > 0 else '-1'}"


def mute_data(story_id: int) -> str:
    return f"{MUTE}:{story_id}"


def parse_press(data: str | None) -> Press | None:
    """The press `data` stands for, or None for anything this module did not write (forged, truncated, too long)."""
    if not data or len(data.encode()) > CALLBACK_LIMIT:
        return None
    found = _PRESS.fullmatch(data)
    if found is None:
        return None
    story_id, value = int(found["story"]), found["value"]
    if story_id >= MAX_ID:
        return None
    kind = found["kind"]
    if kind == VOTE:
        return Press("vote", story_id, int(value)) if value else None
    if value:
        return None  # "a:5:+1" is no button of ours
    return Press("open" if kind == OPEN else "mute", story_id)


def story_link(bot_username: str, story_id: int) -> str:
    """The deep link that opens a story's article in a private chat with the bot."""
    return f"https://t.me/{bot_username}?start=story_{story_id}"


def start_story(payload: str) -> int | None:
    """The story id of a `/start story_<id>` payload, or None."""
    found = re.fullmatch(r"story_([1-9][0-9]{0,15})", payload.strip())
    return int(found[1]) if found and int(found[1]) < MAX_ID else None


def open_buttons(numbered: Sequence[tuple[int, int]], *, bot_username: str | None = None) -> Keyboard:
    """One 📖 button per (number in the digest, story id), PER_ROW to a row; with `bot_username` (a channel, where
    no presser can be answered) URL buttons to the deep link instead of callbacks."""
    buttons = [
        Button(f"{BOOK} {number}", url=story_link(bot_username, story_id))
        if bot_username
        else Button(f"{BOOK} {number}", data=open_data(story_id))
        for number, story_id in numbered
    ]
    return tuple(tuple(buttons[i : i + PER_ROW]) for i in range(0, len(buttons), PER_ROW))


def feedback_buttons(story_id: int, vote: int, t: Texts) -> Keyboard:
    """👍, 👎 (the reader's current vote marked) and 🔇, under an article view."""
    up = f"{UP} {CHOSEN}" if vote > 0 else UP
    down = f"{DOWN} {CHOSEN}" if vote < 0 else DOWN
    return (
        (Button(up, data=vote_data(story_id, 1)), Button(down, data=vote_data(story_id, -1))),
        (Button(f"{MUTED} " + t("Fewer from this source"), data=mute_data(story_id)),),
    )


def keyboard_json(keyboard: Keyboard) -> str | None:
    """The keyboard as the outbox stores it; None for no buttons."""
    if not keyboard:
        return None
    return json.dumps(
        [
            [{"label": b.label, "data": b.data} if b.data else {"label": b.label, "url": b.url} for b in row]
            for row in keyboard
        ],
        ensure_ascii=False,
    )


def keyboard_from_json(text: str | None) -> Keyboard:
    if not text:
        return ()
    return tuple(
        tuple(Button(b["label"], data=b.get("data"), url=b.get("url")) for b in row) for row in json.loads(text)
    )
