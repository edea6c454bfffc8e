"""The model map: every offered language has a verified way into English and one out of it; a multi-target model
gets its target token in front of every input, which its tokenizer reads as one id; a language with no path is
refused with the reason; overrides, patterns and tokens from feeds.yaml win."""

from __future__ import annotations

import pytest

from summarizer.engine import make_engine
from summarizer.errors import EngineError
from summarizer.models import DEFAULT_PAIRS, configured_models, no_path, routes, translation_route
from summarizer.transformers_backend import TorchSeq2SeqModel
from summarizer.types import DEFAULT_LANGUAGES, Article, EngineConfig
from tests.corpora import polish_feed_entries
from tests.tinymodels import TARGET_TOKENS, TinyModels


@pytest.mark.parametrize("lang", [lang for lang in DEFAULT_LANGUAGES if lang != "en"])
def test_every_offered_language_has_a_checked_model_both_ways(lang: str) -> None:
    config = EngineConfig()
    into, out = translation_route(config, lang, "en"), translation_route(config, "en", lang)
    assert into is not None and out is not None and no_path(config, lang) is None
    for route in (into, out):
        assert route.name.startswith("Helsinki-NLP/") and route.licence and route.size_mb
        assert route.page == f"https://huggingface.co/{route.name}"
        assert "jap" not in route.name  # opus-mt-en-jap is a Bible model, not Japanese
    assert routes(config, lang, "en")[-1].name == "Helsinki-NLP/opus-mt-mul-en"  # the fallback comes last
    assert {into.name, out.name} <= set(configured_models(config, [lang]))


def test_multi_target_models_carry_their_token_and_an_admin_may_change_it() -> None:
    tokens = {pair: route.token for pair, route in DEFAULT_PAIRS.items() if route.token}
    assert tokens == {("en", "pt"): ">>por<<", ("en", "zh"): ">>cmn_Hans<<"}
    brazil = EngineConfig(translation_tokens={"en-pt": ">>pob<<"})
    assert (route := translation_route(brazil, "en", "pt")) is not None and route.token == ">>pob<<"
    pattern = EngineConfig(translation_model_pattern="me/mt-{src}-{tgt}", translation_overrides={"en-ja": "/m/ja"})
    assert [translation_route(pattern, "en", x).name for x in ("it", "ja")] == ["me/mt-en-it", "/m/ja"]  # type: ignore[union-attr]


def test_a_language_with_no_model_out_of_english_is_refused_with_the_reason(tiny_models: TinyModels) -> None:
    config = tiny_models.config(translation_model_pattern=None, translation_overrides={}, languages=("en", "pl"))
    assert translation_route(config, "en", "pl") is None
    assert "no model translates English into 'pl'" in (no_path(config, "pl") or "")
    with pytest.raises(EngineError, match="no model translates 'en' into 'pl': set translation_overrides"):
        make_engine(config).translate(["Hello."], "en", "pl")


def test_the_target_token_reaches_the_model_as_one_id(tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tiny_models.config(
        translation_overrides={"en-pt": str(tiny_models.en_pt)}, translation_tokens={"en-pt": TARGET_TOKENS[1]}
    )
    seen: list[list[int]] = []
    original = TorchSeq2SeqModel.generate

    def recording(self: TorchSeq2SeqModel, texts: list[str], **options: int) -> list[str]:
        seen.extend(self.tokenizer(list(texts))["input_ids"])
        return original(self, texts, **options)

    monkeypatch.setattr(TorchSeq2SeqModel, "generate", recording)
    engine = make_engine(config)
    done = engine.translate(["The cat sleeps. It dreams.", "A second text."], "en", "pt")
    assert done.model == str(tiny_models.en_pt) and len(done.texts) == 2
    token_id = engine._translator("en", "pt")[0].tokenizer.convert_tokens_to_ids(TARGET_TOKENS[1])  # type: ignore[attr-defined]
    assert len(seen) == 3 and all(ids[0] == token_id for ids in seen)  # each sentence, first id
    seen.clear()
    engine.translate(["Il gatto dorme."], "it", "en")  # a single-target model: no token
    assert seen and all(token_id not in ids for ids in seen)


def test_a_polish_story_is_pivoted_through_the_multilingual_fallback(tiny_models: TinyModels) -> None:
    """Polish is offered to no reader, yet its stories are detected as Polish (not "und", not a neighbour) and
    translated into English by opus-mt-mul-en (here the tiny stand-in), end to end."""
    texts, _ = polish_feed_entries()
    engine = make_engine(tiny_models.config())
    enriched = engine.process_many([Article(title=text.split(".")[0], text=text) for text in texts[:3]])
    assert [e.lang for e in enriched] == ["pl"] * 3
    assert all(e.models["translate"] == str(tiny_models.mul_en) and e.translated for e in enriched)
    assert len({e.text_en for e in enriched}) == 3 and all(e.summary_en for e in enriched)
