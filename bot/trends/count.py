"""What the stories of a window talk about: the watchlist's names and the keyphrases, counted in stories per day, set
against the window before. Pure: stories, names and dates in, a report out."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MIN_STORIES = 2  # a keyphrase from one story is not a trend
OVERLAP = 0.8  # share of stories two keyphrases with a word in common must have together to be one topic
# A name is matched as a whole word, ignoring case; Chinese, Japanese and Korean letters around it do not count as
# part of the word ("OpenAI发布" mentions OpenAI), other letters do ("Metaverse" does not mention Meta).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_BEFORE, _AFTER = rf"(?<![^\W{_CJK}])", rf"(?![^\W{_CJK}])"


@dataclass(frozen=True)
class Watch:
    """A name from the watchlist and the other ways stories write it."""

    name: str
    aliases: tuple[str, ...] = ()

    def pattern(self) -> re.Pattern[str]:
        spellings = sorted({self.name, *self.aliases}, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, s.split())) for s in spellings)
        return re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}", re.IGNORECASE)

    def words(self) -> set[tuple[str, ...]]:
        return {tuple(s.casefold().split()) for s in (self.name, *self.aliases)}


@dataclass(frozen=True)
class TrendStory:
    day: date  # in the reader's time zone
    phrases: tuple[str, ...]  # lowercased keyphrases (bot.trends.keyphrases)
    text: str  # what names are looked for in: title, text and pivot


@dataclass(frozen=True)
class Trend:
    name: str
    watched: bool  # from the watchlist, or a keyphrase
    daily: tuple[int, ...]  # stories per day of the window, oldest first
    previous: int  # stories in the window before

    @property
    def total(self) -> int:
        return sum(self.daily)

    @property
    def change(self) -> int:
        return self.total - self.previous


@dataclass(frozen=True)
class TrendReport:
    days: tuple[date, ...]  # the window, oldest first
    stories: int  # in the window
    previous_stories: int  # in the window before
    watched: list[Trend]  # watchlist names mentioned in the window, most first
    phrases: list[Trend]  # keyphrases of at least MIN_STORIES stories, most first
    movers: list[Trend]  # names and phrases that rose most against the window before

    def top(self, count: int) -> list[Trend]:
        """The `count` most told names and phrases together: what a chart shows."""
        return sorted(self.watched + self.phrases, key=_rank)[:count]


def window(today: date, days: int) -> tuple[date, ...]:
    return tuple(today - timedelta(days=n) for n in reversed(range(days)))


def trends(
    stories: Sequence[TrendStory], watchlist: Sequence[Watch], *, today: date, days: int = 7, top: int = 10
) -> TrendReport:
    """Counts over the `days` days ending `today` (stories outside it and the `days` before are ignored)."""
    current = window(today, days)
    first_previous = current[0] - timedelta(days=days)
    column = {day: n for n, day in enumerate(current)}
    patterns = [(watch, watch.pattern()) for watch in watchlist]
    named = set().union(*(watch.words() for watch in watchlist)) if watchlist else set()
    daily: dict[tuple[bool, str], list[int]] = defaultdict(lambda: [0] * days)
    previous: Counter[tuple[bool, str]] = Counter()
    counted = Counter[str]()
    told: dict[str, set[int]] = defaultdict(set)  # keyphrase -> the window's stories (their index) that have it
    rank: dict[str, list[int]] = defaultdict(list)  # keyphrase -> its place in each story's list (0: yake's best)
    for index, story in enumerate(stories):
        if story.day in column:
            counted["current"] += 1
        elif first_previous <= story.day < current[0]:
            counted["previous"] += 1
        else:
            continue
        keys = {(True, watch.name) for watch, pattern in patterns if pattern.search(story.text)}
        own = [p for p in story.phrases if not _names_in(p, named)]
        keys |= {(False, p) for p in own}
        if story.day in column:
            for place, phrase in enumerate(own):
                told[phrase].add(index)
                rank[phrase].append(place)
        for key in keys:
            if story.day in column:
                daily[key][column[story.day]] += 1
            else:
                previous[key] += 1
    made = [Trend(name, watched, tuple(daily[(watched, name)]), previous[(watched, name)]) for watched, name in daily]
    watched = sorted((t for t in made if t.watched), key=_rank)
    candidates = [t for t in made if not t.watched and t.total >= MIN_STORIES]
    candidates.sort(key=lambda t: (-t.total, sum(rank[t.name]) / len(rank[t.name]), t.name))
    phrases = _distinct(candidates, told)
    rising = [t for t in made if t.change > 0 and (t.watched or t in phrases)]
    movers = sorted(rising, key=lambda t: (-t.change, -t.total, t.name))[:top]
    return TrendReport(current, counted["current"], counted["previous"], watched[:top], phrases[:top], movers)


def _distinct(ranked: Sequence[Trend], told: dict[str, set[int]]) -> list[Trend]:
    """Keyphrases that are one topic said in several ways ("voice agent", "agent launch", "voice agent launch" from
    the same stories) kept once, the best ranked: a phrase goes when it shares a word with a kept one and most of
    the stories of either are the other's."""
    kept: list[Trend] = []
    for trend in ranked:
        words, stories = set(trend.name.split()), told[trend.name]
        if not any(
            words & set(other.name.split())
            and len(stories & told[other.name]) >= OVERLAP * min(len(stories), len(told[other.name]))
            for other in kept
        ):
            kept.append(trend)
    return kept


def _rank(trend: Trend) -> tuple[int, int, str]:
    return (-trend.total, -trend.change, trend.name)


def _names_in(phrase: str, named: set[tuple[str, ...]]) -> bool:
    """A keyphrase that holds a watchlist name ("openai launches") or is part of one ("google" of "Google
    DeepMind") is that name's mention, counted there."""
    words = tuple(phrase.split())
    return any(_within(n, words) or _within(words, n) for n in named)


def _within(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    return any(whole[i : i + len(part)] == part for i in range(len(whole) - len(part) + 1))
