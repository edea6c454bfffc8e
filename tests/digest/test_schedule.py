"""Schedules: parsing what users type, the next slot across DST changes, one catch-up slot after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digest.schedule import Schedule, ScheduleError, last_slot, next_slot, parse_schedule

ROME = ZoneInfo("Europe/Rome")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", Schedule(("07:30",), "UTC")),
        ("7:30,18:00 Europe/Rome", Schedule(("07:30", "18:00"), "Europe/Rome")),
        ("18:00, 07:30 europe/rome", Schedule(("07:30", "18:00"), "Europe/Rome")),
        ("07:30 07:30 utc", Schedule(("07:30",), "UTC")),
        ("23:59 America/Argentina/Buenos_Aires", Schedule(("23:59",), "America/Argentina/Buenos_Aires")),
        ("6h05", Schedule(("06:05",), "UTC")),
    ],
)
def test_parse(text: str, expected: Schedule) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no time given"),
        ("Europe/Rome", "is not a time zone|no time given"),
        ("25:00", "'25:00' is not a time like 07:30"),
        ("07:30 Mars/Olympus", "is not a time zone"),
        ("07:30 ../../etc/passwd", "is not a time zone"),
        ("7 Europe/Rome", "is not a time like 07:30"),
        ("07:60", "'07:60' is not a time like 07:30"),
        ("01:00 02:00 03:00 04:00 05:00 06:00 07:00", "at most 6"),
    ],
)
def test_malformed_schedules_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ScheduleError, match=reason):
        parse_schedule(text)


def local(moment: datetime) -> str:
    return moment.astimezone(ROME).strftime("%Y-%m-%d %H:%M %Z")


def test_07_30_rome_stays_07_30_local_across_both_dst_changes() -> None:
    schedule = parse_schedule("07:30 Europe/Rome")
    # Spring forward on 2026-03-29, fall back on 2026-10-25.
    for start in (datetime(2026, 3, 27, 12, tzinfo=UTC), datetime(2026, 10, 23, 12, tzinfo=UTC)):
        fired = []
        moment = start
        for _ in range(4):
            moment = next_slot(schedule, moment)
            fired.append(local(moment))
        assert [f[11:16] for f in fired] == ["07:30"] * 4, fired
        utc_hours = {next_slot(schedule, start + timedelta(days=d)).hour for d in range(4)}
        assert utc_hours == {5, 6}  # 06:30 UTC in winter (CET), 05:30 UTC in summer (CEST)


def test_times_skipped_or_repeated_by_dst_fire_once() -> None:
    skipped = parse_schedule("02:30 Europe/Rome")
    spring = next_slot(skipped, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert local(spring) == "2026-03-29 03:30 CEST"  # the clock jumped from 02:00 to 03:00
    autumn_before = datetime(2026, 10, 24, 12, tzinfo=UTC)
    first = next_slot(skipped, autumn_before)
    second = next_slot(skipped, first)
    assert local(first) == "2026-10-25 02:30 CEST" and local(second) == "2026-10-26 02:30 CET"


def test_next_slot_is_strictly_after_and_last_slot_is_the_catch_up() -> None:
    schedule = parse_schedule("08:00,20:00")
    at_eight = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert next_slot(schedule, at_eight) == datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
    # Down from Monday 07:00 to Thursday 09:00: one catch-up digest, for the slot just passed.
    assert last_slot(schedule, datetime(2026, 11, 26, 9, 0, tzinfo=UTC)) == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert last_slot(schedule, at_eight) == at_eight
