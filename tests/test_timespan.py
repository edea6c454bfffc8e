"""How far back: durations (the CLI's --since) and, for the MCP tools, ISO dates and times; one clear error else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UsageError
from bot.timespan import parse_duration, parse_since

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def test_durations() -> None:
    assert parse_duration("30m") == timedelta(minutes=30) and parse_duration(" 24h ") == timedelta(hours=24)
    assert parse_duration("7d") == timedelta(days=7) and parse_duration("2w") == timedelta(weeks=2)
    for bad in ("0h", "24", "h", "1y", "-1d", "1.5d", "yesterday"):
        with pytest.raises(UsageError, match="is not a duration like 30m, 24h or 7d"):
            parse_duration(bad)
    with pytest.raises(UsageError, match="further back than a calendar goes"):
        parse_duration("9999999999d")


def test_since_a_duration_a_date_or_a_time() -> None:
    assert parse_since("24h", NOW) == NOW - timedelta(hours=24)
    assert parse_since("2025-08-01", NOW) == datetime(2025, 8, 1, tzinfo=UTC)
    assert parse_since("2025-08-01T10:30:00Z", NOW) == datetime(2025, 8, 1, 10, 30, tzinfo=UTC)
    assert parse_since("2025-08-01T10:30:00+02:00", NOW) == datetime(2025, 8, 1, 8, 30, tzinfo=UTC)
    assert parse_since("2025-08-01T10:30", NOW) == datetime(2025, 8, 1, 10, 30, tzinfo=UTC)  # no offset: UTC
    for bad in ("", "yesterday", "2025-13-01", "01/08/2025", "0d"):
        with pytest.raises(UsageError):
            parse_since(bad, NOW)
    with pytest.raises(UsageError, match="further back than a calendar goes"):
        parse_since("999999w", NOW)
