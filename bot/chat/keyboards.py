"""bot.render.keyboards' plain keyboards as Telegram's InlineKeyboardMarkup: the only place they become telegram
objects."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.render.keyboards import Keyboard, keyboard_from_json


def markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, callback_data=b.data)
                if b.data
                else InlineKeyboardButton(b.label, url=b.url)
                for b in row
            ]
            for row in keyboard
        ]
    )


def stored_markup(text: str | None) -> InlineKeyboardMarkup | None:
    """The keyboard an outbox row carries."""
    return markup(keyboard_from_json(text))
