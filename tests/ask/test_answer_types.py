"""The kind of answer a question asks for, and whether a sentence holds one, in the six Latin-script languages."""

from __future__ import annotations

import pytest

from bot.ask.answer_types import COUNT, DATE, MONEY, NAME, PLACE, asks_for, holds
from bot.ask.salient import fold_words


@pytest.mark.parametrize(
    ("question", "lang", "kind"),
    [
        ("How many employees does Helios Labs have?", "en", COUNT),
        ("How much money did Helios Labs raise?", "en", MONEY),
        ("What is the selling price of the Rubin chip?", "en", MONEY),  # a price, whatever the question word
        ("When did Helios Labs go public?", "en", DATE),
        ("Who is the chief executive of Helios Labs?", "en", NAME),
        ("Where will the data center be built?", "en", PLACE),
        ("Dove restano i dati?", "it", PLACE),
        ("What did Nvidia show?", "en", None),
        ("Quanti ingegneri lavorano nel laboratorio?", "it", COUNT),
        ("Quanto costerà il data center in Valtellina?", "it", MONEY),
        ("Come si chiama l'app multata dal Garante?", "it", NAME),
        ("Wie viele Sparkassen nutzen das System?", "de", COUNT),
        ("Ab wann will die Deutsche Bahn fahrerlose Züge einsetzen?", "de", DATE),
        ("Wie heißt der Hersteller?", "de", NAME),
        ("Comment s'appelle la boulangerie lyonnaise qui prévoit sa production ?", "fr", NAME),
        ("Quel contrat a signé la start-up qui a levé des fonds ?", "fr", None),  # "qui" here is no question word
        ("Et depuis quand ?", "fr", DATE),  # a clause may open with a conjunction
        ("¿Cuánto costó el sistema?", "es", MONEY),
        ("¿Cuántos idiomas habla el agente?", "es", COUNT),
        ("Quanto a Helios Labs captou na nova rodada?", "pt", MONEY),  # raising is money
        ("Quem dirige o laboratório?", "pt", NAME),
        ("Who is it?", "ja", None),  # only the six languages' question words are known
    ],
)
def test_what_a_question_asks_for(question: str, lang: str, kind: str | None) -> None:
    assert asks_for(question, lang) == kind


def test_a_count_is_a_number_but_not_an_amount_of_money() -> None:
    assert holds(COUNT, "Zwanzig Heime nutzen ihn bereits.", "de", [])  # spelled out
    assert holds(COUNT, "Die Fehlerquote sank um ein Drittel.", "de", [])
    assert holds(COUNT, "The team has 30 engineers.", "en", [])
    assert not holds(COUNT, "Helios Labs lève deux milliards de dollars.", "fr", [])  # money, not a head count
    assert not holds(COUNT, "Helios Labs raised $2 billion.", "en", [])
    assert not holds(COUNT, "Aleph Alpha arbeitet mit Sparkassen zusammen.", "de", [])
    assert not holds(COUNT, "Il tutor non dà le soluzioni.", "it", [])  # "due" is two in Italian only as a word
    assert holds(COUNT, "Waiting times for the sickest patients fell by a fifth.", "en", [])  # a fraction
    assert holds(COUNT, "La espera bajó una décima parte.", "es", [])


def test_an_amount_of_money_has_a_currency() -> None:
    assert holds(MONEY, "El servicio cuesta tres euros.", "es", [])
    assert holds(MONEY, "to ten cents per million input tokens", "en", [])
    assert holds(MONEY, "Helios Labs raised $2 billion.", "en", [])
    assert holds(MONEY, "Le logiciel coûte quarante euros par mois.", "fr", [])
    assert not holds(MONEY, "Un data center in Valtellina funzionerà con l'energia idroelettrica.", "it", [])
    assert not holds(MONEY, "Nvidia presentó Rubin, que entrena el doble de rápido.", "es", [])


def test_a_date_is_a_year_a_month_or_a_season() -> None:
    assert holds(DATE, "The obligations apply from August 2027.", "en", [])
    assert holds(DATE, "L'apertura è prevista nel 2028.", "it", [])
    assert holds(DATE, "Los primeros equipos llegarán en primavera.", "es", [])
    assert holds(DATE, "Die Regeln gelten ab August.", "de", [])
    assert holds(DATE, "The first systems ship in spring.", "en", [])
    assert holds(DATE, "It opens in May.", "en", [])
    assert not holds(DATE, "Helios Labs has raised two billion dollars.", "en", [])
    assert not holds(DATE, "You may ask for more.", "en", [])  # "may" the verb: English months need their case
    assert holds(DATE, "Die Agenten kommen im ersten Quartal.", "de", [])  # a quarter ...
    assert holds(DATE, "The case will go to trial next year.", "en", [])  # ... a year from now ...
    assert holds(DATE, "Il servizio arriverà l'anno prossimo.", "it", [])
    assert holds(DATE, "Le service ouvrira d'ici la fin de l'année.", "fr", [])  # ... the end of one
    assert not holds(DATE, "Every year the agents check invoices.", "en", [])  # a year, but not when


def test_a_place_is_a_name_or_a_country_by_any_of_its_names() -> None:
    data = fold_words("Where does the data stay?").split()
    assert holds(PLACE, "Die Daten bleiben in deutschen Rechenzentren.", "de", data)  # a people's adjective
    assert not holds(NAME, "Die Daten bleiben in deutschen Rechenzentren.", "de", data)  # ... but no name
    assert holds(PLACE, "The servers stand in Milan.", "en", data)
    assert not holds(PLACE, "The data stays on the bank's own servers.", "en", data)


def test_a_name_is_one_the_question_does_not_already_give() -> None:
    question = fold_words("Comment s'appelle la boulangerie lyonnaise ?").split()
    assert not holds(NAME, "Une boulangerie de Lyon utilise un logiciel.", "fr", question)  # Lyon: lyonnaise
    assert holds(NAME, "La boulangerie Dupont utilise un logiciel.", "fr", question)
    plant = fold_words("What is the name of the Pennsylvania plant that supplies Microsoft?").split()
    assert not holds(NAME, "Microsoft will buy power from a plant in Pennsylvania.", "en", plant)
    assert holds(NAME, "Microsoft will buy power from Three Mile Island.", "en", plant)


def test_a_name_is_not_a_people_a_number_or_the_question_s_acronym_spelled_out() -> None:
    office = fold_words("Who heads the Tokyo office?").split()
    assert not holds(NAME, "The company works with Japanese banks in Tokyo.", "en", office)  # Japanese: a people
    assert not holds(NAME, "Regulators still have to approve.", "en", office)  # a capital that starts a sentence
    assert holds(NAME, "Regulators named Aiko Tanaka.", "en", office)
    assert holds(NAME, "Anthropic hired her.", "en", office, known=["anthropic"])  # capitalised elsewhere: a name
    maker = fold_words("Wie heißt der Hersteller, der die TU München unterstützt?").split()
    assert not holds(NAME, "Forscher der Technischen Universität München zeigen ihn.", "de", maker)  # TU, in full
    assert holds(NAME, "Forscher der Technischen Universität Berlin zeigen ihn.", "de", maker)
