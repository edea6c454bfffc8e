"""The ctranslate2 backend: the tiny Marian and BART models converted with CTranslate2's own converter give, greedy,
the transformers backend's output token for token through the engine calls the app makes (pivot into English,
summary, summary translation out of English, a multi-target model's token); a model not converted is refused."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from summarizer.convert import convert_model, convert_models
from summarizer.ctranslate2_backend import CTranslate2Engine, _Job, load_ct2
from summarizer.download import locate_converted, missing_models
from summarizer.engine import make_engine
from summarizer.errors import ModelNotConvertedError
from summarizer.transformers_backend import TransformersEngine, load_seq2seq
from summarizer.types import Article, EngineConfig, Enriched
from tests.corpora import flores_lines, polish_feed_entries
from tests.tinymodels import TinyModels

GREEDY = {"translate_beams": 1, "summary_beams": 1, "quantize": False}


@pytest.fixture(scope="module")
def converted(tiny_models: TinyModels) -> EngineConfig:
    """The tiny models' engine config (greedy, float32), every model in it converted."""
    config = tiny_models.config(
        backend="ctranslate2",
        translation_overrides={
            "it-en": str(tiny_models.it_en),
            "en-de": str(tiny_models.en_de),
            "en-it": str(tiny_models.en_it),
            "en-pt": str(tiny_models.en_pt),
        },
        translation_tokens={"en-pt": ">>por<<"},
        languages=("en", "it", "de", "pt"),
        **GREEDY,
    )
    for model in (tiny_models.summarizer, tiny_models.long_summarizer):
        convert_model(str(model), config)
    wanted = {str(tiny_models.long_summarizer), str(tiny_models.mul_en), *config.translation_overrides.values()}
    assert sorted(convert_models(config)) == sorted(wanted)
    return config


def articles() -> list[Article]:
    """Distinct articles of different lengths: Italian (its pair model) and Polish (the mul-en fallback)."""
    italian, (polish, _) = flores_lines("ita_Latn", 30), polish_feed_entries()
    made = [Article(title=italian[n], text=" ".join(italian[n + 1 : n + 3 + n])) for n in (0, 6, 14)]
    return [*made, Article(title=polish[0], text=" ".join(polish[1:4]))]


def fields(results: list[Enriched]) -> list[tuple[str, str, str, str, str]]:
    return [(r.lang, r.title_en, r.text_en, r.summary_en, r.models["translate"]) for r in results]


def test_greedy_output_equals_the_transformers_backend_through_pivot_summary_and_summary_translation(
    converted: EngineConfig,
) -> None:
    ct2 = make_engine(converted)
    torch = make_engine(replace(converted, backend="transformers"))
    assert isinstance(ct2, CTranslate2Engine) and isinstance(torch, TransformersEngine)

    pivoted = fields(ct2.process_many(articles()))
    # First that the outputs depend on the inputs, or equality would prove nothing.
    assert [lang for lang, *_ in pivoted] == ["it", "it", "it", "pl"]
    assert all(len(set(column)) == 4 for column in list(zip(*pivoted, strict=True))[1:4])
    assert pivoted == fields(torch.process_many(articles()))

    summaries = [summary for *_, summary, _ in pivoted]
    for lang in ("de", "it", "pt"):  # pt: the multi-target model with its >>por<< token
        out = ct2.translate(summaries, "en", lang)
        assert len(set(out.texts)) == len(summaries)
        assert out == torch.translate(summaries, "en", lang)


def test_map_reduce_summaries_are_equal_on_the_short_summarizer(
    converted: EngineConfig, tiny_models: TinyModels
) -> None:
    """128 positions: a long article spans many chunks, so every map and reduce round is compared."""
    config = replace(converted, summarizer_model=str(tiny_models.summarizer))
    texts = [" ".join(flores_lines("eng_Latn", 80)[n : n + 30]) for n in (0, 40)]
    summaries, model = make_engine(config).summarize(texts)
    assert len(set(summaries)) == 2
    assert (summaries, model) == make_engine(replace(config, backend="transformers")).summarize(texts)


def test_raw_generate_with_min_and_max_lengths_matches_token_for_token(
    converted: EngineConfig, tiny_models: TinyModels
) -> None:
    """The length bounds count as transformers counts them (its forced last token, BART's forced first one)."""
    sentences = flores_lines("ita_Latn", 6)
    for model in (tiny_models.it_en, tiny_models.long_summarizer):
        ct2, torch = load_ct2(str(model), converted), load_seq2seq(str(model), converted)
        for low, high in ((0, 12), (5, 9), (9, 9)):
            options = {"beams": 1, "min_new_tokens": low, "max_new_tokens": high}
            assert ct2.generate(sentences, **options) == torch.generate(sentences, **options)
            ids = ct2.tokenizer(ct2.generate(sentences, **options), add_special_tokens=False)["input_ids"]
            assert max(len(row) for row in ids) <= high


def test_batches_are_spread_over_the_workers_costliest_first_and_come_back_in_order(
    converted: EngineConfig, tiny_models: TinyModels
) -> None:
    model = load_ct2(str(tiny_models.it_en), replace(converted, torch_threads=2))
    assert model.workers == 2
    sentences = flores_lines("ita_Latn", 7)
    alone = [model.generate([sentence], beams=1, min_new_tokens=0, max_new_tokens=12)[0] for sentence in sentences]
    assert len(set(alone)) == 7
    real, submitted = model.translator, []

    class Counting:
        def translate_batch(self, sources: list[list[str]], **options: object) -> object:
            submitted.append(_Job(0, 0, sources, 0, 12, model.costs).cost)
            return real.translate_batch(sources, **options)

    model.translator = Counting()
    one_batch = model.generate_batches([sentences], beams=1, lengths=[(0, 12)])
    assert one_batch == [alone] and len(submitted) == 2  # one batch of 7 on 2 workers: cut once
    submitted.clear()
    two = model.generate_batches([sentences[:1], sentences[1:]], beams=1, lengths=[(0, 12), (0, 12)])
    assert two == [alone[:1], alone[1:]] and len(submitted) >= 2
    assert submitted == sorted(submitted, reverse=True)  # the costliest first
    submitted.clear()
    assert model.generate_batches([], beams=1, lengths=[]) == []
    assert model.generate_batches([[]], beams=1, lengths=[(0, 12)]) == [[]] and not submitted


def test_nothing_to_generate_generates_nothing(converted: EngineConfig) -> None:
    """A text no longer than a summary is its own: the summary step then has no batch at all."""
    engine = make_engine(replace(converted, torch_threads=2))
    assert engine.summarize(["A short text."])[0] == ["A short text."]
    assert engine.translate([""], "it", "en").texts == [""]


def test_the_summarizer_gets_two_threads_per_worker_and_translators_one(
    converted: EngineConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ctranslate2

    made: list[tuple[str, int]] = []
    real = ctranslate2.Translator

    def recording(path: str, **options: Any) -> Any:
        assert options["inter_threads"] == 2
        made.append((Path(path).name, options["intra_threads"]))
        return real(path, **options)

    monkeypatch.setattr(ctranslate2, "Translator", recording)
    engine = make_engine(replace(converted, torch_threads=2))
    engine.process(Article(title=flores_lines("ita_Latn", 1)[0], text=" ".join(flores_lines("ita_Latn", 4))))
    threads = {name.split("-")[0]: intra for name, intra in made}  # long-bart-..., opus-mt-it-en-...
    assert len(made) == 2 and threads == {"long": 2, "opus": 1}


def test_ctranslate2_threads_sleep_while_they_wait_and_torch_keeps_its_default() -> None:
    """OpenMP reports its settings as each copy loads: ctranslate2's first (no spinning), torch's after (its own)."""
    script = (
        "import os; from summarizer.ctranslate2_backend import imported_ctranslate2; imported_ctranslate2(); "
        "assert 'OMP_WAIT_POLICY' not in os.environ; print('---', file=__import__('sys').stderr); import torch"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    done = subprocess.run(
        [sys.executable, "-c", script], env={**env, "OMP_DISPLAY_ENV": "VERBOSE"}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    ours, theirs = done.stderr.split("---", 1)
    assert "GOMP_SPINCOUNT = '0'" in ours
    assert "GOMP_SPINCOUNT = '300000'" in theirs


def test_int8_conversion_runs_and_keeps_outputs_apart(tiny_models: TinyModels, converted: EngineConfig) -> None:
    config = replace(converted, quantize=True)
    assert locate_converted(str(tiny_models.it_en), config) is None  # float32 and int8 are converted apart
    path = convert_model(str(tiny_models.it_en), config)
    assert path is not None and path.name.endswith("-int8")
    outputs = load_ct2(str(tiny_models.it_en), config).generate(
        flores_lines("ita_Latn", 8), beams=2, min_new_tokens=3, max_new_tokens=8
    )
    assert len(set(outputs)) == 8


def test_a_model_not_converted_is_refused_with_what_to_run(tiny_models: TinyModels, tmp_path: Path) -> None:
    config = tiny_models.config(backend="ctranslate2", model_dir=tmp_path / "cache")
    with pytest.raises(ModelNotConvertedError, match="not converted for the ctranslate2 backend: run `newsbot models"):
        make_engine(config)
    assert str(tiny_models.long_summarizer) in missing_models(config)


def test_a_conversion_older_than_its_model_is_made_again(tiny_models: TinyModels, tmp_path: Path) -> None:
    model = tmp_path / "it-en"
    model.mkdir()
    for file in tiny_models.it_en.iterdir():
        (model / file.name).write_bytes(file.read_bytes())
    config = tiny_models.config(backend="ctranslate2", model_dir=tmp_path / "cache", quantize=False)
    first = convert_model(str(model), config)
    assert first is not None and locate_converted(str(model), config) == first
    later = time.time() + 5
    os.utime(model / "config.json", (later, later))
    assert locate_converted(str(model), config) is None
    assert convert_model(str(model), config) == first and locate_converted(str(model), config) == first
    assert not list(first.parent.glob("*.partial"))
