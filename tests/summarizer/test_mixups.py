"""Tests that can see a mix-up: the tiny models' outputs depend on their inputs (checked first), so an engine that
hands article A the output of article B inside a batch, or drops the attention mask, fails here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from summarizer.engine import make_engine
from summarizer.transformers_backend import TorchSeq2SeqModel
from summarizer.types import Article, Engine, Enriched
from tests.corpora import flores_lines
from tests.tinymodels import TinyModels

# Length bounds that do not depend on a batch's longest input: batched and one-by-one runs are then comparable.
FIXED = {
    "translate_max_ratio": 0.0,
    "translate_extra_tokens": 6,
    "translate_min_ratio": 0.0,
    "summary_min_tokens": 6,
    "summary_max_tokens": 6,
    "quantize": False,
}


def articles() -> list[Article]:
    """Four distinct Italian articles of different lengths (padding matters in a batch)."""
    lines = flores_lines("ita_Latn", 40)
    return [Article(title=lines[n], text=" ".join(lines[n + 1 : n + 2 + n])) for n in (0, 5, 11, 19)]


def fields(result: Enriched) -> tuple[str, str, str]:
    return (result.title_en, result.text_en, result.summary_en)


def check_batch_equals_one_by_one(engine: Engine) -> None:
    batch = [fields(r) for r in engine.process_many(articles())]
    alone = [fields(engine.process(a)) for a in articles()]
    assert batch == alone


def test_distinct_inputs_give_distinct_outputs(tiny_models: TinyModels) -> None:
    """What every equality test below relies on: a tiny model does not say the same thing whatever it is given."""
    engine = make_engine(tiny_models.config(**{**FIXED, "translate_extra_tokens": 12}))
    sentences = flores_lines("ita_Latn", 24)
    translated = engine.translate(sentences, "it", "en").texts
    assert len(set(translated)) == len(sentences)
    summaries, _ = engine.summarize([" ".join(flores_lines("eng_Latn", 60)[n : n + 8]) for n in range(0, 48, 8)])
    assert len(set(summaries)) == 6
    results = [fields(r) for r in engine.process_many(articles())]
    assert all(len(set(column)) == len(results) for column in zip(*results, strict=True))


def test_a_batch_gives_each_article_its_own_output(tiny_models: TinyModels) -> None:
    check_batch_equals_one_by_one(make_engine(tiny_models.config(batch_size=4, **FIXED)))


def mutate(monkeypatch: pytest.MonkeyPatch, change: Callable[[Any, list[str], dict[str, Any]], list[str]]) -> None:
    original = TorchSeq2SeqModel.generate

    def mutant(self: TorchSeq2SeqModel, texts: Sequence[str], **options: Any) -> list[str]:
        return change(lambda t: original(self, t, **options), list(texts), options)

    monkeypatch.setattr(TorchSeq2SeqModel, "generate", mutant)


def test_a_mutant_that_swaps_two_outputs_in_a_batch_is_caught(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    def swap(run: Any, texts: list[str], _: dict[str, Any]) -> list[str]:
        outputs = run(texts)
        if len(outputs) > 1:
            outputs[0], outputs[1] = outputs[1], outputs[0]
        return list(outputs)

    mutate(monkeypatch, swap)
    with pytest.raises(AssertionError):
        check_batch_equals_one_by_one(make_engine(tiny_models.config(batch_size=4, **FIXED)))


def test_a_mutant_that_drops_the_attention_mask_is_caught(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(tiny_models.config(batch_size=4, **FIXED))
    original = TorchSeq2SeqModel.generate

    def unmasked(self: TorchSeq2SeqModel, texts: Sequence[str], **options: Any) -> list[str]:
        tokenizer = self.tokenizer

        class NoMask:
            def __getattr__(self, name: str) -> Any:
                return getattr(tokenizer, name)

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                encoded = tokenizer(*args, **kwargs)
                encoded.pop("attention_mask", None)
                return encoded

        self.tokenizer = NoMask()
        try:
            return original(self, texts, **options)
        finally:
            self.tokenizer = tokenizer

    monkeypatch.setattr(TorchSeq2SeqModel, "generate", unmasked)
    with pytest.raises(AssertionError):
        check_batch_equals_one_by_one(engine)
