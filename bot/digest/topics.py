"""Topic filters: `/topics kw1, kw2, -kw3` parsed, and matched case-insensitively as whole words or phrases: a story
must mention one topic (if there is any) and none of the excluded ones (written with a leading "-"). No regular
expressions from users (a denial-of-service door): a topic is a sequence of words, compared token by token."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

MAX_TOPICS = 20
MAX_TOPIC_CHARS = 60

_WORD = re.compile(r"[^\W_]+")
# Scripts written without spaces between words: a topic in them matches as a substring.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")


class TopicsError(ValueError):
    """A /topics argument that cannot be used; the message says why."""


def parse_topics(text: str) -> tuple[str, ...]:
    """Comma-separated topics, trimmed and deduplicated (ignoring case); an excluded one keeps its leading "-"; empty
    text means no filter."""
    topics: dict[str, str] = {}
    for raw in text.split(","):
        topic = " ".join(raw.split())
        if topic.startswith("-"):
            topic = "-" + topic[1:].strip()
        if not topic:
            continue
        if len(topic) > MAX_TOPIC_CHARS:
            raise TopicsError(f"a topic has at most {MAX_TOPIC_CHARS} characters")
        if not _WORD.search(topic):
            raise TopicsError(f"{topic!r} has no letters or digits")
        topics.setdefault(_fold(topic), topic)
    if len(topics) > MAX_TOPICS:
        raise TopicsError(f"at most {MAX_TOPICS} topics")
    return tuple(topics.values())


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _tokens(text: str) -> list[str]:
    return _WORD.findall(_fold(text))


def excluded(topic: str) -> bool:
    return topic.startswith("-")


def matches(topics: Sequence[str], texts: Iterable[str]) -> bool:
    """True if no excluded topic occurs in the texts, and there is no other topic or one of them occurs (as whole
    words)."""
    if not topics:
        return True
    folded = [_fold(text) for text in texts if text]
    token_lists = [_WORD.findall(text) for text in folded]
    wanted = [t for t in topics if not excluded(t)]
    unwanted = [t[1:] for t in topics if excluded(t)]
    if unwanted and _mentions(unwanted, folded, token_lists):
        return False
    return not wanted or _mentions(wanted, folded, token_lists)


def _mentions(topics: Sequence[str], folded: Sequence[str], token_lists: Sequence[list[str]]) -> bool:
    for topic in topics:
        if _UNSPACED.search(topic):
            needle = _fold(topic)
            if any(needle in text for text in folded):
                return True
            continue
        wanted = _tokens(topic)
        if any(_contains(tokens, wanted) for tokens in token_lists):
            return True
    return False


def _contains(tokens: Sequence[str], wanted: Sequence[str]) -> bool:
    size = len(wanted)
    first = wanted[0]
    return any(tokens[i] == first and list(tokens[i : i + size]) == list(wanted) for i in range(len(tokens) - size + 1))


def mentions(groups: Sequence[Sequence[str]], texts: Iterable[str]) -> int:
    """How many of the groups (a name and its other spellings) the texts mention, as whole words."""
    folded = [_fold(text) for text in texts if text]
    token_lists = [_WORD.findall(text) for text in folded]
    return sum(1 for group in groups if _mentions(group, folded, token_lists))
