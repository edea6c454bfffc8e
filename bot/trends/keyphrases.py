"""A story's keyphrases with yake: on the English pivot when there is one, else on the original with yake's stopwords
for its language. Phrases with a stopword inside ("introduced a voice") and bare numbers are dropped; what is kept is
lowercased, so counts across stories add up. Phrases with a date word ("19 november") go too."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from babel import Locale

if TYPE_CHECKING:
    import yake

MAX_WORDS = 3
PER_STORY = 5
# yake ships stopword lists under its own codes; these languages have one (and words separated by spaces).
_YAKE_CODES = {
    "en": "en",
    "it": "it",
    "de": "de",
    "fr": "fr",
    "es": "es",
    "pt": "pt",
    "ru": "ru",
    "nl": "nl",
    "pl": "pl",
    "cs": "cz",
}
_WORD = re.compile(r"\w[\w'’.-]*\w|\w", re.UNICODE)


@cache
def _extractor(code: str) -> yake.KeywordExtractor:
    import yake  # 0.4 s of imports: paid by the first story, not by every command

    # A few extra candidates: some are dropped below.
    return yake.KeywordExtractor(lan=code, n=MAX_WORDS, dedup_lim=0.8, top=PER_STORY * 3)


@cache
def _date_words(lang: str) -> frozenset[str]:
    """Month and weekday names (and their abbreviations) in `lang`: "on 19 November" is not a topic."""
    locale = Locale.parse(lang)
    tables = [locale.months["format"], locale.days["format"]]
    return frozenset(n.lower().rstrip(".") for t in tables for w in ("wide", "abbreviated") for n in t[w].values())


def supported(lang: str | None) -> bool:
    return lang in _YAKE_CODES


def keyphrases(text: str, lang: str = "en", limit: int = PER_STORY) -> list[str]:
    """The `limit` best keyphrases of `text`, lowercased, best first; [] for a language yake cannot split."""
    code = _YAKE_CODES.get(lang)
    if code is None or not text.strip():
        return []
    extractor = _extractor(code)
    stopwords = extractor.stopword_set | _date_words(lang)
    kept: list[str] = []
    for phrase, _score in extractor.extract_keywords(text):
        words = _WORD.findall(phrase.lower())
        if not words or all(w.replace(".", "").isdigit() for w in words):
            continue
        if any(w in stopwords for w in words) or (len(words) == 1 and len(words[0]) < 3):
            continue
        normalized = " ".join(words)
        if normalized not in kept:
            kept.append(normalized)
        if len(kept) == limit:
            break
    return kept
