"""The fake Bot API's inline keyboards: reply_markup checked as Telegram checks it, callback queries a test presses,
answerCallbackQuery (once per query, as Telegram allows), editMessageText and editMessageReplyMarkup on messages the bot
sent. A mixin of tests.fakebotapi.FakeBotAPI, which owns the lock, the ids and the update queue."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.telegram_html import TelegramHTMLError, length, parse

CALLBACK_DATA_LIMIT = 64  # bytes, Telegram's limit on callback_data
ANSWER_TEXT_LIMIT = 200  # characters of an answerCallbackQuery toast


@dataclass
class Shown:
    """A message as it stands now in its chat: edits change its text and keyboard."""

    chat_id: int | str
    message_id: int
    text: str  # HTML as last sent or edited
    visible: str
    markup: dict[str, Any] | None
    edits: int = 0


@dataclass
class Press:
    """A button a test pressed: the callback query sent, and what the bot answered (None until it did)."""

    query_id: str
    chat_id: int | str
    message_id: int
    user_id: int
    data: str
    answers: list[dict[str, Any]] = field(default_factory=list)


class KeyboardError(ValueError):
    """reply_markup Telegram would refuse; the message is the Bad Request description."""


def check_markup(markup: Any) -> None:
    """Raise KeyboardError for a reply_markup Telegram refuses: an inline keyboard is rows of buttons, each with a text
    and exactly one action (callback_data of 1-64 bytes, or an http(s)/tg URL)."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise KeyboardError("Bad Request: can't parse reply keyboard markup JSON object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise KeyboardError("Bad Request: text buttons are unallowed in the inline keyboard")
            actions = [key for key in ("callback_data", "url") if key in button]
            if len(actions) != 1:
                raise KeyboardError("Bad Request: can't parse inline keyboard button: exactly one action expected")
            if actions == ["callback_data"]:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= CALLBACK_DATA_LIMIT:
                    raise KeyboardError("Bad Request: BUTTON_DATA_INVALID")
            elif not str(button["url"]).startswith(("https://", "http://", "tg://")):
                raise KeyboardError("Bad Request: BUTTON_URL_INVALID")


class Keyboards:
    """What FakeBotAPI learns about inline keyboards; see the module docstring."""

    _lock: threading.Lock
    _message_ids: itertools.count[int]

    def _init_keyboards(self) -> None:
        self.shown: dict[tuple[int | str, int], Shown] = {}
        self.presses: dict[str, Press] = {}
        self._query_ids = itertools.count(1)

    def push_update(self, **update: Any) -> int:  # provided by FakeBotAPI
        raise NotImplementedError

    # -- what tests do -----------------------------------------------------------------------------------------------
    def keyboard(self, chat_id: int | str, message_id: int) -> list[list[dict[str, Any]]]:
        """The inline keyboard under that message now (after edits); [] when it has none."""
        with self._lock:
            shown = self.shown[(chat_id, message_id)]
            return list((shown.markup or {}).get("inline_keyboard", []))

    def press(
        self,
        chat_id: int | str,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str = "en",
    ) -> Press:
        """Press a button: a callback query with `data` from under that message (which need not be one the bot sent,
        nor carry that data: tests forge and replay presses too). `user_id` defaults to the chat's id."""
        with self._lock:
            shown = self.shown.get((chat_id, message_id))
            query_id = f"q{next(self._query_ids)}"
        uid = user_id if user_id is not None else int(chat_id)
        user = {"id": uid, "is_bot": False, "first_name": "Ada", "language_code": language_code}
        kind = chat_type or ("private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup")
        chat: dict[str, Any] = {"id": chat_id, "type": kind}
        if kind != "private":
            chat["title"] = "A group"
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": 123456, "is_bot": True, "first_name": "newsbot", "username": "newsbot_test_bot"},
            "text": shown.visible if shown else "…",
        }
        if shown and shown.markup:
            message["reply_markup"] = shown.markup
        press = Press(query_id, chat_id, message_id, uid, data)
        with self._lock:
            self.presses[query_id] = press
        self.push_update(
            callback_query={
                "id": query_id,
                "from": user,
                "message": message,
                "chat_instance": f"ci{chat_id}",
                "data": data,
            }
        )
        return press

    def answered(self, press: Press) -> list[dict[str, Any]]:
        with self._lock:
            return list(press.answers)

    # -- the API -----------------------------------------------------------------------------------------------------
    def _remember(self, chat_id: int | str, message_id: int, text: str, visible: str, markup: Any) -> None:
        with self._lock:
            self.shown[(chat_id, message_id)] = Shown(chat_id, message_id, text, visible, markup)

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> web.Response:
        query_id = str(params.get("callback_query_id", ""))
        text = str(params.get("text", ""))
        with self._lock:
            press = self.presses.get(query_id)
            if press is None or press.answers:
                return _error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            if len(text) > ANSWER_TEXT_LIMIT:
                return _error(400, "Bad Request: MESSAGE_TOO_LONG")
            press.answers.append(dict(params))
        return _ok(True)

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> web.Response:
        markup = params.get("reply_markup")
        try:
            check_markup(markup)
        except KeyboardError as e:
            return _error(400, str(e))
        with self._lock:
            shown = self.shown.get(_key(params))
            if shown is None:
                return _error(400, "Bad Request: message to edit not found")
            if (markup or None) == (shown.markup or None):
                return _error(400, "Bad Request: message is not modified")
            shown.markup, shown.edits = markup, shown.edits + 1
            return _ok(self._echo(shown))

    async def _api_editmessagetext(self, params: dict[str, Any]) -> web.Response:
        text, markup = str(params.get("text", "")), params.get("reply_markup")
        try:
            check_markup(markup)
            visible = parse(text)[0] if params.get("parse_mode") == "HTML" else text
        except KeyboardError as e:
            return _error(400, str(e))
        except TelegramHTMLError as e:
            return _error(400, f"Bad Request: can't parse entities: {e}")
        if not visible.strip():
            return _error(400, "Bad Request: message text is empty")
        if length(visible) > 4096:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            shown = self.shown.get(_key(params))
            if shown is None:
                return _error(400, "Bad Request: message to edit not found")
            if text == shown.text and (markup or None) == (shown.markup or None):
                return _error(400, "Bad Request: message is not modified")
            shown.text, shown.visible, shown.markup, shown.edits = text, visible, markup, shown.edits + 1
            return _ok(self._echo(shown))

    @staticmethod
    def _echo(shown: Shown) -> dict[str, Any]:
        chat_type = "private" if isinstance(shown.chat_id, int) and shown.chat_id > 0 else "supergroup"
        echo: dict[str, Any] = {
            "message_id": shown.message_id,
            "date": int(time.time()),
            "chat": {"id": shown.chat_id, "type": chat_type},
            "text": shown.visible,
        }
        if shown.markup:
            echo["reply_markup"] = shown.markup
        return echo


def _key(params: dict[str, Any]) -> tuple[int | str, int]:
    chat_id = params.get("chat_id", 0)
    return (chat_id if isinstance(chat_id, int | str) else str(chat_id), int(params.get("message_id") or 0))


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
