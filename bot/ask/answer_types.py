"""What kind of answer a question asks for (a number, an amount of money, a date, a name) and whether a sentence
holds one: "how many employees does Helios Labs have?" is not answered by a sentence without a number, "what is the
plant called?" not by one that names nothing the question does not. Pure; question words and number words of the
offered Latin-script languages (a question in another script is read through its English pivot)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from babel import Locale
from babel.numbers import get_currency_name
from num2words import num2words

from bot.ask.places import place
from bot.ask.salient import fold_words, name_runs

COUNT, MONEY, DATE, NAME, PLACE = "count", "money", "date", "name", "place"
_LANGUAGES = ("en", "it", "de", "fr", "es", "pt")

# Question openings per kind, folded (lower case, no accents, "|" between phrases), matched at the start of the
# question or of a clause. The money words turn "how much" into a question about an amount of money.
_OPENINGS: dict[str, dict[str, str]] = {
    "en": {
        COUNT: "how many|how much",
        DATE: "when|since when|what year",
        NAME: "who|whom|whose|what is the name|what s the name|what is it called",
        PLACE: "where|in which city|in which country",
    },
    "it": {
        COUNT: "quanti|quante|quanto|quanta",
        DATE: "quando|da quando|in che anno",
        NAME: "chi|come si chiama|come si chiamano",
        PLACE: "dove|in quale citta|in quale paese",
    },
    "de": {
        COUNT: "wie viele|wie viel|wieviel",
        DATE: "wann|ab wann|seit wann|bis wann|in welchem jahr",
        NAME: "wer|wen|wem|wessen|wie heisst|wie heissen",
        PLACE: "wo|in welcher stadt|in welchem land",
    },
    "fr": {
        COUNT: "combien",
        DATE: "quand|depuis quand|en quelle annee",
        NAME: "qui|comment s appelle|comment s appellent|quel est le nom",
        PLACE: "ou|dans quelle ville|dans quel pays",
    },
    "es": {
        COUNT: "cuantos|cuantas|cuanto|cuanta",
        DATE: "cuando|desde cuando|en que ano",
        NAME: "quien|quienes|como se llama|como se llaman|cual es el nombre",
        PLACE: "donde|en que ciudad|en que pais",
    },
    "pt": {
        COUNT: "quantos|quantas|quanto|quanta",
        DATE: "quando|desde quando|em que ano",
        NAME: "quem|como se chama|como se chamam|qual e o nome",
        PLACE: "onde|em que cidade|em que pais",
    },
}
_ASKS: dict[str, dict[str, str]] = {
    lang: {phrase: kind for kind, phrases in kinds.items() for phrase in phrases.split("|")}
    for lang, kinds in _OPENINGS.items()
}
_MONEY_WORDS: dict[str, list[str]] = {
    lang: words.split("|")
    for lang, words in {
        "en": "cost|costs|price|pay|paid|spend|spent|worth|sell for|charge|money|raise|raised|fine|fined|valuation|"
        "funding|invest|invested",
        "it": "costa|costo|costera|costato|prezzo|paga|pagato|vale|spende|multa|raccolto|raccoglie|valutazione|"
        "investe|investito|soldi",
        "de": "kostet|kosten|gekostet|preis|zahlt|bezahlt|wert|geld|strafe|eingesammelt|sammelt|bewertung|investiert",
        "fr": "coute|coutera|prix|paye|vaut|argent|amende|leve|levee|valorisation|investit|investi",
        "es": "cuesta|costo|costara|precio|paga|pago|vale|dinero|multa|recaudo|levanto|valoracion|invierte|invirtio",
        "pt": "custa|custo|custou|custara|preco|paga|pagou|vale|dinheiro|multa|captou|capta|levantou|avaliacao|"
        "investe|investiu",
    }.items()
}
# Nouns that ask for an amount of money whatever the question word ("what is the price of ...").
_PRICE_WORDS = frozenset(["price", "prices", "prezzo", "preis", "prix", "precio", "preco"])
_CLAUSE = re.compile(r"(?:^|[,;:¿¡(])\s*(?:and |e |und |et |y |mas |but |ma )?", re.IGNORECASE)
_CURRENCY_SIGNS = "€$£¥₹₩"
_ANY_CURRENCY = frozenset(["eur", "usd", "gbp", "dollar", "dollars", "euro", "euros"])
_CENTS = {"en": "cent cents", "it": "centesimi", "de": "cent", "fr": "centimes", "es": "centimos", "pt": "centavos"}
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DIGITS = re.compile(r"\d")


def asks_for(question: str, lang: str | None) -> str | None:
    """The kind of answer the question asks for, or None when its words do not say (what, which, why, how)."""
    if lang not in _ASKS:
        return None
    folded = " " + fold_words(question) + " "
    found: tuple[int, str] | None = None
    for phrase, kind in _ASKS[lang].items():
        at = folded.find(f" {phrase} ")
        if at < 0 or (found is not None and found[0] <= at):
            continue
        if at == 0 or _opens_clause(question, phrase, lang):
            found = (at, kind)
    if any(f" {w} " in folded for w in _PRICE_WORDS):
        return MONEY
    if found is None:
        return None
    kind = found[1]
    if kind == COUNT and any(f" {w} " in folded for w in _MONEY_WORDS[lang]):
        return MONEY
    return kind


@cache
def opening_words() -> frozenset[str]:
    """Every word of the question openings ("how many", "come si chiama"): what a question asks, not about what."""
    return frozenset(
        w for kinds in _OPENINGS.values() for phrases in kinds.values() for w in re.split(r"[| ]", phrases)
    )


def _opens_clause(question: str, phrase: str, lang: str) -> bool:
    """A question word inside the question counts when it opens a clause ("Et depuis quand ...", "..., wo ...")."""
    for start in _CLAUSE.finditer(question):
        rest = " " + fold_words(question[start.end() :]) + " "
        if rest.startswith(f" {phrase} "):
            return True
    return False


@cache
def _number_words(lang: str) -> frozenset[str]:
    """Numbers as the language spells them (num2words: "zwanzig", "quarante", "mil millones"), fractions and
    multiples; never "one", which is also an article."""
    words: set[str] = set()
    for n in [*range(2, 21), 30, 40, 50, 60, 70, 80, 90, 100, 200, 1000, 2000, 10**6, 2 * 10**6, 10**9, 2 * 10**9]:
        words.update(fold_words(num2words(n, lang=lang)).split())
    extra = {
        "en": "dozen dozens half halved twice double doubled triple third quarter fifth tenth",
        "it": "dozzina meta dimezzato doppio raddoppia triplo terzo quarto quinto decimo",
        "de": "dutzend halb halfte halbiert doppelt doppelte verdoppelt dreifach drittel viertel funftel zehntel",
        "fr": "douzaine moitie double triple tiers quart cinquieme dixieme",
        "es": "docena mitad doble triple tercio cuarto quinta quinto decima decimo",
        "pt": "duzia metade dobro triplo terco quarto quinto decimo",
    }[lang]
    words.update(extra.split())
    words -= {"e", "et", "y", "und", "and", "un", "um", "une", "uno", "una", "ein", "eine", "one"}
    return frozenset(words)


@cache
def _currency_words(lang: str) -> frozenset[str]:
    """Currency names in the language (babel's, singular and plural: "dólares"), cents, and the common codes."""
    words: set[str] = set()
    for code in ("EUR", "USD", "GBP", "JPY", "CHF", "CNY"):
        for count in (1, 2):
            words.add(fold_words(get_currency_name(code, count=count, locale=lang)).split()[-1 if lang == "de" else 0])
    return frozenset(words | _ANY_CURRENCY | set(_CENTS[lang].split()))


_SEASONS = {
    "en": "spring summer autumn fall winter",
    "it": "primavera estate autunno inverno",
    "de": "fruhling fruhjahr sommer herbst winter",
    "fr": "printemps ete automne hiver",
    "es": "primavera verano otono invierno",
    "pt": "primavera verao outono inverno",
}


# Other ways a sentence says when, besides years, months and seasons (folded; "in the first quarter", "next year").
_WHEN_PHRASES = {
    "en": "quarter|next year|this year|last year|next month|next week|end of the year|coming weeks|coming months",
    "it": "trimestre|prossimo anno|anno prossimo|quest anno|anno scorso|prossimo mese|prossima settimana|fine anno|"
    "fine dell anno|prossime settimane|prossimi mesi",
    "de": "quartal|nachstes jahr|nachsten jahr|dieses jahr|diesem jahr|letztes jahr|letzten jahr|nachsten monat|"
    "nachste woche|nachsten woche|jahresende|ende des jahres|kommenden wochen|kommenden monaten",
    "fr": "trimestre|annee prochaine|an prochain|cette annee|an dernier|annee derniere|mois prochain|"
    "semaine prochaine|fin de l annee|fin d annee|prochaines semaines|prochains mois",
    "es": "trimestre|proximo ano|ano que viene|este ano|ano pasado|proximo mes|proxima semana|fin de ano|"
    "finales de ano|proximas semanas|proximos meses",
    "pt": "trimestre|proximo ano|este ano|ano passado|proximo mes|proxima semana|fim do ano|final do ano|"
    "proximas semanas|proximos meses",
}


@cache
def _months(lang: str) -> frozenset[str]:
    return frozenset(fold_words(m) for m in Locale.parse(lang).months["format"]["wide"].values())


def numbers(words: list[str], lang: str) -> list[tuple[int, int]]:
    """The runs of words that make one number ("2 billion", "zwei milliarden"), as (first, last + 1) positions."""
    spelled = _number_words(lang) if lang in _LANGUAGES else frozenset()
    runs: list[tuple[int, int]] = []
    for n, word in enumerate(words):
        if _DIGITS.search(word) or word in spelled:
            if runs and runs[-1][1] == n:
                runs[-1] = (runs[-1][0], n + 1)
            else:
                runs.append((n, n + 1))
    return runs


def _is_money(words: list[str], run: tuple[int, int], lang: str) -> bool:
    """Whether a number is an amount of money: a currency word just before it or within three words after."""
    currency = _currency_words(lang) if lang in _LANGUAGES else _ANY_CURRENCY
    return any(w in currency for w in words[max(0, run[0] - 1) : run[1] + 3])


def holds(kind: str, sentence: str, lang: str, question_words: Iterable[str], known: Iterable[str] = ()) -> bool:
    """Whether the sentence (in `lang`) holds an answer of that kind that the question does not already say. `known`:
    the story's names (salient.inner_names), which tell a name that starts the sentence from a capitalised word."""
    words = fold_words(re.sub(f"[{_CURRENCY_SIGNS}]", " dollar ", sentence)).split()
    if kind == COUNT:  # a number that is not an amount of money: "how many employees" is not "two billion dollars"
        return any(not _is_money(words, run, lang) for run in numbers(words, lang))
    if kind == MONEY:
        if any(sign in sentence for sign in _CURRENCY_SIGNS):
            return True
        return lang in _LANGUAGES and any(w in _currency_words(lang) for w in words)
    if kind == DATE:
        if _YEAR.search(sentence):
            return True
        if lang not in _LANGUAGES:
            return False
        if any(w in _SEASONS[lang].split() for w in words):  # "in spring" answers "when" too
            return True
        joined = f" {' '.join(words)} "
        if any(f" {phrase} " in joined for phrase in _WHEN_PHRASES[lang].split("|")):
            return True
        # English capitalises its months, and needs to: "may" and "march" are verbs too.
        tokens = re.findall(r"\w+", sentence) if lang == "en" else words
        return any(fold_words(t) in _months(lang) and (lang != "en" or t[0].isupper()) for t in tokens)
    if kind == PLACE and any(place([w]) for w in words):  # "in German data centres" says where
        return True
    return bool(new_names(sentence, lang, question_words, known))


def new_names(sentence: str, lang: str, question_words: Iterable[str], known: Iterable[str] = ()) -> list[list[str]]:
    """The names in the sentence the question does not give, each as its words: not a word the question says, a
    people or language (`_nationalities`), nor the question's acronym spelled out (Technischen Universität: TU)."""
    said = [w for w in question_words if len(w) > 2]
    acronyms = set(question_words)
    found = []
    for run in name_runs(sentence, lang, known):
        new = [w for w in run if not _said(w, said) and w not in _nationalities()]
        if new and (len(new) < 2 or "".join(w[0] for w in new) not in acronyms):
            found.append(run)
    return found


# Words of babel's variant names that qualify a language, not a people ("Modern Standard Arabic").
_QUALIFIERS = frozenset(
    ["high", "standard", "estandar", "modern", "moderne", "modernes", "moderno", "alto", "latin", "latino"]
)


@cache
def _nationalities() -> frozenset[str]:
    """Words that name a language or a people (babel's one-word language names and the words that qualify a
    regional variant: Italian, Französisch, American, European, Swiss): capitalised in English and German, but no
    answer to "what is it called" or "who". A word that is also a country's name stays an answer (Portugal)."""
    words: set[str] = set()
    places: set[str] = set()
    for lang in _LANGUAGES:
        locale = Locale.parse(lang)
        names = locale.languages
        for code, name in names.items():
            if re.fullmatch(r"[a-z]{2}", code) and len(fold_words(name).split()) == 1:
                words.update(fold_words(name).split())
            elif re.fullmatch(r"[a-z]{2}_[A-Z0-9]+", code) and code[:2] in names:
                words.update(set(fold_words(name).split()) - set(fold_words(names[code[:2]]).split()))
        places.update(fold_words(name) for name in locale.territories.values())
    return frozenset(w for w in words - places - _QUALIFIERS if len(w) > 3)


def _said(word: str, known: Iterable[str]) -> bool:
    """Whether the question already says this word (either is a prefix of the other: Lyon, lyonnaise)."""
    return any(word.startswith(k[: max(4, len(k) - 3)]) or k.startswith(word) for k in known)
