"""Every text the bot itself says, in the reader's language: gettext catalogs under bot/locales/<lang>/LC_MESSAGES/.

Catalogs are .po files only: Babel compiles each one in memory the first time its language is needed, so no binary
catalog is committed or built. A language without a catalog, or a message without a translation, falls back to English.
Messages are plain text with `{name}` placeholders; whoever sends them as HTML escapes them.
"""

from __future__ import annotations

import gettext
import logging
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "newsbot"


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Texts:
    """`t("Hello {name}", name=x)` and `t.n("{count} story", "{count} stories", n)` in one language."""

    lang: str
    catalog: gettext.NullTranslations

    def __call__(self, msgid: str, /, **values: object) -> str:
        text = self.catalog.gettext(msgid)
        return text.format(**values) if values else text

    def n(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        return self.catalog.ngettext(singular, plural, count).format(count=count, **values)


@cache
def texts(lang: str) -> Texts:
    return Texts(lang, _catalog(lang))


def available_catalogs() -> list[str]:
    return sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def _catalog(lang: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
