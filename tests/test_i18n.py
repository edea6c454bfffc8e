"""The catalogs: every message the code says is translated in every catalog, with every plural form and the same
placeholders, in the catalog's language; a language without a catalog falls back to English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, available_catalogs, texts
from summarizer.detect import LinguaDetector

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"t": None, "n": (1, 2), "N_": None}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
CATALOGS = ["de", "es", "fr", "it", "pt"]

# A translation of at least MIN_WORDS words (what is left once _NOT_WORDS are taken out) must read as its catalog's
# language to the real detector, restricted to the catalogs' languages and English: this catches entries filled from
# another catalog (Italian texts in the German one, say). Shorter texts ("en pausa", "chat privado") carry too little
# evidence to tell Spanish from Portuguese or Italian.
MIN_WORDS = 5
DETECTED_LANGUAGES = ("en", "it", "de", "fr", "es", "pt")
# The same in every language, or misleading: placeholders; commands and anything else holding a slash (URLs, time zones
# such as Europe/Rome); @names; abbreviations of one to three letters before more text ("z. B.", "p. ej.", "es."),
# which are words of other languages too ("es" is Spanish for "is": "La tua lingua, es. /lang de" read as Spanish).
_NOT_WORDS = re.compile(r"\{\w+\}|\S*/\S*|@\w+|(?<!\w)[^\W\d_]{1,3}\.(?= )")
_WORD = re.compile(r"[^\W\d_]+")


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT / "bot", keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def read_catalog(lang: str) -> Catalog:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "newsbot.po").open("rb") as po:
        return read_po(po, locale=lang)


def misdetected(catalog: Catalog, lang: str, detector: LinguaDetector) -> tuple[int, list[tuple[str, str]]]:
    """How many of the catalog's translations are long enough to judge, and (detected language, translation) for each
    of those that does not read as `lang`."""
    strings: dict[str, str] = {}
    for message in catalog:
        if message.id:
            forms = [message.string] if isinstance(message.string, str) else list(message.string)
            for form in forms:
                words = _NOT_WORDS.sub(" ", form)
                if len(_WORD.findall(words)) >= MIN_WORDS:
                    strings[form] = words
    detections = detector.detect_many(list(strings.values()))
    return len(strings), [(d.lang, form) for form, d in zip(strings, detections, strict=True) if d.lang != lang]


@pytest.fixture(scope="module")
def detector() -> LinguaDetector:
    return LinguaDetector(DETECTED_LANGUAGES)


def test_the_catalogs_are_the_expected_ones() -> None:
    assert available_catalogs() == CATALOGS


@pytest.mark.parametrize("lang", CATALOGS)
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    catalog = read_catalog(lang)
    translated = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog if m.id}
    wanted = code_messages()
    assert set(translated) == wanted, (
        sorted(map(str, wanted - set(translated))),
        sorted(map(str, set(translated) - wanted)),
    )
    for key, message in translated.items():
        ids = [key] if isinstance(key, str) else list(key)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert len(strings) == (1 if isinstance(key, str) else catalog.num_plurals), key
        expected = set(_PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert string.strip(), (lang, key)  # an empty form would silently show English
            assert set(_PLACEHOLDER.findall(string)) == expected, (lang, key, string)


@pytest.mark.parametrize("lang", CATALOGS)
def test_every_translation_is_in_the_catalogs_language(lang: str, detector: LinguaDetector) -> None:
    judged, wrong = misdetected(read_catalog(lang), lang, detector)
    assert judged >= 30, judged  # most of the catalog is judged: the test would notice if _NOT_WORDS ate the words
    assert not wrong, wrong


def test_plural_forms_and_fallback() -> None:
    it = texts("it")
    one = it.n("Your news digest: {count} story", "Your news digest: {count} stories", 1)
    many = it.n("Your news digest: {count} story", "Your news digest: {count} stories", 12)
    assert (one, many) == ("Il tuo notiziario: 1 notizia", "Il tuo notiziario: 12 notizie")
    assert texts("ja")("Welcome back!") == "Welcome back!"  # no catalog yet: English
    assert texts("de")("Welcome back!") == "Willkommen zurück!"


def test_every_literal_message_in_the_code_is_extracted() -> None:
    """Babel's extractor can silently skip a call (a `n` inside `sum(n for ...)` read as the plural keyword drops the
    whole message): every `t("...")` literal the source holds must be among the extracted messages."""
    extracted = {m if isinstance(m, str) else m[0] for m in code_messages()}
    literal = re.compile(r"""\bt(?:\.n)?\(\s*"((?:[^"\\]|\\.)+)"(?=\s*[,)])""")
    found = {
        ast.literal_eval(f'"{match.group(1)}"')
        for path in (ROOT / "bot").rglob("*.py")
        for match in literal.finditer(path.read_text(encoding="utf-8"))
    }
    assert len(found) > 60  # the pattern still sees the code: most calls are one literal
    examples = {"Hello {name}", "{count} story"}  # in bot/i18n.py's docstring, not messages
    assert found - examples <= extracted, sorted(found - examples - extracted)
