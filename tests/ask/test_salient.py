"""A question's names and numbers, and whether a story's words hold them."""

from __future__ import annotations

import pytest

from bot.ask.salient import Vocabulary, inner_names, name_runs, name_tokens, needs_pivot, salient_terms, without_terms


def texts(question: str, lang: str) -> list[str]:
    return [t.text for t in salient_terms(question, lang)]


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("When did Helios Labs go public?", "en", ["helios labs"]),  # a capitalised run is one name
        ("Who cut off OpenAI's access to Claude?", "en", ["openai", "claude"]),  # the possessive goes
        ("Dans quelle région les caisses d'Aleph Alpha travaillent ?", "fr", ["aleph alpha"]),  # so does d'
        ("Que dit la CNIL sur les caméras ?", "fr", ["cnil"]),  # an acronym
        ("Helios Labs raised how much?", "en", ["helios labs"]),  # a name may start the question ...
        ("Nvidia chips?", "en", []),  # ... but a lone capital there is how a sentence starts
        ("Comment Airbus prévoit-il les pannes ?", "fr", ["airbus"]),  # a question word is never part of one
        ("Welches Gesetz bestraft Deepfakes?", "de", []),  # German capitalises every noun
        ("Wie erkennt die Deutsche Bahn Schäden?", "de", ["deutsche bahn schaden"]),  # ... a pair may be a name
        ("Was machen die neuen SAP-Agenten?", "de", ["sap"]),  # an acronym is one anywhere
        ("Welches Land verlangt Kennzeichnungen für KI-Videos?", "de", []),  # KI is AI in other languages
        ("What did Nvidia unveil in March 2023?", "en", ["2023", "nvidia", "march"]),  # numbers first
        ("Is GPT-5 better than the 3 others?", "en", ["gpt"]),  # one digit is no number worth checking
        ('Who said "open weights" first?', "en", ["open weights"]),  # a quoted phrase
        ("Anthropic为什么切断了OpenAI对Claude的访问权限？", "zh", ["openai", "claude"]),  # Latin inside CJK
        ("エヌビディアはどの会社を買収しましたか？", "ja", []),  # a katakana name needs the pivot
        ("ヘリオス・ラボは20億ドルを何に使う？", "ja", []),  # 20億 is two billion: its value is the pivot's
        ("OpenAIは20台のサーバーを買った？", "ja", ["20", "openai"]),  # 20 machines are 20
        # small words inside a name keep it one ...
        (
            "¿Qué resolvió en la Olimpiada Internacional de Matemáticas?",
            "es",
            ["olimpiada internacional de matematicas"],
        ),
        ("Did Bank of America use it?", "en", ["bank of america"]),
        ("Cosa offre la Banca di Napoli?", "it", ["banca di napoli"]),
        ("Quale banca di Milano?", "it", ["milano"]),  # a name starts with its capital
        ("Was it Helios Labs of course?", "en", ["helios labs"]),  # ... when another capital follows
        ("Wie schnell ist das Wettermodell von Google DeepMind?", "de", ["google deepmind"]),  # German nouns: not
    ],
)
def test_names_and_numbers_of_a_question(question: str, lang: str, expected: list[str]) -> None:
    assert texts(question, lang) == expected


def test_only_other_scripts_need_the_pivot_to_be_matched() -> None:
    assert needs_pivot("エヌビディアはどの会社を買収しましたか？") and needs_pivot("英伟达为什么受到欧盟调查？")
    assert needs_pivot("Что сказал OpenAI?")
    assert not needs_pivot("Qual é a pena prevista na Alemanha?") and not needs_pivot("Où est Zürich ?")


def test_the_question_without_its_names_is_what_it_asks_about_them() -> None:
    question = "When did Helios Labs go public?"
    assert without_terms(question, salient_terms(question, "en")) == "When did go public?"
    question = "Why did OpenAI's board fire the CEO?"
    assert without_terms(question, salient_terms(question, "en")) == "Why did board fire the ?"
    assert without_terms("How do I fix a tyre?", []) == "How do I fix a tyre?"


def test_a_story_holds_a_name_in_any_inflection_and_a_number_exactly() -> None:
    story = Vocabulary.of(["Nvidias neuer Chip Rubin", None, "Helios Labs raised $2,000 million in 2026", "Valtellina"])
    [nvidia, rubin] = salient_terms("What did Nvidia say about Rubin?", "en")
    [helios] = salient_terms("Did Helios Labs grow?", "en")
    assert story.has(nvidia) and story.has(rubin) and story.has(helios)
    [valteline] = salient_terms("Quand ouvre la Valteline ?", "fr")
    assert story.has(valteline)  # the French name of the valley meets the Italian one
    [year] = salient_terms("What happened in 2026?", "en")
    [other_year] = salient_terms("What happened in 2023?", "en")
    [amount] = salient_terms("Was it 2000 million?", "en")
    assert story.has(year) and not story.has(other_year) and story.has(amount)  # 2,000 is 2000
    [lattice] = salient_terms("How much did Lattice Minds raise?", "en")
    [labs_only] = salient_terms("What did Helios Minds build?", "en")
    assert not story.has(lattice) and not story.has(labs_only)  # every word of a name must be there
    [meta] = salient_terms("What did Meta show?", "en")
    assert not Vocabulary.of(["metals"]).has(meta)  # a short name needs the word itself
    [openai] = salient_terms("What did OpenAI show?", "en")
    assert not Vocabulary.of(["They opened"]).has(openai) and Vocabulary.of(["OpenAIs Modell"]).has(openai)
    [asian] = salient_terms("Where is the Asian office?", "en")
    assert Vocabulary.of(["An office in Asia"]).has(asian)


def test_the_names_a_sentence_holds() -> None:
    # A capital that starts the sentence is a name only when another follows it, the word is marked, or the story
    # capitalises it inside a sentence too.
    assert name_tokens("Anthropic opened its first office in Asia, in Tokyo.", "en") == ["asia", "tokyo"]
    assert name_tokens("Anthropic opened an office.", "en", ["anthropic"]) == ["anthropic"]
    assert name_tokens("Regulators still have to approve.", "en") == []
    assert name_tokens("Hugging Face opened a lab.", "en") == ["hugging", "face"]
    assert name_tokens("OpenAI opened a lab.", "en") == ["openai"]
    assert name_tokens("The plant returns to service in 2028.", "en") == []  # a number is no name
    assert name_tokens("L’équipe compte trente ingénieurs.", "fr") == []  # nor an elided article's noun
    assert name_tokens("Le rapport de L’Arcep est publié.", "fr") == ["arcep"]  # a capital L' is no part of a name
    assert inner_names(["Anthropic opened an office in Tokyo.", "Anthropic hires."], "en") == {"tokyo"}
    # A capital in the title is a name's (or the title's first word): what the story's sentences start with too.
    assert inner_names(["Nvidia reports record revenue."], "en", ["Nvidia reports record revenue"]) == {"nvidia"}
    assert inner_names(["Regulators still have to approve."], "en", ["Microsoft signs a deal"]) == {"microsoft"}
    assert name_runs("Forscher der Technischen Universität München zeigen ihn.", "de") == [
        ["technischen", "universitat", "munchen"]
    ]
    assert name_tokens("La Agencia Española multó a una empresa.", "es") == ["agencia", "espanola"]
    assert name_tokens("Ein Hersteller von Haushaltsgeräten unterstützt das Projekt.", "de") == []
    assert name_tokens("Die TU München zeigt einen Roboter.", "de") == ["tu", "munchen"]
