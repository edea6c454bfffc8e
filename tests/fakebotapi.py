"""A fake Telegram Bot API on 127.0.0.1 that python-telegram-bot really talks to (TELEGRAM_API_BASE_URL).

It serves getMe, getUpdates (long polling with offsets), sendMessage, sendPhoto (uploads), setMyCommands, deleteWebhook and the few other
calls the bot makes, and inline keyboards (tests.fakekeyboards: callback queries a test presses, answerCallbackQuery,
editMessageText, editMessageReplyMarkup); records every call; takes updates injected by a test; answers 429 / 403 / 502 or stalls on
demand; refuses, as Telegram does, a message longer than 4,096 characters after HTML parsing or with HTML it cannot
parse; and answers 429 by itself when the bot or one chat goes over the configured rate.

It runs in a thread with its own event loop, so the bot under test (in the test's loop, or in another process)
talks to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakekeyboards import KeyboardError, Keyboards, check_markup
from tests.telegram_html import TelegramHTMLError, length, parse

TOKEN = "123456:TEST-token-that-must-never-be-logged"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "newsbot", "username": "newsbot_test_bot"}
_JSON_PARAMS = {
    "commands",
    "link_preview_options",
    "allowed_updates",
    "scope",
    "reply_parameters",
    "entities",
    "reply_markup",
}
_INT_PARAMS = {"offset", "limit", "timeout", "message_thread_id", "user_id", "message_id"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    status: int = 0  # the answer's HTTP status, once answered


@dataclass(frozen=True)
class Sent:
    """A message the fake Telegram accepted."""

    chat_id: int | str
    thread_id: int | None
    text: str  # as sent (HTML)
    visible: str  # after HTML parsing
    message_id: int
    at: float
    reply_markup: dict[str, Any] | None = None  # the inline keyboard it was sent with (edits: FakeBotAPI.shown)


@dataclass(frozen=True)
class Photo:
    """A picture the fake Telegram accepted (sendPhoto with an uploaded file)."""

    chat_id: int | str
    thread_id: int | None
    data: bytes
    caption: str  # after HTML parsing
    message_id: int


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None  # only for this chat; None: any
    times: int = 1


@dataclass
class Bucket:
    """Telegram's flood control as a token bucket: `rate` per second, bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = -1.0
    at: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens = self.burst
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1 - 1e-9:
            self.tokens -= 1
            return True
        return False


class FakeBotAPI(Keyboards):
    """`with FakeBotAPI() as api:`; point the bot at `api.base_url`; push updates; assert on `api.sent`."""

    def __init__(
        self,
        *,
        rate: float | None = None,  # messages per second for the whole bot, enforced with 429s
        chat_rate: float | None = None,  # per chat, enforced with 429s
        slack: float = 0.05,  # the share over the rate the limits forgive
        jitter: float = 0.1,  # seconds of arrival jitter forgiven (requests released evenly may arrive bunched)
        retry_after: int = 1,
    ) -> None:
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.photos: list[Photo] = []
        self.faults: deque[Fault] = deque()
        self.forbidden: set[int] = set()
        self.not_started: set[int] = set()  # users who never opened a chat with the bot: no menu of their own for them
        self.admins: dict[int, set[int]] = {}  # chat -> its administrators' user ids (getChatMember)
        self.chats: dict[str, dict[str, Any]] = {}  # "@username" -> {"id": ..., "type": ..., "title": ...} (getChat)
        self.bot_admin_in: set[int] = set()  # chats where the bot itself is an administrator
        self.migrated: dict[int, int] = {}  # group id -> the supergroup it became (sendMessage answers 400)
        self.webhook: dict[str, Any] | None = None  # what setWebhook was told
        self.stall_sends: set[int] = set()  # the k-th sendMessage calls (1-based) that hang until released
        self.stalled = threading.Event()  # set when a stalled send arrived
        self.release = threading.Event()
        self.too_fast = 0  # 429s the rate limits answered by themselves
        self.too_fast_for: Counter[str] = Counter()  # which limit: "chat" or "overall"
        self._rate = rate
        self._chat_rate = chat_rate
        self._slack = slack
        self._jitter = jitter
        self._retry_after = retry_after
        self._buckets: dict[Any, Bucket] = {}
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._sends = 0
        self._loop = asyncio.new_event_loop()
        self._new_update: asyncio.Condition | None = None
        self._thread = threading.Thread(target=self._serve, name="fake-bot-api", daemon=True)
        self._started = threading.Event()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._probes: dict[int, tuple[float, float | None]] = {}  # chat -> (pushed at, first reply at)
        self.port = 0
        self._init_keyboards()

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    def __enter__(self) -> FakeBotAPI:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the fake Bot API did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def base_url(self) -> str:
        """TELEGRAM_API_BASE_URL: python-telegram-bot appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._started.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._new_update = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_post("/_control/probe", self._control_probe)
        app.router.add_get("/_control/stats", self._control_stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _shutdown(self) -> None:
        self._closing = True
        await self._notify()  # long polls answer now instead of holding the shutdown for their timeout
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests do -----------------------------------------------------------------------------------------------
    def push_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        language_code: str | None = "en",
        chat_type: str = "private",
        thread_id: int | None = None,
        first_name: str = "Ada",
    ) -> int:
        """Inject a message as if a user sent it; a leading /command gets its bot_command entity. Returns its id."""
        user = {"id": user_id or chat_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name
        else:
            chat["title"] = "A group"
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            chat["is_forum"] = True
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        with self._lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, "message": message})
        asyncio.run_coroutine_threadsafe(self._notify(), self._loop).result(5)
        return update_id

    def push_update(self, **update: Any) -> int:
        """Inject any update (`message=...`, `channel_post=...`, `my_chat_member=...`); returns its id."""
        with self._lock:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **update})
        asyncio.run_coroutine_threadsafe(self._notify(), self._loop).result(5)
        return update_id

    def push_channel_post(self, chat_id: int, text: str, *, username: str = "news_channel") -> int:
        chat = {"id": chat_id, "type": "channel", "title": "A channel", "username": username}
        post: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "sender_chat": chat,
            "text": text,
        }
        if text.startswith("/"):
            post["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return self.push_update(channel_post=post)

    def push_migration(self, old: int, new: int) -> None:
        """A group became a supergroup: Telegram says so in both chats, and refuses sends to the old id."""
        with self._lock:
            self.migrated[old] = new
        for chat, chat_type, key, other in (
            (old, "group", "migrate_to_chat_id", new),
            (new, "supergroup", "migrate_from_chat_id", old),
        ):
            self.push_update(
                message={
                    "message_id": next(self._message_ids),
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": chat_type, "title": "G"},
                    "from": {"id": 1, "is_bot": False, "first_name": "Ada"},
                    key: other,
                }
            )

    def push_member_change(self, chat_id: int, status: str, *, chat_type: str = "supergroup") -> int:
        """The bot's own membership changed (my_chat_member): "left", "kicked", "member", "administrator"."""
        bot = dict(BOT_USER)
        return self.push_update(
            my_chat_member={
                "chat": {"id": chat_id, "type": chat_type, "title": "G"},
                "from": {"id": 1, "is_bot": False, "first_name": "Ada"},
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": _member(bot, status, until=0 if status == "kicked" else None),
            }
        )

    async def _notify(self) -> None:
        assert self._new_update is not None
        async with self._new_update:
            self._new_update.notify_all()

    def fail(
        self,
        status: int,
        description: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The next `times` sendMessage calls (to `chat_id`, if given) get this error."""
        with self._lock:
            self.faults.append(Fault(status, description, retry_after, chat_id, times))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: sendMessage to this chat answers 403."""
        with self._lock:
            self.forbidden.add(chat_id)

    def messages_to(self, chat_id: int) -> list[Sent]:
        with self._lock:
            return [m for m in self.sent if m.chat_id == chat_id]

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> bool:
        """Poll `predicate()` until it is true (test helper; the bot runs meanwhile)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.01)
        return bool(predicate())

    # -- the API -----------------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = _params(dict(await request.post()) if request.can_read_body else {})
        call = Call(method, params, time.monotonic())
        with self._lock:
            self.calls.append(call)  # on arrival: a long poll or a stalled send is visible while it waits
        handler = getattr(self, f"_api_{method.lower()}", None)
        response: web.Response = (
            _error(404, "Not Found: method not found") if handler is None else await handler(params)
        )
        call.status = response.status
        return response

    async def _api_getme(self, params: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _api_deletewebhook(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> web.Response:
        return _ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})

    async def _api_setwebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = {"url": params.get("url"), "secret_token": params.get("secret_token")}
        return _ok(True)

    async def _api_setmycommands(self, params: dict[str, Any]) -> web.Response:
        scope = params.get("scope") or {}
        if scope.get("type") == "chat" and int(scope["chat_id"]) in self.not_started:
            return _error(400, "Bad Request: chat not found")
        return _ok(True)

    async def _api_deletemycommands(self, params: dict[str, Any]) -> web.Response:
        return await self._api_setmycommands(params)

    async def _api_getupdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        assert self._new_update is not None
        deadline = time.monotonic() + timeout
        async with self._new_update:
            while True:
                with self._lock:
                    if offset:  # confirmed: Telegram forgets updates below the offset
                        self._updates = [u for u in self._updates if u["update_id"] >= offset]
                    ready = self._updates[:limit]
                remaining = deadline - time.monotonic()
                if ready or remaining <= 0 or self._closing:
                    return _ok(ready)
                try:
                    await asyncio.wait_for(self._new_update.wait(), remaining)
                except TimeoutError:
                    continue

    async def _api_getchatmember(self, params: dict[str, Any]) -> web.Response:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        user = BOT_USER if user_id == BOT_USER["id"] else {"id": user_id, "is_bot": False, "first_name": "U"}
        if user_id == BOT_USER["id"]:
            return _ok(_member(user, "administrator" if chat_id in self.bot_admin_in else "member"))
        return _ok(_member(user, "administrator" if user_id in self.admins.get(chat_id, set()) else "member"))

    async def _api_getchat(self, params: dict[str, Any]) -> web.Response:
        found = self.chats.get(str(params.get("chat_id")))
        if found is None:
            return _error(400, "Bad Request: chat not found")
        return _ok(
            {
                **found,
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )

    async def _api_sendmessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = params.get("chat_id")
        if chat_id in self.migrated:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: group chat was upgraded to a supergroup chat",
                    "parameters": {"migrate_to_chat_id": self.migrated[chat_id]},
                },
                status=400,
            )
        with self._lock:
            self._sends += 1
            number = self._sends
        if number in self.stall_sends:
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
        fault = self._take_fault(chat_id)
        if fault is not None:
            return _error(fault.status, fault.description, retry_after=fault.retry_after)
        if chat_id in self.forbidden:
            return _error(403, "Forbidden: bot was blocked by the user")
        text = str(params.get("text", ""))
        if params.get("parse_mode") == "HTML":
            try:
                visible, _ = parse(text)
            except TelegramHTMLError as e:
                return _error(400, f"Bad Request: can't parse entities: {e}")
        else:
            visible = text
        if not visible.strip():
            return _error(400, "Bad Request: message text is empty")
        if length(visible) > 4096:
            return _error(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        try:
            check_markup(markup)
        except KeyboardError as e:
            return _error(400, str(e))
        if not self._within_rate(chat_id):
            with self._lock:
                self.too_fast += 1
            return _error(429, f"Too Many Requests: retry after {self._retry_after}", retry_after=self._retry_after)
        thread_id = params.get("message_thread_id")
        message_id = next(self._message_ids)
        with self._lock:
            probe = self._probes.get(chat_id)  # type: ignore[arg-type]
            if probe is not None and probe[1] is None:
                self._probes[chat_id] = (probe[0], time.monotonic())  # type: ignore[index]
            self.sent.append(Sent(chat_id, thread_id, text, visible, message_id, time.monotonic(), markup))  # type: ignore[arg-type]
        self._remember(chat_id, message_id, text, visible, markup)  # type: ignore[arg-type]
        chat_type = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
        return _ok(
            {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type},
                "from": BOT_USER,
                "text": visible,
            }
            | ({"reply_markup": markup} if markup else {})
        )

    async def _api_sendphoto(self, params: dict[str, Any]) -> web.Response:
        """An upload only (multipart), as the bot sends it: a PNG or JPEG, a caption Telegram can parse."""
        chat_id, upload = params.get("chat_id"), params.get("photo")
        if not isinstance(upload, web.FileField):
            return _error(400, "Bad Request: there is no photo in the request")
        data = upload.file.read()
        if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            return _error(400, "Bad Request: IMAGE_PROCESS_FAILED")
        if len(data) > 10 * 1024 * 1024:
            return _error(400, "Bad Request: file is too big")
        caption = str(params.get("caption", ""))
        try:
            visible = parse(caption)[0] if params.get("parse_mode") == "HTML" else caption
        except TelegramHTMLError as e:
            return _error(400, f"Bad Request: can't parse entities: {e}")
        if length(visible) > 1024:
            return _error(400, "Bad Request: message caption is too long")
        if chat_id in self.forbidden:
            return _error(403, "Forbidden: bot was blocked by the user")
        message_id = next(self._message_ids)
        thread_id = params.get("message_thread_id")
        with self._lock:
            self.photos.append(Photo(chat_id, thread_id, data, visible, message_id))  # type: ignore[arg-type]
        photo = {"file_id": f"photo-{message_id}", "file_unique_id": f"u{message_id}", "width": 1, "height": 1}
        chat = {"id": chat_id, "type": "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"}
        return _ok({"message_id": message_id, "date": int(time.time()), "chat": chat, "photo": [photo]})

    def _take_fault(self, chat_id: Any) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.chat_id is None or fault.chat_id == chat_id:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def _within_rate(self, chat_id: Any) -> bool:
        now = time.monotonic()
        forgive = 1 + self._slack
        with self._lock:
            if self._chat_rate:
                burst = forgive + self._chat_rate * self._jitter
                bucket = self._buckets.setdefault(chat_id, Bucket(self._chat_rate * forgive, burst))
                if not bucket.take(now):
                    self.too_fast_for["chat"] += 1
                    return False
            if self._rate:
                burst = self._rate * forgive + self._rate * self._jitter
                overall = self._buckets.setdefault("*", Bucket(self._rate * forgive, burst))
                if not overall.take(now):
                    self.too_fast_for["overall"] += 1
                    return False
        return True

    # -- control, for a bot in another process (benchmarks) ----------------------------------------------------------
    async def _control_probe(self, request: web.Request) -> web.Response:
        """Push `text` from a fresh chat and time how long until the bot's first message to that chat arrives."""
        body = await request.json()
        chat_id = int(body["chat_id"])
        with self._lock:
            self._probes[chat_id] = (time.monotonic(), None)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.push_text(chat_id, body.get("text", "/help"))
        )
        return web.json_response({"ok": True})

    async def _control_stats(self, request: web.Request) -> web.Response:
        with self._lock:
            sends = [m.at for m in self.sent]
            latencies = [done - pushed for pushed, done in self._probes.values() if done is not None]
            return web.json_response(
                {
                    "sent": len(self.sent),
                    "too_fast": self.too_fast,
                    "refused": sum(1 for c in self.calls if c.method == "sendMessage" and c.status not in (0, 200)),
                    "send_times": sorted(sends),
                    "probe_latencies": latencies,
                    "probes_unanswered": sum(1 for _, done in self._probes.values() if done is None),
                }
            )


def _member(user: dict[str, Any], status: str, *, until: int | None = None) -> dict[str, Any]:
    """A ChatMember object as python-telegram-bot 22 reads it (administrators carry every right flag)."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "administrator":
        rights = (
            "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members can_change_info "
            "can_invite_users can_post_stories can_edit_stories can_delete_stories can_post_messages "
            "can_edit_messages can_pin_messages"
        )
        member |= dict.fromkeys(rights.split(), True) | {"can_be_edited": False, "is_anonymous": False}
        member["can_promote_members"] = False
    if status == "kicked":
        member["until_date"] = until or 0
    return member


def _params(raw: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in raw.items():
        if name in _JSON_PARAMS:
            params[name] = json.loads(value)
        elif name in _INT_PARAMS or (name == "chat_id" and str(value).lstrip("-").isdigit()):
            params[name] = int(value)
        else:
            params[name] = value
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, *, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def main() -> None:
    """`python -m tests.fakebotapi --rate R --chat-rate C`: serve until stdin closes; the first stdout line is the base
    URL. For benchmarks, which keep the server's work off the bot's CPU share and GIL."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--chat-rate", type=float, default=None)
    args = parser.parse_args()
    with FakeBotAPI(rate=args.rate, chat_rate=args.chat_rate) as api:
        print(api.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
