"""The catalogs: every message the code says is translated in every catalog, with every plural form and the same
placeholders; a language without a catalog falls back to English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, available_catalogs, texts

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"t": None, "n": (1, 2), "N_": None}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT / "bot", keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_the_catalogs_are_the_expected_ones() -> None:
    assert available_catalogs() == ["de", "es", "fr", "it", "pt"]


@pytest.mark.parametrize("lang", ["de", "es", "fr", "it", "pt"])
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "newsbot.po").open("rb") as po:
        catalog = read_po(po, locale=lang)
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


def test_plural_forms_and_fallback() -> None:
    it = texts("it")
    one = it.n("Your news digest: {count} story", "Your news digest: {count} stories", 1)
    many = it.n("Your news digest: {count} story", "Your news digest: {count} stories", 12)
    assert (one, many) == ("Il tuo notiziario: 1 notizia", "Il tuo notiziario: 12 notizie")
    assert texts("ja")("Welcome back!") == "Welcome back!"  # no catalog yet: English
    assert texts("de")("Welcome back!") == "Willkommen zurück!"
