"""Pure scheduling decisions: when to fetch a feed next, backoff after errors, when to give up. No I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(hours=24)
# A server's Cache-Control max-age is honoured, but a day is the longest we go without looking.
MAX_HONOURED_MAX_AGE = timedelta(hours=24)


@dataclass(frozen=True)
class AfterError:
    error_count: int
    next_fetch_at: datetime
    disable: bool  # too many consecutive failures: stop fetching until an admin re-enables the feed


def after_success(
    now: datetime, interval: int, *, max_age: int | None = None, retry_after: float | None = None
) -> datetime:
    """Next fetch after a good response (200 or 304): the feed's interval, stretched by the server's wishes."""
    delay = timedelta(seconds=interval)
    if max_age:
        delay = max(delay, min(timedelta(seconds=max_age), MAX_HONOURED_MAX_AGE))
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_BACKOFF))
    return now + delay


def after_error(
    now: datetime, interval: int, previous_errors: int, *, max_failures: int, retry_after: float | None = None
) -> AfterError:
    """Exponential backoff: the interval doubled per consecutive failure, capped, and never sooner than Retry-After."""
    count = previous_errors + 1
    delay = min(timedelta(seconds=interval) * (2 ** min(count - 1, 20)), MAX_BACKOFF)
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_BACKOFF))
    return AfterError(error_count=count, next_fetch_at=now + delay, disable=count >= max_failures)
