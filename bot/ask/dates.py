"""The time a question is about, from its own words: "this week", "in August", "oggi", "la settimana scorsa" ...
in the offered languages. Pure: question and `now` in, a [since, until) range out (UTC days and weeks, weeks from
Monday). An explicit phrase table, not dateparser: dateparser reads points, not ranges, and misses Italian with
articles ("la settimana scorsa")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from babel import Locale

# Per language: phrase -> what it means. Matched as whole words, case and accents ignored, longest first, in the
# question's own language only (German "hier" is "here", French "hier" is "yesterday").
_PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "today": "today", "yesterday": "yesterday", "this week": "this week", "last week": "last week",
        "past week": "last 7 days", "this month": "this month", "last month": "last month",
    },
    "it": {
        "oggi": "today", "ieri": "yesterday", "questa settimana": "this week", "la settimana scorsa": "last week",
        "settimana scorsa": "last week", "la scorsa settimana": "last week", "scorsa settimana": "last week",
        "la settimana passata": "last week", "settimana passata": "last week", "questo mese": "this month",
        "il mese scorso": "last month", "mese scorso": "last month", "lo scorso mese": "last month",
    },
    "de": {
        "heute": "today", "gestern": "yesterday", "diese woche": "this week", "letzte woche": "last week",
        "letzten woche": "last week", "vergangene woche": "last week", "vorige woche": "last week",
        "diesen monat": "this month", "diesem monat": "this month", "letzten monat": "last month",
        "letzte monat": "last month", "vergangenen monat": "last month",
    },
    "fr": {
        "aujourd hui": "today", "aujourdhui": "today", "hier": "yesterday", "cette semaine": "this week",
        "la semaine derniere": "last week", "semaine derniere": "last week", "la semaine passee": "last week",
        "ce mois ci": "this month", "ce mois": "this month", "le mois dernier": "last month",
        "mois dernier": "last month",
    },
    "es": {
        "hoy": "today", "ayer": "yesterday", "esta semana": "this week", "la semana pasada": "last week",
        "semana pasada": "last week", "este mes": "this month", "el mes pasado": "last month",
        "mes pasado": "last month",
    },
    "pt": {
        "hoje": "today", "ontem": "yesterday", "nesta semana": "this week", "esta semana": "this week",
        "semana passada": "last week", "na semana passada": "last week", "neste mes": "this month",
        "este mes": "this month", "mes passado": "last month", "no mes passado": "last month",
    },
}  # fmt: skip
# A month name counts only after one of these (English "May" and French "mars" are words of their own).
_MONTH_PREPOSITIONS: dict[str, tuple[str, ...]] = {
    "en": ("in", "during", "since", "of"),
    "it": ("a", "ad", "in", "di", "nel mese di", "da"),
    "de": ("im", "in", "seit"),
    "fr": ("en", "au mois de", "depuis", "de"),
    "es": ("en", "de", "desde", "en el mes de"),
    "pt": ("em", "de", "desde", "no mes de"),
}
_LANGUAGES = tuple(_PHRASES)


@dataclass(frozen=True)
class Scope:
    since: datetime
    until: datetime
    phrase: str  # as it was found (folded)
    rest: str  # the question (folded) without it: what is left to search for


def fold(text: str) -> str:
    """Lower case, no accents, apostrophes and hyphens as spaces: "Aujourd'hui" -> "aujourd hui"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


@cache
def _months(lang: str) -> dict[str, int]:
    return {fold(name): int(number) for number, name in Locale.parse(lang).months["format"]["wide"].items()}


@cache
def _pattern(lang: str) -> re.Pattern[str]:
    phrases = sorted(_PHRASES[lang], key=len, reverse=True)
    months = "|".join(sorted(_months(lang), key=len, reverse=True))
    prepositions = "|".join(sorted(_MONTH_PREPOSITIONS[lang], key=len, reverse=True))
    return re.compile(
        rf"\b(?:(?P<phrase>{'|'.join(map(re.escape, phrases))})|(?:{prepositions}) (?P<month>{months}))\b"
    )


def _day(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def date_scope(question: str, now: datetime, lang: str | None = None) -> Scope | None:
    """The range the question asks about, or None when it names none. `lang`: the question's language (detected);
    unknown, every language's phrases are tried."""
    folded = fold(question)
    for candidate in (lang,) if lang in _PHRASES else _LANGUAGES:
        assert candidate is not None
        found = _pattern(candidate).search(folded)
        if found is not None:
            since, until = _range(found, candidate, now)
            rest = " ".join((folded[: found.start()] + " " + folded[found.end() :]).split())
            return Scope(since, until, found.group(), rest)
    return None


def _range(found: re.Match[str], lang: str, now: datetime) -> tuple[datetime, datetime]:
    today = _day(now)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    if found.group("month"):
        month = _months(lang)[found.group("month")]
        year = today.year if month <= today.month else today.year - 1  # "in August" in March: last August
        return datetime(year, month, 1, tzinfo=UTC), datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
    ranges = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this week": (monday, monday + timedelta(days=7)),
        "last week": (monday - timedelta(days=7), monday),
        "last 7 days": (today - timedelta(days=7), today + timedelta(days=1)),
        "this month": (first, (first + timedelta(days=32)).replace(day=1)),
        "last month": ((first - timedelta(days=1)).replace(day=1), first),
    }
    return ranges[_PHRASES[lang][found.group("phrase")]]
