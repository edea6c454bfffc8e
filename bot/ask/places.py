"""Countries and peoples, however a text names them: a question about "French data centres" is answered by a story
about data centres "in France", one about "a European startup" by a story about a French one, "Alemanha" meets
"Germany". Pure; the names are CLDR's, through babel: every country and Europe in the six Latin-script languages, and
the name of a country's first official language standing for that country (French: France, Deutsch: Germany;
Breton, official nowhere, for none)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache

from babel import Locale
from babel.core import get_global
from babel.languages import get_official_languages

from bot.ask.salient import fold_words

_LANGUAGES = ("en", "it", "de", "fr", "es", "pt")
# Europe by CLDR's region 150 and the EU, which babel names but does not list the members of.
_EUROPEAN = (
    "AD AL AT BA BE BG BY CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT "
    "LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SK SM UA VA XK"
)
EUROPE = frozenset(_EUROPEAN.split())
_SHORTEST = 4  # shorter names (Chad is one, but so is "us") are left to the literal check


def _stem(word: str) -> str:
    return word[: max(5, len(word) - 2)]


@cache
def _first_official(territory: str) -> str | None:
    official = get_official_languages(territory, de_facto=True)
    return official[0] if official else None


@cache
def _index() -> dict[str, frozenset[str]]:
    """Folded name -> the country codes it stands for."""
    index: dict[str, set[str]] = {}
    likely: Mapping[str, str] = get_global("likely_subtags")
    for lang in _LANGUAGES:
        locale = Locale.parse(lang)
        for code, name in locale.territories.items():
            codes = EUROPE if code in ("150", "EU") else {code} if re.fullmatch(r"[A-Z]{2}", code) else set()
            if codes:
                index.setdefault(fold_words(name), set()).update(codes)
        for code, name in locale.languages.items():
            home = likely.get(code, "").rsplit("_", 1)[-1]
            if len(name.split()) == 1 and re.fullmatch(r"[A-Z]{2}", home) and _first_official(home) == code:
                index.setdefault(fold_words(name), set()).add(home)
    return {name: frozenset(codes) for name, codes in index.items() if len(name) >= _SHORTEST}


@cache
def _by_start() -> dict[str, list[str]]:
    """The one-word names by their first four letters, so that a story's words are looked up quickly."""
    starts: dict[str, list[str]] = {}
    for name in _index():
        if " " not in name:
            starts.setdefault(name[:4], []).append(name)
    return starts


def _same(word: str, name: str) -> bool:
    """A word is a name in any inflection: francais, francaise; franzosisch, franzosischen."""
    return word == name or (word.startswith(_stem(name)) and abs(len(word) - len(name)) <= 3)


def place(words: Iterable[str]) -> frozenset[str]:
    """The countries a name (its folded words) stands for; none when it names no country or people."""
    words = tuple(words)
    index = _index()
    if len(words) > 1:
        return index.get(" ".join(words), frozenset())
    if not words:
        return frozenset()
    [word] = words
    return frozenset(
        code for name in _by_start().get(word[:4], []) if _same(word, name) or _same(name, word) for code in index[name]
    )


def spelled_place(word: str) -> frozenset[str]:
    """The countries a word written in small letters names: a country, people or language exactly as CLDR spells it,
    or with a vowel, -s or -n ending more ("española", "francesi"); never a word that only looks like one ("fine",
    "sued", "cameras")."""
    index = _index()
    for cut in (0, 1, 2):
        key = word[: len(word) - cut]
        if key in index and len(key) >= _SHORTEST + 1 and set(word[len(key) :]) <= set("aeiosn"):
            return index[key]
    return frozenset()


@lru_cache(maxsize=64)
def places(words: frozenset[str]) -> frozenset[str]:
    """The countries a text's folded words name, as countries, peoples or languages. Europe is none of them: a story
    about Europe says nothing of France."""
    found: set[str] = set()
    for word in words:
        codes = place([word])
        if len(codes) == 1:
            found.update(codes)
    for name, codes in _several_words():
        if all(w in words for w in name):
            found.update(codes)
    return frozenset(found)


@cache
def home(lang: str | None) -> frozenset[str]:
    """The country a story in this language is most likely about, when the language is that country's first official
    one (de: Germany, it: Italy): a German story about the Bundestag answers a question about Germany. English, the
    language of news from everywhere, has none."""
    if not lang or lang == "en":
        return frozenset()
    country = get_global("likely_subtags").get(lang, "").rsplit("_", 1)[-1]
    return (
        frozenset([country]) if re.fullmatch(r"[A-Z]{2}", country) and _first_official(country) == lang else frozenset()
    )


@cache
def _several_words() -> list[tuple[list[str], frozenset[str]]]:
    """The names of one country in more than one word (united states, regno unito), split, with their code."""
    return [(name.split(), codes) for name, codes in _index().items() if " " in name and len(codes) == 1]
