"""How far back a reader wants to look, as people write it: a duration (30m, 24h, 7d, 2w) or an ISO date or time.
Pure: text (and `now`) in, a timedelta or a UTC datetime out; UsageError with the forms it takes otherwise."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: str) -> timedelta:
    """`30m`, `24h`, `7d`, `2w` (and `90s`) as a timedelta; zero is refused (a window of nothing)."""
    match = _DURATION.match(value)
    if not match or int(match.group(1)) == 0:
        raise UsageError(f"{value!r} is not a duration like 30m, 24h or 7d")
    try:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        raise UsageError(f"{value!r} reaches further back than a calendar goes") from None


def parse_since(value: str, now: datetime) -> datetime:
    """The moment a window starts: `now` less a duration (`24h`, `7d`), or an ISO date (`2026-11-20`, midnight UTC)
    or time (`2026-11-20T08:00:00Z`; one without an offset is UTC)."""
    text = value.strip()
    if _DURATION.match(text):
        try:
            return now - parse_duration(text)
        except OverflowError:
            raise UsageError(f"{value!r} reaches further back than a calendar goes") from None
    try:
        moment = datetime.fromisoformat(text)  # a date alone is its midnight
    except ValueError:
        raise UsageError(
            f"{value!r} is neither a duration like 24h or 7d nor an ISO date like 2026-11-20 "
            "(or a time like 2026-11-20T08:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
