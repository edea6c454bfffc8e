"""A question's salient terms, the words an answer must contain: names (capitalised runs, acronyms, CamelCase,
words with digits), numbers, quoted phrases, and where they are present in a story's text. Pure. A term in a script
other than Latin (a katakana or Chinese name) cannot be looked for in a Latin text as written: such questions are
also read through their English pivot."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from summarizer.detect import FUNCTION_WORDS

_QUOTED = re.compile(r"[\"“”„«»「『]([^\"“”„«»「」『』]{2,60})[\"“”„«»」』]")
_L = "0-9A-Za-z\u00c0-\u024f"
_TOKEN = re.compile(rf"[{_L}](?:[{_L}.'’]*[{_L}])?")
_ELIDED = re.compile(r"^[a-z]{1,4}['’](?=\w)", re.IGNORECASE)  # l', d', dell', qu', L'
_POSSESSIVE = re.compile(r"['’]s?$")
_WORD = re.compile(r"[0-9a-z\u00df-\u00f6\u00f8-\u024f]+")  # after fold: no capitals; ÷ is no letter
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A CJK multiplier after a number: 20億 is two billion, not 20 (its value is left to the pivot's number words).
_SCALED = re.compile(r"\s*[十百千万萬億亿兆]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_OTHER_SCRIPT = re.compile(
    r"[\u0370-\u03ff\u0400-\u052f\u0590-\u06ff\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
)
# Languages whose nouns are all capitalised: a single capitalised word there is no sign of a name.
CAPITALISED_NOUNS = frozenset({"de"})
# Acronyms that are common nouns, spelled differently by each language (AI is IA in Italian, KI in German): no name.
_NOT_NAMES = frozenset(["ai", "ia", "ki", "eu", "ue"])


@dataclass(frozen=True)
class Term:
    text: str  # as folded: lower case, accents removed
    words: tuple[str, ...]
    kind: str  # "name", "number" or "quoted"


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Question words: capitalised at the start of a question, never a name.
_INTERROGATIVES = (
    "what which who whom whose when where why how "
    "che cosa chi quale quali quando dove perche come quanto quanta quanti quante "
    "was wer wen wem wessen welche welcher welches welchen welchem wann wo woher wohin warum wieso weshalb wie "
    "que quoi qui quel quelle quels quelles quand ou pourquoi comment combien lequel laquelle "
    "que quien quienes cual cuales cuando donde por como cuanto cuanta cuantos cuantas "
    "quem qual quais onde porque"
)


@cache
def function_words() -> frozenset[str]:
    words = [w for text in FUNCTION_WORDS.values() for w in text.split()] + _INTERROGATIVES.split()
    return frozenset(fold(w).rstrip("'") for w in words)


def _words(text: str) -> list[str]:
    """The folded words in Latin letters and digits: a run in another script is no word a Latin text can hold
    ("OpenAI花了多少钱收购Windsurf" has two, openai and windsurf)."""
    return _WORD.findall(fold(text))


def fold_words(text: str) -> str:
    """The text's words, folded, one space apart: "Comment s'appelle" -> "comment s appelle"."""
    return " ".join(_words(text))


def without_terms(text: str, terms: Sequence[Term]) -> str:
    """The text with the words of its terms taken out: what it asks about them ("When did ___ go public?")."""
    words = {w for t in terms for w in t.words}

    def keep(match: re.Match[str]) -> str:
        token = _POSSESSIVE.sub("", _ELIDED.sub("", match.group()))
        return "" if words and set(_words(token)) <= words else match.group()

    return " ".join(_TOKEN.sub(keep, text).split())


def salient_terms(question: str, lang: str | None) -> list[Term]:
    """The question's names, numbers and quoted phrases, in order, deduplicated. Only what is written in Latin
    letters or digits: a name in another script is found through the question's pivot (`salient_terms` of it)."""
    found: list[Term] = []

    def add(text: str, kind: str) -> None:
        words = tuple(_words(text))
        if words and not any(t.words == words for t in found):
            found.append(Term(" ".join(words), words, kind))

    for quoted in _QUOTED.findall(question):
        if _LATIN.search(quoted):
            add(quoted, "quoted")
    for match in _NUMBER.finditer(question):
        if len(re.sub(r"\D", "", match.group())) >= 2 and not _SCALED.match(question, match.end()):
            add(match.group(), "number")
    run: list[tuple[str, bool]] = []  # the words of a name being read, each with: does it start a sentence?
    tokens = list(_TOKEN.finditer(question))
    for n, match in enumerate(tokens):
        token = _POSSESSIVE.sub("", _ELIDED.sub("", match.group()))
        starts = n == 0 or _sentence_start(question, tokens[n - 1].end(), match.start())
        if n > 0 and not _joined(question, tokens[n - 1], match, token):
            _flush(run, add, lang)
        if _LATIN.search(token) and _name_like(token) and not (starts and fold(token) in function_words()):
            run.append((token, starts and not _marked(token)))
        elif (
            run
            and token in _CONNECTORS
            and lang not in CAPITALISED_NOUNS
            and n + 1 < len(tokens)
            and _continues(question, match, tokens[n + 1])
        ):
            run.append((token, False))  # Olimpiada Internacional de Matemáticas, Bank of America: one name
        else:
            _flush(run, add, lang)
    _flush(run, add, lang)
    return found


def _joined(text: str, previous: re.Match[str], current: re.Match[str], token: str) -> bool:
    """Two tokens can be one name: only spaces between them, or a hyphen between two words of a kind (GPT-5,
    Jean-Pierre; not SAP-Agenten)."""
    between = text[previous.end() : current.start()]
    if between.strip(" \u00a0") == "-":
        return _marked(previous.group()) == _marked(token)
    return re.fullmatch(r"[ \u00a0]+", between) is not None


# Small words inside a name, between two capitalised words of it (not in German, where every noun is capitalised).
_CONNECTORS = frozenset(
    ["of", "for", "de", "di", "da", "do", "del", "della", "degli", "des", "du", "der", "von", "van", "dos", "das"]
)


def _continues(text: str, connector: re.Match[str], following: re.Match[str]) -> bool:
    """Whether the word after a connector carries the name on: capitalised, after nothing but a space."""
    token = _POSSESSIVE.sub("", _ELIDED.sub("", following.group()))
    return _joined(text, connector, following, token) and _LATIN.search(token) is not None and _name_like(token)


def _sentence_start(text: str, previous_end: int, start: int) -> bool:
    return bool(re.search(r"[.!?:;¿¡]", text[previous_end:start]))


def _name_like(token: str) -> bool:
    core = token.strip(".'’-")
    if any(c.isdigit() for c in core):
        return any(c.isalpha() for c in core)  # GPT-5, A100; bare numbers are found as numbers
    if len(core) > 1 and any(c.isupper() for c in core[1:]):
        return fold(core) not in _NOT_NAMES  # OpenAI, CNIL, SAP
    return core[:1].isupper() and fold(core).rstrip("'’") not in function_words()


def _flush(run: list[tuple[str, bool]], add: Callable[[str, str], None], lang: str | None) -> None:
    """Add the name read so far, if it is one, and start over. A capitalised word that starts a sentence is a name
    only when another follows it ("Helios Labs raised ..."; not "Nvidia chips?"); in German only a marked word or
    a run of two is (every noun is capitalised)."""
    words = [word for word, _ in run]
    tentative = len(run) == 1 and run[0][1]
    del run[:]
    if not words or tentative or (lang in CAPITALISED_NOUNS and len(words) == 1 and not _marked(words[0])):
        return
    add(" ".join(words), "name")


def _marked(token: str) -> bool:
    core = token.strip(".'’-")
    return any(c.isdigit() for c in core) or (len(core) > 1 and any(c.isupper() for c in core[1:]))


def needs_pivot(question: str) -> bool:
    """Whether the question is (partly) written in a script the Latin texts cannot match as written."""
    return bool(_OTHER_SCRIPT.search(question))


def _stem(word: str) -> str:
    """Enough of a word to meet its inflections and near spellings: "nvidias" meets "nvidia", "asian" "asia",
    "valteline" "valtellina"; a short word only itself ("meta" is not "metals"), a longer one keeps five letters
    ("openai" is not "opened")."""
    if len(word) <= 4:
        return word
    return word[:4] if len(word) == 5 else word[: max(5, len(word) - 3)]


@dataclass(frozen=True)
class Vocabulary:
    """The folded words of a story's texts (original, pivot, titles), for presence checks."""

    words: frozenset[str]
    digits: str  # the digit runs of the texts, space separated, with their separators removed
    countries: frozenset[str] = frozenset()  # the codes of countries the story is about without naming them

    @classmethod
    def of(cls, texts: Iterable[str | None], countries: frozenset[str] = frozenset()) -> Vocabulary:
        words: set[str] = set()
        digits: list[str] = []
        for text in texts:
            if text:
                words.update(_words(text))
                digits.extend(re.sub(r"\D", "", n) for n in _NUMBER.findall(text))
        return cls(frozenset(words), " " + " ".join(digits) + " ", countries)

    def has(self, term: Term) -> bool:
        if term.kind == "number":
            return f" {re.sub(r'[^0-9]', '', term.text)} " in self.digits
        return all(self.has_word(w) for w in term.words)

    def has_word(self, word: str) -> bool:
        if word in self.words:
            return True
        stem = _stem(word)
        return stem != word and any(w.startswith(stem) and abs(len(w) - len(word)) <= 3 for w in self.words)


def name_runs(sentence: str, lang: str | None, known: Iterable[str] = ()) -> list[list[str]]:
    """The names a sentence holds, each as its folded words ("Technischen Universität München"), function words and
    bare numbers excluded. Its first word is one only when it is marked (OpenAI, GPT-5), opens a run of capitalised
    words (Hugging Face), or is `known`, a word the story shows to be a name (`inner_names`); else it is capitalised
    because it starts the sentence ("Regulators still have to approve"). In German only marked words and capitalised
    pairs are names."""
    tokens = [(m, _POSSESSIVE.sub("", _ELIDED.sub("", m.group()))) for m in _TOKEN.finditer(sentence)]
    capital = [bool(t[:1].isupper()) and fold(t).rstrip("'’") not in function_words() for _, t in tokens]
    known = frozenset(known)
    runs: list[list[str]] = []
    last = -2
    for n, (_, token) in enumerate(tokens):
        if not _LATIN.search(token) or (not capital[n] and not _marked(token)):
            continue
        joined = [
            k
            for k in (n - 1, n + 1)
            if 0 <= k < len(tokens)
            and capital[k]
            and _joined(sentence, tokens[min(k, n)][0], tokens[max(k, n)][0], tokens[max(k, n)][1])
        ]
        words = _words(token)
        if n == 0 and not _marked(token) and not joined and not set(words) <= known:
            continue
        if lang in CAPITALISED_NOUNS and not _marked(token) and not joined:
            continue
        if last == n - 1 and n - 1 in joined:
            runs[-1].extend(words)
        else:
            runs.append(list(words))
        last = n
    return runs


def name_tokens(sentence: str, lang: str | None, known: Iterable[str] = ()) -> list[str]:
    """The folded words of the names a sentence holds (`name_runs`)."""
    return [w for run in name_runs(sentence, lang, known) for w in run]


def inner_names(sentences: Iterable[str], lang: str | None, titles: Iterable[str] = ()) -> frozenset[str]:
    """The words a story shows to be names: capitalised inside one of its sentences, where a capital says so, or
    capitalised in its title, which opens with what the story is about ("Nvidia reports record revenue": the text's
    "Nvidia reports ..." then names Nvidia, where "Regulators still have to approve" names nothing)."""
    inside = {w for sentence in sentences for w in name_tokens(sentence, lang)}
    capitals = [m.group() for title in titles for m in _TOKEN.finditer(title)]
    headline = {w for token in capitals if token[:1].isupper() for w in _words(token)} - function_words()
    return frozenset(inside | headline)
