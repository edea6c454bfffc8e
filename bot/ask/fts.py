"""Full-text search text on both sides of SQLite FTS5: what is indexed for a story, and the MATCH expression for a
question. Pure. FTS5's unicode61 tokenizer (diacritics removed) splits on spaces and punctuation, which Chinese and
Japanese do not use: their runs of characters are indexed, and searched, as overlapping character pairs instead."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from summarizer.detect import FUNCTION_WORDS

INDEXED_CHARS = 6000  # of each text: the lead is what a question is about; the rest only grows the index
MAX_QUERY_TERMS = 24
_UNSPACED_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+")
_STOPWORDS = frozenset(
    unicodedata.normalize("NFKC", word).casefold().rstrip("'")
    for words in FUNCTION_WORDS.values()
    for word in words.split()
)


def _pairs(run: str) -> str:
    return run if len(run) < 2 else " ".join(run[i : i + 2] for i in range(len(run) - 1))


def index_text(*texts: str | None) -> str:
    """The text FTS5 indexes: the given texts, each cut to INDEXED_CHARS, CJK runs as character pairs."""
    joined = "\n".join(t[:INDEXED_CHARS] for t in texts if t)
    return _UNSPACED_RUN.sub(lambda m: " " + _pairs(m.group()) + " ", joined)


def terms(question: str) -> list[str]:
    """The question's search terms: words without function words, CJK runs as character pairs, in order, deduplicated."""
    folded = unicodedata.normalize("NFKC", question).casefold()
    found: list[str] = []
    for match in _WORD.finditer(_UNSPACED_RUN.sub(lambda m: " " + _pairs(m.group()) + " ", folded)):
        word = match.group()
        if word in _STOPWORDS and not _UNSPACED_RUN.fullmatch(word):
            continue
        if word not in found:
            found.append(word)
    return found[:MAX_QUERY_TERMS]


def match_expression(words: Iterable[str]) -> str | None:
    """An FTS5 MATCH string that can only mean "any of these words": each is a quoted string (quotes doubled), so
    no user text is read as an operator (AND, NEAR, column filters, parentheses). None when there is nothing to find."""
    quoted = ['"' + word.replace('"', '""') + '"' for word in words if word]
    return " OR ".join(quoted) if quoted else None
