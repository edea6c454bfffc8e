"""What a "how many" or "what is it called" question is about, and whether a story puts a number or a name on it."""

from __future__ import annotations

from bot.ask.answerable import Question
from bot.ask.focus import counted, counts, named, names
from bot.ask.salient import fold_words


def test_what_a_how_many_question_counts_must_carry_a_number() -> None:
    assert counted("How many employees does Helios Labs have?", "en") == ("employees",)
    assert counted("How many care homes already use it?", "en") == ("care", "homes")
    assert counted("Combien d'ingénieurs travaillent ici ?", "fr") == ("ingenieurs", "travaillent")
    assert counted("How much did it cost?", "en") == ()
    # a duration: its number stands beside its unit ("two months"), not beside the time asked about
    assert counted("Combien de temps avant la récolte peuvent-ils estimer leur blé ?", "fr") == ()
    assert counted("¿Cuánto tiempo tardan?", "es") == ()
    assert counts(["specialists"], "The contract trains 300 specialists.", "en")
    assert counts(["employees"], "The lab employs 120 people.", "en")  # the thing may come first
    assert counts(["ingenieurs"], "L'équipe compte trente ingénieurs.", "fr")  # a number in words
    assert not counts(["specialists"], "The contract lasts five years and includes the training of specialists.", "en")
    assert not counts(["homes"], "Twenty hospitals use it; homes will follow.", "en")


def test_what_a_naming_question_names_must_stand_beside_a_new_name() -> None:
    assert named("What is the name of the recruitment company fined by the agency?", "en") == ("recruitment", "company")
    assert named("¿Cómo se llama la empresa de selección de personal?", "es") == ("empresa",)
    assert named("Come si chiama l'app multata dal Garante?", "it") == ("app", "multata")
    assert named("Who runs the company?", "en") == ()
    # "who is the X" asks for the name of X as much: the new chief executive, not any name in the story
    assert named("Chi è il nuovo amministratore delegato di Fastweb?", "it", ["fastweb"]) == ("nuovo", "amministratore")
    assert named("Who is the chief executive of Helios Labs?", "en") == ("chief", "executive")
    assert named("Wer ist der Gründer von Carevoice?", "de") == ("grunder",)
    question = fold_words("What is the name of the recruitment company fined by the Spanish agency?").split()
    agency = "The Spanish Agency for the Supervision of Artificial Intelligence fined a recruitment company."
    assert not names(["recruitment", "company"], agency, "en", question)  # a name, but the agency's
    assert names(["company"], "The agency fined the recruitment company Talento.", "en", question)
    assert names(["recruitment", "company"], "It fined Talento, a recruitment company.", "en", question)
    assert not names(["company"], "It fined the recruitment company of Spanish banks.", "en", question)  # a people


def test_the_thing_is_read_past_the_question_s_names() -> None:
    assert named("What is the name of Nvidia's new chip?", "en", ["nvidia"]) == ("new", "chip")
    assert counted("How many Helios Labs employees are there?", "en", ["helios", "labs"]) == ("employees",)
    # A question's own names are those names: "Nvidia" is what the chip belongs to, not the thing named.
    assert Question.of("What is the name of Nvidia's new chip?", "en").named == ("new", "chip")
    assert Question.of("Come si chiama il chip di Nvidia?", "it", "What is the name of Nvidia's chip?").named == (
        "chip",
        "chip",
    )
