"""Who may do what: the bot's administrators (NEWSBOT_ADMIN_IDS, in their private chat with the bot), and who may
change a group's subscription: its administrators, as the Bot API says (cached for a few minutes), and anonymous
admins, who post as the group itself."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from telegram import Bot, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

log = logging.getLogger(__name__)

ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
CACHE_SECONDS = 300.0


def is_admin(update: Update, admin_ids: Collection[int]) -> bool:
    """One of the bot's administrators, writing in a private chat (an admin command's output is not for a group)."""
    user, chat = update.effective_user, update.effective_chat
    return user is not None and chat is not None and chat.type == ChatType.PRIVATE and user.id in admin_ids


class GroupAdmins:
    def __init__(self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def may_change(self, bot: Bot, update: Update) -> bool:
        """True in private chats and channels (only admins post there); in a group, for its administrators."""
        chat, message, user = update.effective_chat, update.effective_message, update.effective_user
        if chat is None or chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            return True
        if message is not None and message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous administrator
        if user is None:
            return False
        key = (chat.id, user.id)
        cached = self._known.get(key)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        try:
            member = await bot.get_chat_member(chat.id, user.id)
        except TelegramError as e:
            log.warning("could not check whether user %s administers chat %s: %s", user.id, chat.id, e)
            return False
        allowed = member.status in ADMIN_STATUSES
        if len(self._known) > 10_000:
            now = self._clock()
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
        self._known[key] = (allowed, self._clock() + self._ttl)
        return allowed
