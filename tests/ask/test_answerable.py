"""The judgement behind "I found nothing": a story answers only with the question's names, a sentence close to what
the question asks about them, and the kind of answer it asks for."""

from __future__ import annotations

from bot.ask.answerable import MARGIN, NAMELESS_EXTRA, Question, Sentence, by_names, judge, missing_terms
from bot.ask.salient import Vocabulary

BAR = 0.78
HELIOS = Vocabulary.of(
    [
        "Helios Labs raises $2 billion",
        "Helios Labs, from Boston, raised $2 billion in a round led by Sequoia.",
        None,
        None,
    ]
)


def names(question: Question, story: Vocabulary) -> list[str]:
    return [t.text for t in missing_terms(question, story)]


def test_every_name_and_number_of_the_question_must_be_in_the_story() -> None:
    assert names(Question.of("How much did Helios Labs raise?", "en"), HELIOS) == []
    assert names(Question.of("How much did Lattice Minds raise?", "en"), HELIOS) == ["lattice minds"]
    assert names(Question.of("What did Helios Labs raise in 2023?", "en"), HELIOS) == ["2023"]
    verdict = by_names(Question.of("Did Helios Labs and Lattice Minds merge?", "en"), HELIOS)
    assert verdict is not None and not verdict.answers and verdict.close  # it holds one of the two: close
    verdict = by_names(Question.of("How much did Lattice Minds raise?", "en"), HELIOS)
    assert verdict is not None and not verdict.close
    # Through a pivot that only repeats the name, still nothing is held.
    verdict = by_names(
        Question.of("Quanto ha raccolto Lattice Minds?", "it", "How much did Lattice Minds raise?"), HELIOS
    )
    assert verdict is not None and not verdict.close
    assert by_names(Question.of("How much did Helios Labs raise?", "en"), HELIOS) is None


def test_the_english_pivot_stands_in_for_a_name_other_languages_spell_differently() -> None:
    law = Vocabulary.of(["Germany punishes sexual deepfakes", "The Bundestag passed a law in Germany.", None, None])
    question = "Qual é a pena prevista na Alemanha para deepfakes?"
    assert names(Question.of(question, "pt"), law) == ["alemanha"]
    assert names(Question.of(question, "pt", "What penalty does Germany set for deepfakes?"), law) == []
    # A name the question writes itself rescues nothing: Bundestag is in the German question, 2023 is still missing.
    german = Question.of(
        "Welche Gesetze hat der Bundestag 2023 beschlossen?", "de", "Which laws did the Bundestag pass in 2023?"
    )
    assert names(german, law) == ["2023"]
    german = Question.of(
        "Hat der Bundestag mit Lattice Minds gesprochen?", "de", "Did the Bundestag talk to Lattice Minds?"
    )
    assert names(german, law) == ["lattice minds"]
    # The pivot's own names must be there too: it reads the names a katakana question spells its own way.
    katakana = Question.of("エヌビディアはどの会社を買収しましたか？", "ja", "Which company did Nvidia acquire?")
    assert names(katakana, law) == ["nvidia"]
    assert names(katakana, Vocabulary.of(["Nvidia presentó Rubin", None, None, None])) == []


def sentences(*scores: float, text: str = "Helios Labs raised $2 billion in a round led by Sequoia.") -> list[Sentence]:
    return [Sentence(text, "en", score) for score in scores]


def test_a_story_must_have_a_sentence_close_to_what_the_question_asks() -> None:
    named = Question.of("How much did Helios Labs raise?", "en")
    assert judge(named, sentences(BAR + 0.01, 0.5), BAR, 0.0).answers
    verdict = judge(named, sentences(BAR - 0.01), BAR, 0.0)
    assert not verdict.answers and verdict.close
    # Without a name to check, the question's own meaning must come closer.
    nameless = Question.of("How much did the startup raise?", "en")
    assert not judge(nameless, sentences(BAR + NAMELESS_EXTRA - 0.005), BAR, 0.0).answers
    assert judge(nameless, sentences(BAR + NAMELESS_EXTRA + 0.005), BAR, 0.0).answers


def test_a_story_much_further_than_another_candidate_does_not_answer() -> None:
    named = Question.of("How much did Helios Labs raise?", "en")
    assert judge(named, sentences(0.85), BAR, 0.85 + MARGIN - 0.005).answers
    verdict = judge(named, sentences(0.85), BAR, 0.85 + MARGIN + 0.005)
    assert not verdict.answers and not verdict.close


def test_the_kind_of_answer_asked_for_must_be_in_the_closest_sentences() -> None:
    count = Question.of("How many employees does Helios Labs have?", "en")
    money_only = sentences(0.85, 0.84, text="Helios Labs raised $2 billion.")
    verdict = judge(count, money_only, BAR, 0.0)
    assert not verdict.answers and verdict.close and "count" in verdict.reason
    staffed = [*money_only, Sentence("The lab employs 120 people.", "en", 0.83)]
    assert judge(count, staffed, BAR, 0.0).answers
    # Only the closest few count, and never the title: a number far down the story is not this answer.
    far = [*money_only, *sentences(0.80, 0.80), Sentence("The lab employs 120 people.", "en", 0.79)]
    assert not judge(count, far, BAR, 0.0).answers
    titled = [Sentence("Helios Labs now has 120 people", "en", 0.9, title=True), *money_only]
    assert not judge(count, titled, BAR, 0.0).answers
