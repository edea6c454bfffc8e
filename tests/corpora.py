"""Where the third-party test material lives (../shared/corpora, read in place, never copied) and small readers of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# CI clones the project with a copy of shared/ beside it.
CORPORA = ROOT.parent / "shared" / "corpora"
ITALIAN_ARTICLE = CORPORA / "articles" / "it-anthropic-openai-api.txt"
FLORES = CORPORA / "mt_sum" / "flores200_devtest"
# ISO 639-1 code -> FLORES-200 file stem, for the nine configured languages.
FLORES_FILES = {
    "en": "eng_Latn",
    "it": "ita_Latn",
    "de": "deu_Latn",
    "fr": "fra_Latn",
    "es": "spa_Latn",
    "pt": "por_Latn",
    "ru": "rus_Cyrl",
    "ja": "jpn_Jpan",
    "zh": "zho_Hans",
}
POLISH_FEED = CORPORA / "feeds" / "real" / "kagi-fastfeedparser" / "integration" / "expected" / "osm-pl.json"
# Written for these tests: the corpora hold no Dutch (a language newsbot is not configured for).
DUTCH = [
    "De regering heeft vandaag nieuwe maatregelen aangekondigd om de stijgende energieprijzen te beteugelen.",
    "Volgens het rapport van de centrale bank zal de economie volgend jaar slechts licht groeien.",
    "Het bedrijf maakte bekend dat het honderden banen schrapt in zijn Nederlandse vestigingen.",
    "Onderzoekers van de universiteit hebben een nieuw taalmodel gepresenteerd dat veel minder stroom verbruikt.",
    "Waarom blijven de huizenprijzen stijgen terwijl de rente omhoog gaat?",
    "Kabinet schrapt subsidie voor zonnepanelen en elektrische auto's",
]


def flores_lines(lang: str, count: int | None = None) -> list[str]:
    """FLORES-200 devtest lines of `lang`: an ISO code ("it") or a file stem ("ita_Latn")."""
    stem = FLORES_FILES.get(lang, lang)
    return (FLORES / f"{stem}.devtest").read_text(encoding="utf-8").splitlines()[:count]


def snippet(line: str, lang: str) -> str:
    """Headline/question length: the first 4 words, or the first 8 characters of Japanese and Chinese."""
    return line[:8] if lang in ("ja", "zh") else " ".join(line.split()[:4])


def polish_feed_entries() -> tuple[list[str], list[dict[str, str]]]:
    """(Polish titles and descriptions as text, the feed's English entries): entries 1 and 2 are in English."""
    entries = json.loads(POLISH_FEED.read_text(encoding="utf-8"))["entries"]
    polish = [entry for i, entry in enumerate(entries) if i not in (1, 2)]
    texts = [entry["title"] for entry in polish] + [re.sub(r"<[^>]+>", " ", entry["description"]) for entry in polish]
    return texts, [entries[1], entries[2]]
