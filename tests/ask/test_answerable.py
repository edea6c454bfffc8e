"""The judgement behind "I found nothing": a story answers only with the question's names, a sentence close to what
the question asks about them, and the kind of answer it asks for."""

from __future__ import annotations

from bot.ask.answerable import (
    MARGIN,
    NAMELESS_EXTRA,
    UNSUPPORTED,
    Question,
    Sentence,
    by_names,
    judge,
    leave_one_out,
    missing_terms,
    says,
)
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
    law = Vocabulary.of(["Munich punishes sexual deepfakes", "The Bundestag passed a law in Munich.", None, None])
    question = "Qual é a pena prevista em Munique para deepfakes?"
    assert names(Question.of(question, "pt"), law) == ["munique"]
    assert names(Question.of(question, "pt", "What penalty does Munich set for deepfakes?"), law) == []
    # A name the question writes itself rescues nothing: Bundestag is in the German question, 2023 is still missing.
    german = Question.of(
        "Welche Gesetze hat der Bundestag 2023 beschlossen?", "de", "Which laws did the Bundestag pass in 2023?"
    )
    assert names(german, law) == ["2023"]
    german = Question.of(
        "Hat der Bundestag mit Lattice Minds gesprochen?", "de", "Did the Bundestag talk to Lattice Minds?"
    )
    assert names(german, law) == ["lattice minds"]
    # A country or people in small letters is named as much as a capitalised one.
    army = Question.of("¿Qué acuerdo firmó Mistral AI con el ejército español?", "es")
    french = Vocabulary.of(["Mistral AI signe avec l'armée française", None, None, None])
    assert names(army, french) == ["espanol"]
    assert names(Question.of("Che contratto ha firmato Mistral AI con l'esercito francese?", "it"), french) == []
    # German capitalises its nouns: a run of capitals is a name only where the pivot writes it too.
    power = Question.of(
        "Wann geht das Kraftwerk, von dem Microsoft Strom kauft, ans Netz?",
        "de",
        "When does the power plant Microsoft buys electricity from go online?",
    )
    assert power.terms == [] and [t.text for t in power.pivot_terms or []] == ["microsoft"]
    assert [
        t.text for t in Question.of("Wann geht das Kraftwerk, von dem Microsoft Strom kauft, ans Netz?", "de").terms
    ] == ["microsoft strom"]
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
    # A number is not enough when it counts something else: "how many specialists" against "five years".
    trained = Question.of("How many specialists will the army train?", "en")
    years = [Sentence("The contract lasts five years and includes the training of specialists.", "en", 0.86)]
    verdict = judge(trained, years, BAR, 0.0)
    assert not verdict.answers and verdict.close and "specialists" in verdict.reason
    pivot = [("Le contrat prévoit la formation de 300 spécialistes.", "fr"), ("It trains 300 specialists.", "en")]
    assert judge(trained, years, BAR, 0.0, pivot).answers  # the story's other texts count: its pivot too


def test_a_story_the_question_comes_closer_to_without_one_of_its_words_does_not_answer() -> None:
    sued = Question.of("Why was Telefónica sued over its language model?", "en")
    close = sentences(0.86, text="Telefónica presented a language model.")
    assert [w for w, _ in leave_one_out("Why was sued over its language model?")] == ["sued", "language", "model"]
    assert judge(sued, close, BAR, 0.0, closer=[("sued", UNSUPPORTED - 0.005), ("model", -0.02)]).answers
    verdict = judge(sued, close, BAR, 0.0, closer=[("sued", UNSUPPORTED + 0.005), ("model", -0.02)])
    assert not verdict.answers and verdict.close and "sued" in verdict.reason
    # Only a word the story lacks counts: one it says is no sign that it is about something else.
    texts = [("Telefónica was sued over its language model.", "en")]
    assert judge(sued, close, BAR, 0.0, texts, closer=[("sued", UNSUPPORTED + 0.005)]).answers
    # ... in any form: a possessive, an elision
    prices = Vocabulary.of(["OpenAI halves its prices", "Developers on the free tier get more.", None, None])
    assert says(prices, "openai's") and says(prices, "l'openai") and not says(prices, "microsoft's")


def test_a_question_that_names_nothing_needs_one_of_its_words_in_the_story() -> None:
    cheese = Question.of("Como se faz pão de queijo?", "pt", "How do you make pão de queijo?")
    assert cheese.about == ("faz", "pao", "queijo", "make", "pao", "queijo")
    vineyards = Vocabulary.of(["Sensores ahorran agua en viñedos chilenos", None, "Sensors save water", None])
    verdict = by_names(cheese, vineyards)
    assert verdict is not None and not verdict.answers and not verdict.close
    assert by_names(cheese, Vocabulary.of(["Receita de pão de queijo", None, None, None])) is None
    water = Question.of("Como os vinhedos economizam água?", "pt", "How do vineyards save water?")
    assert by_names(water, vineyards) is None  # through its pivot
    # Without a pivot, a Portuguese question's words cannot be looked for in a Spanish story: the similarity decides.
    alone = Question.of("Como se faz pão de queijo?", "pt")
    assert by_names(alone, vineyards, ["es", "en"]) is None
    verdict = by_names(alone, vineyards, ["pt"])
    assert verdict is not None and not verdict.answers


def test_a_country_or_people_is_held_by_any_of_its_names() -> None:
    arcep = Vocabulary.of(
        ["L’Arcep mesure", "centres de données en France", "Arcep measures", "data centers in France"]
    )
    assert names(Question.of("How much did French data centres grow?", "en"), arcep) == []
    army = Vocabulary.of(["Mistral AI signe", "l’armée française", None, "the French army"])
    assert names(Question.of("Which European startup works with Mistral AI?", "en"), army) == []
    assert names(Question.of("Which Spanish startup works with Mistral AI?", "en"), army) == ["spanish"]
    # Europe holds no country: a story about Europe says nothing of France.
    europe = Vocabulary.of(["Rules for Europe", None, None, None])
    assert names(Question.of("Which rules apply in France?", "en"), europe) == ["france"]


def test_a_name_written_inside_another_script_is_the_question_s_own() -> None:
    # 花了多少钱收购 is no word of a Latin text: Windsurf stays a name the story must hold, OpenAI does not stand in.
    prices = Vocabulary.of(["OpenAI cuts API prices", "OpenAI halved the price of its smallest model.", None, None])
    windsurf = Question.of("OpenAI花了多少钱收购Windsurf？", "zh", "How much did OpenAI pay to acquire Windsurf?")
    assert names(windsurf, prices) == ["windsurf"]


def test_a_name_that_opens_the_story_s_only_sentence_answers_who() -> None:
    who = Question.of("Who reported record data center revenue?", "en")
    title = Sentence("Nvidia reports record data center revenue", "en", 0.9, title=True)
    text = Sentence("Nvidia reports record data center revenue.", "en", 0.9)
    assert judge(who, [title, text], BAR, 0.0).answers  # the title shows Nvidia is a name
    untitled = judge(
        who, [Sentence("Regulators report record data center revenue", "en", 0.9, title=True), text], BAR, 0.0
    )
    assert not untitled.answers and "name" in untitled.reason
