"""Scheduling: interval, server hints, exponential backoff with a cap, disabling after N failures."""

from datetime import datetime, timedelta

from bot.feeds.schedule import MAX_BACKOFF, after_error, after_success


def test_success_uses_interval_or_longer_server_hint(now: datetime) -> None:
    assert after_success(now, 900) == now + timedelta(seconds=900)
    assert after_success(now, 900, max_age=3600) == now + timedelta(hours=1)
    assert after_success(now, 900, max_age=60) == now + timedelta(seconds=900)
    assert after_success(now, 900, max_age=10**9) == now + timedelta(hours=24)


def test_backoff_doubles_caps_and_disables(now: datetime) -> None:
    delays = []
    errors = 0
    for _ in range(12):
        result = after_error(now, 600, errors, max_failures=10)
        errors = result.error_count
        delays.append(result.next_fetch_at - now)
        if result.disable:
            break
    assert delays[:4] == [timedelta(seconds=s) for s in (600, 1200, 2400, 4800)]
    assert max(delays) == MAX_BACKOFF
    assert errors == 10


def test_retry_after_is_honoured(now: datetime) -> None:
    result = after_error(now, 60, 0, max_failures=10, retry_after=7200)
    assert result.next_fetch_at == now + timedelta(hours=2)
