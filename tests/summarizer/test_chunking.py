"""Sentence splitting in nine languages and token-bounded chunking, checked with a tokenizer trained on FLORES here."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from summarizer.chunking import chunk_sentences, fit_sentences, split_sentences, token_batches
from tests.corpora import flores_lines as flores


@pytest.fixture(scope="module")
def tokenizer() -> Any:
    """A WordPiece tokenizer trained on a few KB of English and Italian FLORES lines (well under a second)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=False)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    training = flores("eng_Latn")[:150] + flores("ita_Latn")[:150]
    tokenizer.train_from_iterator(training, trainers.WordPieceTrainer(vocab_size=800, special_tokens=["[UNK]"]))
    return tokenizer


@pytest.fixture(scope="module")
def count_tokens(tokenizer: Any) -> Callable[[str], int]:
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


@pytest.mark.parametrize(
    ("lang", "text", "expected"),
    [
        (
            "en",
            "Mr. Smith met Dr. Jones in the U.S. on Monday. George W. Bush said so! Was it 3.5% in 2019? Yes.",
            [
                "Mr. Smith met Dr. Jones in the U.S. on Monday.",
                "George W. Bush said so!",
                "Was it 3.5% in 2019?",
                "Yes.",
            ],
        ),
        (
            "en",
            "Prices rose, etc. and then fell... slowly. See No. 5 below.",
            ["Prices rose, etc. and then fell... slowly.", "See No. 5 below."],
        ),
        (
            "it",
            "Il sig. Rossi ha parlato con la dott. Bianchi. Vedi pag. 12 del rapporto. Poi è partito.",
            ["Il sig. Rossi ha parlato con la dott. Bianchi.", "Vedi pag. 12 del rapporto.", "Poi è partito."],
        ),
        (
            "de",
            "Am 3. Oktober sprach er z.B. über den 1. FC Köln. Das war im März 2017. Sie weinten.“ Dann gingen sie.",
            [
                "Am 3. Oktober sprach er z.B. über den 1. FC Köln.",
                "Das war im März 2017.",
                "Sie weinten.“",
                "Dann gingen sie.",
            ],
        ),
        (
            "fr",
            "M. Dupont est arrivé. « Bonjour. » Mme Martin aussi.",
            ["M. Dupont est arrivé.", "« Bonjour. »", "Mme Martin aussi."],
        ),
        ("es", "¿Qué pasa? ¡Nada! El Sr. García llegó.", ["¿Qué pasa?", "¡Nada!", "El Sr. García llegó."]),
        ("pt", "O Sr. Silva chegou às 10h. Ela saiu. Fim.", ["O Sr. Silva chegou às 10h.", "Ela saiu.", "Fim."]),
        (
            "ru",
            "Это было в 2010 г. в Москве. Он ушёл! Т. е. всё.",
            ["Это было в 2010 г. в Москве.", "Он ушёл!", "Т. е. всё."],
        ),
        (
            "ja",
            "今日は晴れです。明日は雨でしょう！「はい。」と彼は言った。本当？",
            ["今日は晴れです。", "明日は雨でしょう！", "「はい。」と彼は言った。", "本当？"],
        ),
        (
            "zh",
            "他称，他制作了一个 WiFi 门铃。“是的。”然后他走了！真的吗？",
            ["他称，他制作了一个 WiFi 门铃。", "“是的。”", "然后他走了！", "真的吗？"],
        ),
        (
            "en",
            "A title without a period\nFirst paragraph. Second sentence.\n\nLast one",
            ["A title without a period", "First paragraph.", "Second sentence.", "Last one"],
        ),
    ],
)
def test_split_sentences(lang: str, text: str, expected: list[str]) -> None:
    assert split_sentences(text, lang) == expected


@pytest.mark.parametrize(
    ("lang", "name"),
    [
        ("en", "eng_Latn"),
        ("it", "ita_Latn"),
        ("de", "deu_Latn"),
        ("fr", "fra_Latn"),
        ("es", "spa_Latn"),
        ("pt", "por_Latn"),
        ("ru", "rus_Cyrl"),
        ("ja", "jpn_Jpan"),
        ("zh", "zho_Hans"),
    ],
)
def test_flores_line_ends_are_found_as_sentence_ends(lang: str, name: str) -> None:
    """Five FLORES lines run together: at least 97% of the four line ends inside are split at (the misses are lines
    that end without punctuation), and the text comes back word for word."""
    glue = "" if lang in ("ja", "zh") else " "
    lines = [glue.join(line.split()) for line in flores(name)]  # whitespace normalized, as split_sentences strips
    found = total = 0
    for start in range(0, len(lines) - 4, 5):
        group = lines[start : start + 5]
        sentences = split_sentences(glue.join(group), lang)
        assert glue.join(sentences) == glue.join(group)
        ends = {len(glue.join(sentences[: i + 1])) for i in range(len(sentences))}
        found += sum(len(glue.join(group[: i + 1])) in ends for i in range(4))
        total += 4
    assert found / total >= 0.97, f"{found}/{total}"


def article_of_10000_words() -> list[tuple[str, str]]:
    """(language, paragraph) pairs: five FLORES lines a paragraph, English and Italian in turn, to 10,000 words."""
    english, italian = flores("eng_Latn"), flores("ita_Latn")
    paragraphs: list[tuple[str, str]] = []
    words = 0
    for start in range(0, len(english), 5):
        for lang, lines in (("en", english), ("it", italian)):
            paragraphs.append((lang, " ".join(lines[start : start + 5])))
            words += len(paragraphs[-1][1].split())
        if words >= 10_000:
            return paragraphs
    raise AssertionError("FLORES is long enough")


@pytest.mark.parametrize("max_tokens", [64, 512])
def test_a_10000_word_article_is_chunked_completely_and_within_the_token_bound(
    count_tokens: Callable[[str], int], max_tokens: int
) -> None:
    paragraphs = article_of_10000_words()
    text = "\n".join(paragraph for _, paragraph in paragraphs)
    sentences = [s for lang, paragraph in paragraphs for s in split_sentences(paragraph, lang)]
    chunks = chunk_sentences(sentences, count_tokens, max_tokens)

    pieces = [piece for chunk in chunks for piece in chunk]
    assert pieces == fit_sentences(sentences, count_tokens, max_tokens), "every piece once, in order"
    assert " ".join(pieces).split() == text.split(), "the chunks hold the article word for word"
    assert set(pieces) >= {s for s in sentences if count_tokens(s) <= max_tokens}, "only over-long sentences are cut"
    counts = [count_tokens(" ".join(chunk)) for chunk in chunks]
    assert max(counts) <= max_tokens
    # Greedy packing: the next chunk's first sentence would not have fitted into the chunk before it.
    assert all(count_tokens(" ".join([*a, b[0]])) > max_tokens for a, b in itertools.pairwise(chunks))


def test_a_sentence_longer_than_the_bound_is_cut_between_words(count_tokens: Callable[[str], int]) -> None:
    sentence = " ".join(flores("eng_Latn")[:12])  # one "sentence" of about 300 words
    pieces = fit_sentences([sentence], count_tokens, 40)
    assert len(pieces) > 1 and " ".join(pieces) == sentence
    assert all(count_tokens(piece) <= 40 for piece in pieces)


def test_text_without_spaces_is_cut_between_characters() -> None:
    sentence = "".join("".join(flores("zho_Hans")[:3]).split())
    pieces = fit_sentences([sentence], len, 30)  # one token per character
    assert "".join(pieces) == sentence and all(len(piece) <= 30 for piece in pieces)
    chunks = chunk_sentences(split_sentences(sentence, "zh"), len, 50, joiner="")
    assert "".join(piece for chunk in chunks for piece in chunk) == sentence
    assert all(len("".join(chunk)) <= 50 for chunk in chunks)


def test_a_joined_chunk_that_counts_more_than_its_parts_is_split() -> None:
    # A tokenizer that spends a token on every joining space: the sum of the parts would let chunks overflow.
    def count(text: str) -> int:
        return len(text.split()) + text.count(" ")

    sentences = ["one two", "three four", "five six", "seven eight"]
    chunks = chunk_sentences(sentences, count, 7)
    assert [s for chunk in chunks for s in chunk] == sentences
    assert all(count(" ".join(chunk)) <= 7 for chunk in chunks)


def test_no_sentences_no_chunks() -> None:
    assert chunk_sentences([], len, 10) == []
    assert split_sentences("  \n\n ", "en") == []


def test_token_batches_cover_every_index_once_shortest_first_within_bounds() -> None:
    counts = [5, 50, 3, 40, 8, 60, 1, 45]
    batches = token_batches(counts, max_items=3, max_tokens=100)
    assert sorted(i for batch in batches for i in batch) == list(range(len(counts)))
    assert [counts[i] for batch in batches for i in batch] == sorted(counts)
    assert all(len(batch) <= 3 and len(batch) * max(counts[i] for i in batch) <= 100 for batch in batches)
