"""Trend counting: a known fortnight's counts per day and against the week before, aliases, whole-word names in any
script, keyphrases that hold a name counted under the name, movers."""

from __future__ import annotations

from datetime import timedelta

from bot.trends.count import MIN_STORIES, TrendStory, Watch, trends
from tests.trends.week import BEFORE, TODAY, WATCHLIST, WEEK, items


def test_a_known_fortnight_gives_its_counts_per_day_and_against_the_week_before() -> None:
    stories = [TrendStory(i.day, ("voice agent",) if i.voice_agent else (), f"{i.title}\n{i.text}") for i in items()]
    stories.append(TrendStory(TODAY - timedelta(days=20), ("voice agent",), "OpenAI, long ago"))  # outside both
    report = trends(stories, WATCHLIST, today=TODAY, days=7)
    assert report.days[0] == TODAY - timedelta(days=6) and report.days[-1] == TODAY
    assert report.stories == sum(map(sum, WEEK.values())) and report.previous_stories == sum(BEFORE.values())
    assert {t.name: t.daily for t in report.watched} == WEEK  # "Meta" is never mentioned: metadata, metà
    assert {t.name: t.previous for t in report.watched} == BEFORE
    assert [t.name for t in report.watched] == ["OpenAI", "Nvidia", "Google DeepMind"]  # most first
    [voice] = report.phrases
    assert voice.name == "voice agent" and voice.total == sum(i.voice_agent for i in items()) and voice.previous == 0
    assert [(t.name, t.change) for t in report.movers] == [
        ("OpenAI", 5),
        ("voice agent", voice.total),
        ("Google DeepMind", 3),
    ]
    assert [t.name for t in report.top(3)] == ["OpenAI", "voice agent", "Nvidia"]  # names and phrases together


def test_names_are_whole_words_in_any_script_and_keyphrases_holding_one_count_as_it() -> None:
    watch = [Watch("Meta", ("Meta Platforms",)), Watch("OpenAI")]
    texts = ["Meta  Platforms sues", "OpenAI发布了新模型", "metadata and metà", "Metaverse", "the META deal"]
    stories = [TrendStory(TODAY, ("openai launches", "new model"), text) for text in texts]
    report = trends(stories, watch, today=TODAY, days=1)
    assert {t.name: t.total for t in report.watched} == {"Meta": 2, "OpenAI": 1}
    assert [t.name for t in report.phrases] == ["new model"]  # "openai launches" is OpenAI's, not a phrase
    parts = [TrendStory(TODAY, ("meta", "platforms", "voice agent", "agent launch", "voice"), "") for _ in "ab"]
    assert [t.name for t in trends(parts, watch, today=TODAY, days=1).phrases] == ["voice agent"]  # one topic, once
    lone = trends([TrendStory(TODAY, ("once",), "")] * (MIN_STORIES - 1), watch, today=TODAY, days=1)
    assert lone.phrases == [] and lone.stories == MIN_STORIES - 1
