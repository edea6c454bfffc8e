"""Countries and peoples by any of their names, in the six Latin-script languages."""

from __future__ import annotations

from bot.ask.places import EUROPE, home, place, places, spelled_place


def test_a_country_is_one_place_whatever_names_it() -> None:
    for name in ("france", "frankreich", "francia", "french", "francaise", "franzosischen", "francese"):
        assert place([name]) == {"FR"}, name
    assert place(["alemanha"]) == place(["germany"]) == place(["deutschen"]) == {"DE"}
    assert place(["united", "states"]) == {"US"}
    assert place(["europe"]) == place(["european"]) == place(["europa"]) == EUROPE


def test_a_language_official_nowhere_and_a_name_that_is_no_place_stand_for_none() -> None:
    assert place(["breton"]) == place(["bretagne"]) == frozenset()  # Breton is official in no country
    assert place(["helios"]) == place(["us"]) == place([]) == frozenset()


def test_a_text_names_the_countries_it_mentions_but_europe_is_none_of_them() -> None:
    assert places(frozenset(["data", "centers", "in", "france", "and", "the", "german", "army"])) == {"FR", "DE"}
    assert places(frozenset(["rules", "for", "europe", "and", "the", "united", "kingdom"])) == {"GB"}
    assert places(frozenset(["rules", "of", "the", "european", "union"])) == frozenset()


def test_a_story_in_a_country_s_own_language_is_about_that_country_but_english_about_none() -> None:
    assert home("de") == {"DE"} and home("it") == {"IT"} and home("fr") == {"FR"} and home("es") == {"ES"}
    assert home("en") == home(None) == frozenset()


def test_a_word_in_small_letters_names_a_country_only_as_cldr_spells_it() -> None:
    assert spelled_place("espanol") == spelled_place("espanola") == {"ES"}  # an ending more
    assert spelled_place("francesi") == spelled_place("francese") == {"FR"}
    assert spelled_place("alemanes") == {"DE"}
    # words that only start like a country's name: Finland, Sudan, Cameroon, Liberia
    for word in ("fine", "sued", "cameras", "libero", "francesco"):
        assert spelled_place(word) == frozenset(), word
