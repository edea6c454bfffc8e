"""A fixture fortnight with known counts: how many stories mention each watchlist name on each day of the week up to
TODAY, how many the week before, and which of them talk about a "voice agent"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.trends.count import Watch

TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
WATCHLIST = (Watch("OpenAI"), Watch("Nvidia"), Watch("Google DeepMind", ("DeepMind",)), Watch("Meta"))
# Stories per day, 19 to 25 November (oldest first), and in all of 12 to 18 November.
WEEK = {"OpenAI": (2, 0, 1, 3, 0, 2, 1), "Nvidia": (0, 1, 1, 0, 2, 0, 0), "Google DeepMind": (1, 0, 0, 0, 1, 0, 1)}
BEFORE = {"OpenAI": 4, "Nvidia": 6, "Google DeepMind": 0}
TOPICS = ("chip supply", "energy deal", "safety research", "robotics lab", "cloud contract", "open weights")


@dataclass(frozen=True)
class Item:
    id: str
    day: date
    title: str
    text: str
    voice_agent: bool


def items(today: date = TODAY) -> list[Item]:
    """One story per mention; every other OpenAI story this week is about its voice agent. DeepMind is written both
    ways; "metadata" and "metà" must not count as Meta."""
    made = []
    for name, daily in WEEK.items():
        days = [today - timedelta(days=6 - n) for n, count in enumerate(daily) for _ in range(count)]
        days += [today - timedelta(days=7 + n % 7) for n in range(BEFORE[name])]
        for n, day in enumerate(days):
            spelled = "DeepMind" if name == "Google DeepMind" and n % 2 else name
            voice = name == "OpenAI" and day > today - timedelta(days=7) and n % 2 == 0
            topic = TOPICS[n % len(TOPICS)]
            subject = "Voice agent launch" if voice else topic.capitalize()
            text = (
                f"{spelled} talked about the {topic} on {day:%d %B}. "
                + ("The voice agent answers customer calls and books appointments. " if voice else "")
                + f"Analysts expect more metadata about item {n}, and a second update at metà mese."
            )
            made.append(Item(f"{name.split()[-1].lower()}-{n}", day, f"{spelled}: {subject} ({n})", text, voice))
    return made


def feed(today: date = TODAY) -> bytes:
    """The fortnight as one RSS feed, each story published at 10:00 UTC on its day."""
    from tests.qa_corpus import rss

    return rss(
        [
            {"id": i.id, "title": i.title, "text": i.text, "published": f"{i.day.isoformat()}T10:00:00Z"}
            for i in items(today)
        ]
    )


FEEDS_YAML = {
    "settings": {
        "languages": ["en", "it", "de"],
        "watchlist": ["OpenAI", "Nvidia", {"name": "Google DeepMind", "aliases": ["DeepMind"]}, "Meta"],
    }
}
