"""Splits text into sentences and packs sentences into token-bounded chunks and batches; never drops or reorders text, loads no model."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Words that end in a period without ending a sentence (compared lowercased, without the period), space-separated.
# Single letters (initials: "George W. Bush") and dotted forms ("U.S.", "z.B.", "p.ex.") are handled in general.
_COMMON = "mr mrs ms dr prof st jr sr vs inc ltd co corp gen gov sen rep lt col capt sgt mt ave approx jan feb mar apr jun jul aug sep sept oct nov dec"
_ABBREVIATIONS = {
    "en": f"{_COMMON} est dept univ assn bros ft",
    "it": f"{_COMMON} sig sigg dott dottssa ing avv arch geom rag ecc cfr on tel",
    "de": f"{_COMMON} bzw usw ca ggf vgl str abs hr fr dipl mio mrd bzgl evtl inkl zzgl tel okt dez",
    "fr": f"{_COMMON} m mme mlle mm me cf av bd env tél éd",
    "es": f"{_COMMON} sra srta dra ud uds tel av avda dña dto",
    "pt": f"{_COMMON} sra srta dra tel av exmo exma",
    "ru": "г гг ул им др проф см стр т тыс млн млрд руб коп",
}
ABBREVIATIONS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in _ABBREVIATIONS.items()}
_DEFAULT_ABBREVIATIONS = frozenset(_COMMON.split())
# Abbreviations that are also words ("no", "art"): they hold a sentence together only before a number ("No. 5").
_NUMBER_WORDS = "no nos nr n núm art pag pagg pág págs p pp fig vol"
_NUMBER_ABBREVIATIONS = frozenset(_NUMBER_WORDS.split())

# Closing quotes and brackets that belong to the sentence they end; “ and ‘ close German quotes („…“ ‚…‘).
_CLOSERS = "\"'”’“‘»)]}」』）〉》"
# After a Chinese or Japanese full stop “ ‘ and ASCII quotes open the next sentence.
_CJK_CLOSERS = "”’)]}」』）〉》"
# Where a new sentence may start: a letter or digit, an opening quote or bracket, Spanish ¿¡.
_OPENERS = "\"'“‘„‚«‹([{¿¡「『（〈《"
# A candidate boundary: . ! ? … (runs like "?!" too) and closers, then whitespace; or 。！？ and closers, with or
# without whitespace (Chinese and Japanese put no space between sentences).
_BOUNDARY = re.compile(rf"[.!?…]+(?:\s?[{re.escape(_CLOSERS)}])*\s+|[。！？]+[{re.escape(_CJK_CLOSERS)}]*\s*")
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")
_LAST_WORD = re.compile(r"(\S+?)[.]+(?:\s?[" + re.escape(_CLOSERS) + r"])*\s*$")


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of `text`, in order, stripped; every line break is a boundary too (paragraphs, titles).

    Joining a line's sentences with a single space gives back its words exactly (whitespace runs may differ). Latin and
    Cyrillic text breaks after . ! ? … when the next word can start a sentence and the period does not close an
    abbreviation, an initial or a German ordinal ("am 3. Oktober"); Chinese and Japanese break after 。！？ with or
    without a following space. When in doubt it does not break: a long sentence costs nothing, a cut one costs sense.
    """
    sentences: list[str] = []
    for line in text.splitlines():
        sentences += _split_line(line.strip(), lang)
    return sentences


def _split_line(line: str, lang: str) -> list[str]:
    if not line:
        return []
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(line):
        end = match.end()
        if end >= len(line):
            break
        if _is_boundary(line[start : match.end()], line[end], lang):
            pieces.append(line[start:end].strip())
            start = end
    pieces.append(line[start:].strip())
    return [piece for piece in pieces if piece]


def _is_boundary(before: str, next_char: str, lang: str) -> bool:
    """Whether the text `before` (ending in terminal punctuation) ends a sentence, given the next sentence's first char."""
    stripped = re.sub(rf"[\s{re.escape(_CLOSERS)}]+$", "", before)
    if stripped[-1] in "。！？":
        # 「はい。」と彼は言った: a Japanese quote followed by the quotative particle is part of a longer sentence.
        return not (next_char == "と" and before.rstrip()[-1] in _CLOSERS)
    if not (next_char.isalnum() or next_char in _OPENERS) or next_char.islower():
        return False  # "etc. and so on", "... e poi", a bare symbol: the sentence goes on
    if not stripped.endswith("."):
        return True  # ! ? …
    match = _LAST_WORD.search(before)
    if match is None:
        return True
    word = match.group(1).lstrip(_OPENERS)
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "J. K. Rowling", "George W. Bush"
    if _DOTTED.fullmatch(word):
        return False  # a dotted abbreviation: "U.S.", "z.B.", "p.ex." (not "5.0Ghz")
    if lang == "de" and word.isdigit() and len(word) <= 3:
        return False  # a German ordinal: "am 3. Oktober", "der 1. FC Köln"
    if word.lower() in _NUMBER_ABBREVIATIONS and next_char.isdigit():
        return False
    return word.lower() not in ABBREVIATIONS.get(lang, _DEFAULT_ABBREVIATIONS)


def fit_sentences(sentences: Sequence[str], count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """The sentences, except that one over `max_tokens` is cut into consecutive pieces that fit.

    Cuts fall between words (between characters in text without spaces, such as Chinese, or in one giant word), as
    evenly as the token counts allow; joining a sentence's pieces with a space gives back its words. Nothing is dropped.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, not {max_tokens}")
    fitted: list[str] = []
    for sentence in sentences:
        fitted += _cut(sentence, count_tokens, max_tokens)
    return fitted


def _cut(text: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    if count_tokens(text) <= max_tokens:
        return [text]
    words = text.split()
    if len(words) > 1:
        middle = len(words) // 2
        halves = " ".join(words[:middle]), " ".join(words[middle:])
    elif len(text) > 1:
        middle = len(text) // 2
        halves = text[:middle], text[middle:]
    else:
        return [text]  # a single character over the budget: nothing smaller exists, and dropping it would lose text
    return _cut(halves[0], count_tokens, max_tokens) + _cut(halves[1], count_tokens, max_tokens)


def chunk_sentences(
    sentences: Sequence[str], count_tokens: Callable[[str], int], max_tokens: int, *, joiner: str = " "
) -> list[list[str]]:
    """Consecutive sentences grouped so that each group, joined with `joiner`, counts at most `max_tokens`.

    `count_tokens` counts a text's tokens without the model's special tokens, and `max_tokens` is the model's input
    length minus those (`tokenizer.num_special_tokens_to_add()`). Every sentence lands in exactly one group, in order;
    a sentence longer than `max_tokens` is first cut with `fit_sentences`, its pieces packed like sentences. Groups are
    filled by the sum of their parts' counts, then each is counted as joined (a tokenizer may count a joined text
    differently from its parts) and halved until it fits, so the bound holds for the text the model will see.
    """
    pieces = fit_sentences(sentences, count_tokens, max_tokens)
    groups: list[list[str]] = []
    current: list[str] = []
    current_tokens = 0
    for piece in pieces:
        tokens = count_tokens(piece)
        if current and current_tokens + tokens > max_tokens:
            groups += _checked(current, count_tokens, max_tokens, joiner)
            current, current_tokens = [], 0
        current.append(piece)
        current_tokens += tokens
    if current:
        groups += _checked(current, count_tokens, max_tokens, joiner)
    return groups


def _checked(group: list[str], count_tokens: Callable[[str], int], max_tokens: int, joiner: str) -> list[list[str]]:
    if len(group) == 1 or count_tokens(joiner.join(group)) <= max_tokens:
        return [group]
    middle = len(group) // 2
    return _checked(group[:middle], count_tokens, max_tokens, joiner) + _checked(
        group[middle:], count_tokens, max_tokens, joiner
    )


def token_batches(counts: Sequence[int], *, max_items: int, max_tokens: int | None = None) -> list[list[int]]:
    """Indices of texts with these token counts, grouped for batched generation (translation of sentences).

    Shortest first, so a batch pads little; a batch holds at most `max_items` texts, and at most `max_tokens` tokens
    once padded (items x longest), which bounds its memory. Every index lands in exactly one batch.
    """
    batches: list[list[int]] = []
    batch: list[int] = []
    for index in sorted(range(len(counts)), key=counts.__getitem__):
        full = len(batch) >= max(1, max_items)
        too_long = max_tokens is not None and (len(batch) + 1) * counts[index] > max_tokens
        if batch and (full or too_long):
            batches.append(batch)
            batch = []
        batch.append(index)
    if batch:
        batches.append(batch)
    return batches
