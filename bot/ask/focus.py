"""What a "how many" or a "what is it called" question is about, and whether a story's text puts a number or a name on
that very thing: "how many specialists" is not answered by "five years ... the training of specialists", "what is
the recruitment company called" not by the name of the agency that fined it. Pure; the openings of the six
Latin-script languages (a question in another script is read through its English pivot)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.ask.answer_types import new_names, numbers
from bot.ask.salient import fold_words, function_words, inner_names
from summarizer.chunking import split_sentences

# Openings that ask to count things, the things named next ("how many specialists").
_COUNTING = {
    "en": "how many",
    "it": "quanti|quante",
    "de": "wie viele",
    "fr": "combien de|combien d",
    "es": "cuantos|cuantas",
    "pt": "quantos|quantas",
}
# Openings that ask what a thing is called, the thing named next ("what is the name of the plant", "who is the new
# chief executive").
_NAMING = {
    "en": "what is the name of|what s the name of|who is the|who s the",
    "it": "come si chiama|come si chiamano|qual e il nome di|qual e il nome del|qual e il nome della|chi e il|chi e la",
    "de": "wie heisst|wie heissen|wer ist der|wer ist die",
    "fr": "comment s appelle|comment s appellent|quel est le nom de|quel est le nom du|quel est le nom d|qui est le|qui est la",
    "es": "como se llama|como se llaman|cual es el nombre de|cual es el nombre del|quien es el|quien es la",
    "pt": "como se chama|como se chamam|qual e o nome de|qual e o nome do|qual e o nome da|quem e o|quem e a",
}
THING_WORDS = 2  # the words after the opening that may be the thing ("how many care homes")
COUNT_REACH = 3  # how far from a number the counted thing may stand ("a hundred Italian high schools")
NAME_REACH = 2  # how far from a name the named thing may stand ("the recruitment company Talento", "X, a bank")


def _thing(question: str, lang: str | None, openings: dict[str, str], names: Iterable[str]) -> tuple[str, ...]:
    """The words after the opening, past its articles and the question's `names` (Nvidia's), up to the next function
    word: at most THING_WORDS, folded."""
    if lang not in openings:
        return ()
    words = fold_words(question).split()
    skip = set(names)
    for phrase in openings[lang].split("|"):
        opening = phrase.split()
        for n in range(len(words) - len(opening) + 1):
            if words[n : n + len(opening)] != opening:
                continue
            things: list[str] = []
            for word in words[n + len(opening) :]:
                if word in function_words():
                    if things:
                        break
                elif word not in skip and len(word) > 2:
                    things.append(word)
                    if len(things) == THING_WORDS:
                        break
            return tuple(things)
    return ()


# "Combien de temps", "cuántos días": a duration, whose number stands by its own unit (months, weeks), not the thing.
_TIME = frozenset(["temps", "tiempo", "tempo", "time", "zeit"])


def counted(question: str, lang: str | None, names: Iterable[str] = ()) -> tuple[str, ...]:
    """What a "how many" question counts ("How many care homes use it?" -> care, homes); none for another one, or
    for a duration ("combien de temps")."""
    things = _thing(question, lang, _COUNTING, names)
    return () if things and things[0] in _TIME else things


def named(question: str, lang: str | None, names: Iterable[str] = ()) -> tuple[str, ...]:
    """What a "what is it called" question asks the name of ("Como se llama la empresa de selección?" -> empresa;
    "What is the name of Nvidia's new chip?" -> new, chip)."""
    return _thing(question, lang, _NAMING, names)


def _stems(things: Iterable[str]) -> list[str]:
    return [t[: max(4, len(t) - 3)] for t in things]


def counts(things: Iterable[str], text: str, lang: str) -> bool:
    """Whether the text puts a number on one of the counted things: the thing (in any inflection) at most
    COUNT_REACH words from a number ("twenty homes", "cento licei", "employs 120 people")."""
    stems = _stems(things)
    words = fold_words(text).split()
    return any(
        any(w.startswith(stem) for w in words[max(0, start - COUNT_REACH) : end + COUNT_REACH] for stem in stems)
        for start, end in numbers(words, lang)
    )


def names(things: Iterable[str], text: str, lang: str, question_words: Iterable[str]) -> bool:
    """Whether the text puts a name the question does not give on one of the named things: the thing (in any
    inflection) at most NAME_REACH words from the name ("la banca Intesa", "Talento, a recruitment company")."""
    stems = _stems(things)
    sentences = split_sentences(text, lang)
    known = inner_names(sentences, lang)
    for sentence in sentences:
        words = fold_words(sentence).split()
        for run in new_names(sentence, lang, question_words, known):
            for start in (n for n in range(len(words)) if words[n : n + len(run)] == run):
                near = words[max(0, start - NAME_REACH) : start + len(run) + NAME_REACH]
                if any(w.startswith(stem) for w in near for stem in stems):
                    return True
    return False
