"""Fair use: at most NEWSBOT_USER_LIMIT (default 10 a minute) of the costly commands (/ask, /digest, /summarize, a
question or a link in a private chat) per user, over a moving window (the `limits` library). A user over it is told
once per window when to try again; what they send meanwhile is dropped, so one flood neither costs the engine nor
fills the outbox."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class FairUse:
    def __init__(self, rule: str) -> None:
        self.rule = parse(rule)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._told: set[int] = set()  # users told about the limit in their current window

    def check(self, user: int) -> tuple[bool, int | None]:
        """(allowed, seconds to wait): allowed -> (True, None); over the limit -> (False, seconds) the first time in
        the window, (False, None) after that (nothing to say again)."""
        key = str(user)
        if self._limiter.hit(self.rule, key):
            self._told.discard(user)
            return True, None
        if user in self._told:
            return False, None
        self._told.add(user)
        reset = self._limiter.get_window_stats(self.rule, key).reset_time
        return False, max(1, math.ceil(reset - time.time()))
