"""Detects a text's language, a hint acting as a prior; no app knowledge. The configured languages are told apart by
lingua's accurate models and function words; any other language lingua knows is named by its all-language screen
(its ISO 639-1 code, for the pivot into English), and text in none comes out "und"."""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from lingua import ConfidenceValue, IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from summarizer.types import DEFAULT_LANGUAGES, UNDETERMINED, Detection

# How often a declared language (a feed's `language`, a Telegram client's `language_code`) is right. It is a prior:
# it decides text too short to carry evidence and yields to any text that carries enough (see `Evidence.decide`).
HINT_RELIABILITY = 0.9
# The all-language screen runs lingua's coarse low-accuracy models (the accurate ones of all 75 languages would take
# 1.25 GB): it must be near-certain before it overrides the accurate models, which only know our languages. Text whose
# screen gives our languages together less than this share of its probability is in a language we don't handle.
# (Settling doubtful cases with the outsider's accurate model was measured: +0.02% accuracy for +20 MB per outsider.)
OUTSIDER_MAX_SHARE = 1e-4
# Detection looks at the start of a text: an article's first paragraphs decide as well as all of it, at bounded cost.
MAX_CHARS = 2000

# A word's frequency in a language, from its rank in that language's list below (Zipf's law: the r-th most frequent
# word makes about ZIPF_TOP / r of running text). A word missing from a language's list is taken to rank MISSING_RANK
# there: rare, not impossible (names, quotes, loanwords).
ZIPF_TOP = 0.06
MISSING_RANK = 200

# The most frequent closed-class words of each language, most frequent first, space-separated. Lingua's character
# n-grams ignore word boundaries, so in a headline "o", "os", "el", "del", "the", "und" count little more than letters
# inside names; as whole words they are the strongest evidence a short text has (they fix most es/pt/it/fr snippet confusions).
# Elided forms keep their apostrophe ("l'", "dell'"). Languages without a list are judged by lingua alone.
FUNCTION_WORDS: dict[str, str] = {
    "en": (
        "the of to and a in is for that on with he it was as at by from his be have has but are an not they this who "
        "were its had been will would their after also i more which or we up about than over her she there when out "
        "into can what all you them if how why do does did no so our these those"
    ),
    "it": (
        "di e il che la a in per un è del non una i con si da le della al sono ha lo dei nel alla gli anche più ma "
        "come dal delle degli nella questo questa ed o se dopo loro suo sua ci ne hanno essere stato stata sul sulla "
        "tra fra quando perché già cui molto ogni l' dell' all' nell' un' dall' sull' nei sui ai agli alle negli "
        "nelle dalla quello quella era c' d'"
    ),
    "de": (
        "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er "
        "hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur "
        "bis mehr durch man sein wurde sei ihr ich wir kann schon wenn seine ihre dann unter wieder gegen vom können "
        "diese dieser wurden soll"
    ),
    "fr": (
        "de la le l' et les à des d' en un du une que est pour qui dans a par plus pas au sur ne se il qu' n' s' ce "
        "sont avec ou son elle sa aux été mais ont cette nous ses leur c' comme tout y lui fait je on vous ces entre "
        "dont après où peut même aussi était ils très sans deux sous avait leurs j' m'"
    ),
    "es": (
        "de la que el en y a los del se las por un para con no una su al lo es como más pero sus le ya o fue este ha "
        "sí porque esta son entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos "
        "uno les ni contra otros ese eso ante ellos e esto era antes están está han sido según tras u"
    ),
    "pt": (
        "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das tem à seu "
        "sua ou ser quando muito há nos já está também só pelo pela até isso ela entre era depois sem mesmo aos ter "
        "seus quem nas esse eles estão essa num nem suas às numa pelos elas são foram sobre este esta onde"
    ),
}

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+|[@#]\w+", re.IGNORECASE)
# A word: letters (and combining marks) with an elision apostrophe kept when a letter follows ("l'accesso" -> "l'").
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+(?:['’](?=[^\W\d_]))?")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_CJK = "CJK"
# One Chinese or Japanese word is about two characters: counting CJK text in words keeps the evidence measure of a
# Chinese headline comparable with that of a European one.
_CHARS_PER_CJK_WORD = 2
# Chinese writes no kana, and Japanese writes no Han character outside its character set (cp932 = JIS X 0208 plus
# vendor extensions), which lacks most simplified forms (们, 这, 说, 门...): each such character costs the other
# language this much (one in a thousand).
_CJK_STRAY_CHARACTER = math.log(1000)
# Japanese writes kana in almost every phrase, so each kana-free word halves the odds of Japanese: a hint can still
# name a short kanji-only headline Japanese, not a sentence.
_KANA_FREE_WORD = math.log(2)


@dataclass(frozen=True)
class Evidence:
    """What a text says about its language before any hint.

    `scores`: natural-log likelihoods of the configured languages (and, for Chinese and Japanese, of the one of the two
    not configured), up to a shared constant; a language missing from them is ruled out by its script. `outsider`: set when the all-language screen found a language we don't handle
    (lingua's code, or `und` when no language fits at all), with `configured_share`, the screen's probability that the
    text is in one of ours after all. No scores and no outsider: the text has no letters, no evidence.
    """

    scores: dict[str, float]
    languages: tuple[str, ...]
    outsider: str | None = None
    configured_share: float = 0.0

    def decide(self, hint: str | None = None) -> Detection:
        """The most probable configured language given this evidence and the hint's prior; `und` when none fits.

        The hint is a Bayesian prior: its language gets HINT_RELIABILITY of the prior mass, the others share the rest.
        Scores are totals over the text (they grow with its length), so a hint settles a four-word headline whose
        evidence is thin but cannot turn a sentence whose evidence is clear. With no evidence at all the hint is the
        answer, at its prior probability; without a hint that is `und` (confidence 0).
        """
        hinted = normalize_hint(hint, self.languages)
        ours = 1.0  # the probability that the text is in one of our languages at all
        rescued = False  # only the hint keeps the text among our languages: then only the hinted one may win
        if self.outsider is not None:
            odds = self.configured_share / max(1.0 - self.configured_share, 1e-300)
            cutoff = OUTSIDER_MAX_SHARE / (1 - OUTSIDER_MAX_SHARE)
            rescued = hinted is not None and odds < cutoff
            # The cutoff is a prior (1 / cutoff to 1 that a feed carries one of our languages): folded with the
            # screen's odds it gives the probability that the text is in one of ours, 0.5 at the cutoff.
            unhinted = odds / (odds + cutoff)
            if hinted is not None:  # a hint naming one of ours raises the odds that the text is in one of ours
                odds *= HINT_RELIABILITY / (1 - HINT_RELIABILITY)
            ours = odds / (odds + cutoff)
            if not self.scores or ours < 0.5:
                # A language we offer no reader, but still one to pivot into English (Polish, Dutch ...).
                return self._outsider(ours)
        if not self.scores:
            return Detection(hinted, HINT_RELIABILITY) if hinted else Detection(UNDETERMINED, 0.0)
        posterior = dict(self.scores)
        if hinted is not None and len(self.languages) > 1:
            others = math.log((1 - HINT_RELIABILITY) / (len(self.languages) - 1))
            for lang in posterior:
                posterior[lang] += math.log(HINT_RELIABILITY) if lang == hinted else others
        top = max(posterior, key=posterior.__getitem__)
        if rescued and top != hinted:  # the hint spoke for its own language, not for a third one: it lends no odds
            return self._outsider(unhinted)
        total = sum(math.exp(value - posterior[top]) for value in posterior.values())
        # A configured language, or Chinese/Japanese told apart: sure among ours, times the chance it is one of ours.
        return Detection(top, round(ours / total, 6))

    def _outsider(self, ours: float) -> Detection:
        assert self.outsider is not None
        return Detection(self.outsider, round(1.0 - ours, 6))


def normalize_hint(hint: str | None, languages: Sequence[str]) -> str | None:
    """The configured ISO 639-1 code a hint names ("pt-BR", "it_IT", "zh-Hant" -> "pt", "it", "zh"), else None."""
    if not hint:
        return None
    primary = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    return primary if primary in languages else None


class LinguaDetector:
    """Lingua restricted to `languages` (ISO 639-1), built once on first use; safe to share between threads.

    Three sources of evidence: lingua's high-accuracy models of the configured languages (about 25 MB each in memory;
    all 75 languages would take 1.25 GB), a screen over all of lingua's languages in its low-accuracy mode (about 25 MB
    more) that catches text in a language we don't handle, and the function-word lists above.
    """

    name = "lingua"  # what results record as the detection model

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES) -> None:
        codes = tuple(dict.fromkeys(code.strip().lower() for code in languages))
        if not codes:
            raise ValueError("language detection needs at least one configured language")
        self._lingua = {code: _lingua_language(code) for code in codes}
        self.languages = codes
        self._lock = threading.Lock()
        self._built: tuple[LanguageDetector | None, LanguageDetector] | None = None

    def detect(self, text: str, hint: str | None = None) -> Detection:
        return self.evidence(text).decide(hint)

    def detect_many(self, texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[Detection]:
        """`detect` for a batch, running lingua on several cores; `hints`, when given, pairs with `texts`."""
        paired = hints if hints is not None else [None] * len(texts)
        return [evidence.decide(hint) for evidence, hint in zip(self.evidence_many(texts), paired, strict=True)]

    def evidence(self, text: str) -> Evidence:
        return self.evidence_many([text])[0]

    def evidence_many(self, texts: Sequence[str]) -> list[Evidence]:
        """What each text says about its language, before any hint (decide it with `Evidence.decide(hint)`)."""
        accurate, screen = self._detectors()
        views = [_TextView.of(text) for text in texts]
        alphabetic = [i for i, view in enumerate(views) if view.script not in (None, _CJK)]
        lingua_texts = [views[i].text for i in alphabetic]
        screened = screen.compute_language_confidence_values_in_parallel(lingua_texts)
        if accurate is not None:
            rated = accurate.compute_language_confidence_values_in_parallel(lingua_texts)
        else:
            rated = [[ConfidenceValue(self._lingua[self.languages[0]], 1.0)] for _ in lingua_texts]
        out = [self._cjk_evidence(view) if view.script == _CJK else Evidence({}, self.languages) for view in views]
        for i, screen_values, values in zip(alphabetic, screened, rated, strict=True):
            out[i] = self._alphabetic_evidence(views[i], screen_values, values)
        return out

    def _alphabetic_evidence(
        self, view: _TextView, screened: list[ConfidenceValue], rated: list[ConfidenceValue]
    ) -> Evidence:
        scores = _lingua_scores(rated, view.words)
        if len(scores) > 1 and all(lang in FUNCTION_WORDS for lang in scores):
            for lang, score in _function_word_scores(view.tokens, list(scores)).items():
                scores[lang] += score
        if not scores:  # no configured language is written in this script
            winner = _code(screened[0].language) if screened and screened[0].value > 0.0 else UNDETERMINED
            return Evidence({}, self.languages, outsider=winner)
        # The screen says nothing about text without a word of three letters (its models are trigrams).
        if screened and screened[0].value > 0.0 and _code(screened[0].language) not in self._lingua:
            share = sum(value.value for value in screened if _code(value.language) in self._lingua)
            return Evidence(scores, self.languages, outsider=_code(screened[0].language), configured_share=share)
        return Evidence(scores, self.languages)

    def _cjk_evidence(self, view: _TextView) -> Evidence:
        # Both are scored even when one is not configured: Chinese text must not become Japanese for want of a rival.
        kana_free = 0.0 if view.kana else view.words * _KANA_FREE_WORD
        scores = {
            "ja": -view.non_japanese * _CJK_STRAY_CHARACTER - kana_free,
            "zh": -view.kana * _CJK_STRAY_CHARACTER,
        }
        if "ja" not in self._lingua and "zh" not in self._lingua:  # neither offered: named, to pivot into English
            return Evidence({}, self.languages, outsider=max(scores, key=scores.__getitem__))
        return Evidence(scores, self.languages)

    def _detectors(self) -> tuple[LanguageDetector | None, LanguageDetector]:
        with self._lock:
            if self._built is None:
                configured = list(self._lingua.values())
                # Lingua needs two languages to build a detector; with one configured the screen alone decides.
                accurate = LanguageDetectorBuilder.from_languages(*configured).build() if len(configured) > 1 else None
                screen = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
                self._built = (accurate, screen)
            return self._built


def _lingua_scores(values: Sequence[ConfidenceValue], words: float) -> dict[str, float]:
    # Lingua's confidences come from per-character averages: times the word count they become evidence for the whole
    # text, comparable with the word model's totals and with the hint's prior. Zero = ruled out by lingua's rules.
    return {_code(value.language): words * math.log(value.value) for value in values if value.value > 0.0}


@dataclass(frozen=True)
class _TextView:
    """The part of a text that carries language evidence: the words of its main script, URLs and handles removed."""

    text: str
    script: str | None  # "CJK", a Unicode script name such as "LATIN", or None when there are no letters
    tokens: tuple[str, ...]  # lowercased words, for the function-word model
    words: float  # how much text there is, in words (CJK: characters / 2)
    kana: int = 0
    non_japanese: int = 0  # Han characters outside Japanese's character set

    @classmethod
    def of(cls, text: str) -> _TextView:
        text = _URL.sub(" ", text[:MAX_CHARS])
        # Words in another script than the text's main one are names or quotes ("Apple" in a Russian sentence,
        # "OpenAI" in a Chinese one): evidence of nothing. The main script is the one with the most lowercase (or
        # caseless) words, capitalised words being mostly names; CJK characters count in words of two.
        by_script: dict[str, list[str]] = {}
        for token in _WORD.findall(text):
            for script, part in _split_scripts(token):
                by_script.setdefault(script, []).append(part)
        if not by_script:
            return cls("", None, (), 0.0)

        def weight(script: str) -> tuple[float, float]:
            parts = by_script[script]
            if script == _CJK:
                size = sum(len(part) for part in parts) / _CHARS_PER_CJK_WORD
                return size, size
            return float(sum(not part[0].isupper() for part in parts)), float(len(parts))

        script = max(by_script, key=weight)
        parts = by_script[script]
        if script == _CJK:
            joined = "".join(parts)
            words = max(1.0, len(joined) / _CHARS_PER_CJK_WORD)
            non_japanese = sum(not _japanese_can_write(char) for char in _HAN.findall(joined))
            return cls(joined, _CJK, (), words, len(_KANA.findall(joined)), non_japanese)
        tokens = tuple(part.lower().replace("’", "'") for part in parts)
        return cls(" ".join(parts), script, tokens, float(len(parts)))


def _japanese_can_write(char: str) -> bool:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _split_scripts(token: str) -> list[tuple[str, str]]:
    """A token cut into runs of one script each ("GPT発表" -> LATIN "GPT", CJK "発表")."""
    runs: list[tuple[str, str]] = []
    for char in token:
        script = _script_of(char)
        if runs and (script is None or runs[-1][0] == script):
            runs[-1] = (runs[-1][0], runs[-1][1] + char)
        elif script is not None:
            runs.append((script, char))
    return runs


@functools.lru_cache(maxsize=4096)
def _script_of(char: str) -> str | None:
    """A letter's script ("LATIN", "CYRILLIC", "CJK", ...); None for marks and apostrophes, which join their letter."""
    if _HAN.match(char) or _KANA.match(char):
        return _CJK
    if not char.isalpha():
        return None
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def _function_word_scores(tokens: Sequence[str], languages: Sequence[str]) -> dict[str, float]:
    scores = dict.fromkeys(languages, 0.0)
    for token in tokens:
        if token not in _FUNCTION_WORD_VOCABULARY:
            continue
        for lang in scores:
            rank = _FUNCTION_WORD_RANKS[lang].get(token, MISSING_RANK)
            scores[lang] += math.log(ZIPF_TOP / rank)
    return scores


def _ranks(words: Sequence[str]) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for position, word in enumerate(words, start=1):
        ranks.setdefault(word, position)
    return ranks


_FUNCTION_WORD_RANKS = {lang: _ranks(words.split()) for lang, words in FUNCTION_WORDS.items()}
_FUNCTION_WORD_VOCABULARY = frozenset(word for ranks in _FUNCTION_WORD_RANKS.values() for word in ranks)


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        raise ValueError(f"language {code!r} is not an ISO 639-1 code that lingua can detect") from None


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


@functools.cache
def _shared_detector(languages: tuple[str, ...]) -> LinguaDetector:
    return LinguaDetector(languages)


def detect_language(text: str, hint: str | None = None, *, languages: Sequence[str] = DEFAULT_LANGUAGES) -> Detection:
    """Detect with a detector shared per language set (lingua's models load once per process whatever the set)."""
    return _shared_detector(tuple(languages)).detect(text, hint)
