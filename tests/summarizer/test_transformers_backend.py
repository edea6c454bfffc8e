"""The transformers engine on tiny random-weight models: each step equals a direct generate call, map-reduce covers all."""

from __future__ import annotations

import itertools
import math
import shutil
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from summarizer.chunking import chunk_sentences, split_sentences
from summarizer.engine import make_engine
from summarizer.errors import EngineError, ModelUnavailableError
from summarizer.seq2seq import Seq2SeqModel
from summarizer.transformers_backend import TransformersEngine, load_seq2seq
from summarizer.types import Article, Detection, EngineConfig
from tests.corpora import ITALIAN_ARTICLE, flores_lines
from tests.tinymodels import TinyModels


class Direct:
    """One tiny model run with plain AutoTokenizer / AutoModelForSeq2SeqLM.generate and transformers' own beam cache:
    the reference the engine (batching, its beam cache, quantization) must reproduce exactly."""

    def __init__(self, path: Path, *, quantize: bool) -> None:
        import torch
        from torch.ao.quantization import quantize_dynamic
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(path).eval()
        if quantize:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's deprecation notices for eager-mode quantization
                quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)

    def tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def generate(self, text: str, *, beams: int, min_new: int, max_new: int) -> str:
        import torch

        inputs = self.tokenizer([text], return_tensors="pt")
        with torch.inference_mode():
            output = self.model.generate(**inputs, num_beams=beams, min_new_tokens=min_new, max_new_tokens=max_new)
        return str(self.tokenizer.decode(output[0], skip_special_tokens=True)).strip()

    def translate(self, text: str, lang: str, config: EngineConfig) -> str:
        """Sentence by sentence, one at a time, with the configured length bounds; lines kept."""

        def one(sentence: str) -> str:
            count = self.tokens(sentence)
            max_new = math.ceil(count * config.translate_max_ratio) + config.translate_extra_tokens
            min_new = int(count * config.translate_min_ratio)
            return self.generate(sentence, beams=config.translate_beams, min_new=min_new, max_new=max_new)

        return "\n".join(" ".join(one(s) for s in split_sentences(line, lang)) for line in text.splitlines())


def test_pipeline_equals_direct_generate_at_every_step(tiny_models: TinyModels) -> None:
    """Acceptance 1: Italian article in -> it, English pivot, English summary, summary in German, as direct calls give."""
    config = tiny_models.config(batch_size=1, quantize=True)
    lines = ITALIAN_ARTICLE.read_text(encoding="utf-8").strip().splitlines()
    article = Article(title=lines[0], text="\n".join(lines[1:]))
    engine = make_engine(config)

    enriched = engine.process(article)
    summary_de = engine.translate([enriched.summary_en], "en", "de")

    it_en = Direct(tiny_models.it_en, quantize=True)
    expected_title = it_en.translate(article.title, "it", config)
    expected_text = it_en.translate(article.text, "it", config)
    bart = Direct(tiny_models.long_summarizer, quantize=True)
    assert bart.tokens(expected_text) + 1 <= 4096, "the pivot must fit one input for a single direct call"
    # The summarizer reads the pivot as one chunk of whole sentences, joined by spaces (paragraph breaks go).
    chunk = " ".join(split_sentences(expected_text, "en"))
    expected_summary = bart.generate(
        chunk, beams=config.summary_beams, min_new=config.summary_min_tokens, max_new=config.summary_max_tokens
    )
    expected_de = Direct(tiny_models.en_de, quantize=True).translate(expected_summary, "en", config)

    assert enriched.lang == "it"
    assert (enriched.title_en, enriched.text_en) == (expected_title, expected_text)
    assert enriched.summary_en == expected_summary
    assert summary_de.texts == [expected_de]
    assert enriched.text_en != article.text and enriched.title_en != article.title
    assert enriched.text_en.count("\n") == article.text.count("\n")
    assert all((enriched.title_en, enriched.text_en, enriched.summary_en, expected_de))
    assert enriched.models == {
        "detect": "lingua",
        "translate": str(tiny_models.it_en),
        "summarize": str(tiny_models.long_summarizer),
    }
    assert summary_de.model == str(tiny_models.en_de)


def test_batching_and_length_sorting_do_not_change_translations(tiny_models: TinyModels) -> None:
    # Length bounds are per batch (of its longest sentence): fixed ones make batched and single runs comparable.
    fixed = {"translate_max_ratio": 0.0, "translate_extra_tokens": 6, "translate_min_ratio": 0.0, "quantize": False}
    sentences = flores_lines("ita_Latn", 12)
    one_by_one = make_engine(tiny_models.config(batch_size=1, **fixed)).translate(sentences, "it", "en")
    batched = make_engine(tiny_models.config(batch_size=5, **fixed)).translate(sentences, "it", "en")
    assert batched.texts == one_by_one.texts


def test_map_reduce_summarizes_every_chunk_of_a_10000_word_article(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Acceptance 3: nothing of a long article is truncated; each map input fits the model; rounds shrink to one."""
    words: list[str] = []
    paragraphs: list[str] = []
    for line in flores_lines("eng_Latn") * 3:
        if len(words) >= 10_000:
            break
        words += line.split()
        paragraphs.append(line)
    text = "\n".join(paragraphs)
    settings = {"summary_min_tokens": 4, "summary_max_tokens": 12, "batch_size": 8}
    engine = TransformersEngine(tiny_models.config(summarizer_model=str(tiny_models.summarizer), **settings))
    rounds: list[tuple[list[str], list[str]]] = []
    summaries_of = TransformersEngine._summaries

    def spy(
        self: TransformersEngine, model: Seq2SeqModel, inputs: Sequence[str], min_new: int, max_new: int
    ) -> list[str]:
        outputs = summaries_of(self, model, inputs, min_new, max_new)
        rounds.append((list(inputs), outputs))
        return outputs

    monkeypatch.setattr(TransformersEngine, "_summaries", spy)
    summaries, name = engine.summarize([text])

    model = load_seq2seq(str(tiny_models.summarizer), tiny_models.config(quantize=False))
    map_inputs = rounds[0][0]
    expected_chunks = chunk_sentences(split_sentences(text, "en"), model.count_one, model.max_input_tokens)
    assert len(map_inputs) == len(expected_chunks) > 100
    assert " ".join(map_inputs).split() == words, "the map step sees every word, in order"
    for inputs, _ in rounds:
        with_specials = model.tokenizer(inputs)["input_ids"]
        assert all(len(ids) <= model.model.config.max_position_embeddings for ids in with_specials)
    for (_, outputs), (next_inputs, _) in itertools.pairwise(rounds):
        reduced = split_sentences("\n".join(outputs), "en")
        assert len(next_inputs) == len(chunk_sentences(reduced, model.count_one, model.max_input_tokens)) < len(outputs)
    assert len(rounds[-1][0]) == 1 and summaries == rounds[-1][1] and summaries[0]
    assert name == str(tiny_models.summarizer)


def test_a_text_no_longer_than_a_summary_is_its_own_summary(tiny_models: TinyModels) -> None:
    engine = TransformersEngine(tiny_models.config())
    assert engine.summarize(["Short news.", ""]) == (["Short news.", ""], str(tiny_models.long_summarizer))


def test_same_language_is_identity_and_english_sources_are_not_translated(tiny_models: TinyModels) -> None:
    engine = make_engine(tiny_models.config())
    assert engine.translate(["Ciao."], "it", "it").model == "identity"
    english = Article(title="Scientists report a discovery", text="\n".join(flores_lines("eng_Latn", 8)))
    enriched = engine.process(english)
    assert enriched.lang == "en"
    assert (enriched.title_en, enriched.text_en) == (english.title, english.text)
    assert enriched.models["translate"] == "identity"


def test_process_many_translates_each_language_in_one_batch(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = flores_lines("ita_Latn", 8)
    italian = [Article(title=lines[0], text="\n".join(lines[1:4])), Article(title=lines[4], text="\n".join(lines[5:]))]
    english = Article(title="A report", text="\n".join(flores_lines("eng_Latn", 4)))
    engine = make_engine(tiny_models.config())
    calls: list[tuple[int, str, str]] = []
    translate = TransformersEngine.translate

    def spy(self: TransformersEngine, texts: Sequence[str], src: str, tgt: str) -> Any:
        calls.append((len(texts), src, tgt))
        return translate(self, texts, src, tgt)

    monkeypatch.setattr(TransformersEngine, "translate", spy)
    results = engine.process_many([italian[0], english, italian[1]])
    assert calls == [(4, "it", "en")]
    assert [r.lang for r in results] == ["it", "en", "it"]
    assert results[1].text_en == english.text
    assert all(result.title_en and result.text_en and result.summary_en for result in results)


def test_sources_without_a_pair_model_and_und_fall_back_to_mul_en(tiny_models: TinyModels) -> None:
    engine = make_engine(tiny_models.config())
    assert engine.translate(["Olá mundo."], "pt", "en").model == str(tiny_models.mul_en)
    assert engine.translate(["Xyz."], "und", "en").model == str(tiny_models.mul_en)
    with pytest.raises(EngineError, match="undetermined language into 'de'"):
        engine.translate(["Xyz."], "und", "de")


def test_a_weak_guess_goes_through_the_multilingual_model_not_the_guessed_pair(tiny_models: TinyModels) -> None:
    """ "OpenAI" alone comes out Italian at 0.30: the it-en model would be a guess, mul-en reads any language. A hint,
    or a confident detection, keeps the pair model."""

    class Guessing:
        def detect(self, text: str, hint: str | None = None) -> Detection:
            return Detection("it", 0.3 if text.startswith("OpenAI") else 0.95)

    engine = make_engine(tiny_models.config(), detector=Guessing())
    weak, sure, hinted = engine.process_many(
        [Article("OpenAI", ""), Article("Il gatto dorme.", "Sul tappeto."), Article("OpenAI", "", lang_hint="it")]
    )
    assert (weak.lang, weak.models["translate"]) == ("it", str(tiny_models.mul_en))
    assert sure.models["translate"] == hinted.models["translate"] == str(tiny_models.it_en)


def test_missing_models_raise_one_clear_error(tiny_models: TinyModels, tmp_path: Path) -> None:
    """Acceptance 4: the message names the model, the cache dir and the command that fetches models."""
    cache = tmp_path / "models"
    with pytest.raises(ModelUnavailableError) as missing_summarizer:
        make_engine(tiny_models.config(model_dir=cache, summarizer_model="nobody/distilbart"))
    message = str(missing_summarizer.value)
    assert "'nobody/distilbart'" in message and str(cache) in message and "`newsbot models download`" in message

    engine = make_engine(tiny_models.config(model_dir=cache))
    with pytest.raises(ModelUnavailableError, match=r"'tiny/opus-mt-en-fr'.*newsbot models download"):
        engine.translate(["Hello."], "en", "fr")
    no_fallback = make_engine(tiny_models.config(model_dir=cache, fallback_to_english_model="nobody/opus-mt-mul-en"))
    with pytest.raises(
        ModelUnavailableError, match=r"'tiny/opus-mt-pt-en' \(nor its fallback 'nobody/opus-mt-mul-en'\)"
    ):
        no_fallback.translate(["Olá."], "pt", "en")


def test_models_load_once_across_threads_and_pairs_stay_within_the_lru(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    import summarizer.transformers_backend as backend

    loads: list[str] = []

    def counting_load(name: str, config: EngineConfig) -> Seq2SeqModel:
        loads.append(name)
        return load_seq2seq(name, config)

    monkeypatch.setattr(backend, "load_seq2seq", counting_load)
    engine = TransformersEngine(tiny_models.config(max_loaded_pairs=1))
    with ThreadPoolExecutor(4) as pool:
        translations = list(pool.map(lambda text: engine.translate([text], "it", "en"), ["Ciao.", "Sì.", "No.", "Ok."]))
    assert loads == [str(tiny_models.it_en)]
    assert all(t.texts[0] and t.model == str(tiny_models.it_en) for t in translations)
    engine.translate(["Hello."], "en", "de")
    engine.translate(["Ciao."], "it", "en")
    assert loads == [str(tiny_models.it_en), str(tiny_models.en_de), str(tiny_models.it_en)]


def test_quantize_replaces_linear_layers_with_int8_ones(tiny_models: TinyModels) -> None:
    import torch

    quantized = load_seq2seq(str(tiny_models.it_en), tiny_models.config(quantize=True)).model
    plain = load_seq2seq(str(tiny_models.it_en), tiny_models.config(quantize=False)).model
    assert not any(type(m) is torch.nn.Linear for m in quantized.modules())
    assert any(type(m) is torch.nn.Linear for m in plain.modules())


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the process's memory mappings (Linux)")
def test_a_quantized_model_lets_go_of_its_memory_mapped_checkpoint(tiny_models: TinyModels, tmp_path: Path) -> None:
    """Otherwise the fp32 checkpoint (1.2 GB for DistilBART) stays resident beside the int8 model."""
    copy = Path(shutil.copytree(tiny_models.summarizer, tmp_path / "summarizer"))
    model = load_seq2seq(str(copy), tiny_models.config(quantize=True))
    assert model.generate(["A sentence."], beams=2, min_new_tokens=2, max_new_tokens=4)[0]
    assert str(copy) not in Path("/proc/self/maps").read_text()
