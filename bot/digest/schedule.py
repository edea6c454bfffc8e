"""When a subscriber's digests are due: `/schedule HH:MM[,HH:MM] [Area/City]` parsed, and the next slot computed in
the subscriber's time zone (DST-correct). Pure: no clock of its own, no I/O beyond the system's tz database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_TIMES: tuple[str, ...] = ("08:00",)
DEFAULT_TZ = "UTC"
MAX_TIMES = 6

_TIME = re.compile(r"^([01]?\d|2[0-3])[:.h]([0-5]\d)$")
_TIMEISH = re.compile(r"^\d+([:.h]\d*)?$")


class ScheduleError(ValueError):
    """A /schedule argument that is not understood; the message says what was wrong."""


@dataclass(frozen=True)
class Schedule:
    times: tuple[str, ...] = DEFAULT_TIMES  # "HH:MM", sorted, distinct
    tz: str = DEFAULT_TZ  # an IANA name as the tz database spells it

    def __str__(self) -> str:
        return f"{', '.join(self.times)} {self.tz}"


def parse_schedule(text: str) -> Schedule:
    """`07:30`, `7:30,18:00 Europe/Rome`, `07:30 18:00 utc`: times (comma or space separated) then an optional zone."""
    words = text.replace(",", " ").split()
    if not words:
        raise ScheduleError("no time given")
    tz = DEFAULT_TZ
    if not _TIMEISH.match(words[-1]):
        tz = canonical_zone(words[-1])
        words = words[:-1]
    if not words:
        raise ScheduleError("no time given")
    times: set[str] = set()
    for word in words:
        match = _TIME.match(word)
        if not match:
            raise ScheduleError(f"{word!r} is not a time like 07:30")
        times.add(f"{int(match.group(1)):02d}:{match.group(2)}")
    if len(times) > MAX_TIMES:
        raise ScheduleError(f"at most {MAX_TIMES} times a day")
    return Schedule(tuple(sorted(times)), tz)


def canonical_zone(name: str) -> str:
    """The tz database's spelling of a zone name given in any case ("europe/rome" -> "Europe/Rome")."""
    found = _zones().get(name.casefold())
    if found is None:
        raise ScheduleError(f"{name!r} is not a time zone name like Europe/Rome or UTC")
    return found


@cache
def _zones() -> dict[str, str]:
    zones = {zone.casefold(): zone for zone in available_timezones()}
    zones.setdefault("utc", "UTC")
    return zones


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ScheduleError(f"{name!r} is not a time zone name like Europe/Rome or UTC") from e


def _slots_around(schedule: Schedule, moment: datetime) -> list[datetime]:
    """Every slot (UTC) on the local days around `moment`, sorted.

    A local time that a DST change skips (02:30 on a spring-forward night) fires an hour later on the new clock; one
    that happens twice (autumn) fires at its first occurrence only (fold=0).
    """
    zone = _zone(schedule.tz)
    today = moment.astimezone(zone).date()
    slots = set()
    for offset in (-1, 0, 1, 2):
        day = today + timedelta(days=offset)
        for hh_mm in schedule.times:
            slots.add(_at(day, hh_mm, zone))
    return sorted(slots)


def _at(day: date, hh_mm: str, zone: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in hh_mm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=zone).astimezone(UTC)


def next_slot(schedule: Schedule, after: datetime) -> datetime:
    """The first slot strictly after `after`, in UTC."""
    return next(slot for slot in _slots_around(schedule, after) if slot > after)


def last_slot(schedule: Schedule, at: datetime) -> datetime:
    """The latest slot at or before `at`, in UTC: the one a catch-up digest after downtime stands for."""
    return [slot for slot in _slots_around(schedule, at) if slot <= at][-1]
