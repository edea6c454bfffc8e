"""Tiny random-weight Marian and BART models with a tokenizer trained here on FLORES lines, built once per test run
(the `tiny_models` fixture, registered for every test by tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from summarizer.types import EngineConfig
from tests.corpora import flores_lines

# Laid out as the real models are: BART's specials first (here ids 0..3); Marian's end of sentence and unknown
# first, the target-language tokens of a multi-target model inside the vocabulary, and padding (the decoder's start)
# last, which is where CTranslate2's converter expects it.
BART_SPECIALS = ["<pad>", "</s>", "<unk>", "<s>"]
TARGET_TOKENS = [">>por<<", ">>pob<<"]
MARIAN_SPECIALS = ["</s>", "<unk>", *TARGET_TOKENS]
MARIAN_POSITIONS = 256
# The short summarizer's 128 positions make a long article span many chunks, so map-reduce runs for real; the long
# one takes a whole translated article as one input, so a test can compare it with one direct generate call.
SHORT_BART_POSITIONS = 128
LONG_BART_POSITIONS = 4096


@dataclass(frozen=True)
class TinyModels:
    """Saved model directories; `config()` is an EngineConfig that loads them as model settings (local paths)."""

    root: Path
    it_en: Path
    en_de: Path
    en_it: Path
    mul_en: Path
    en_pt: Path  # multi-target, like opus-mt-tc-big-en-pt: its tokenizer knows the target tokens TARGET_TOKENS
    summarizer: Path  # 128 positions
    long_summarizer: Path  # 4096 positions
    flan_t5: Path  # T5 as flan-t5 is (relative positions, gated feed-forward, unscaled output): a QA model

    def config(self, **overrides: Any) -> EngineConfig:
        base = EngineConfig(
            model_dir=self.root / "cache",
            summarizer_model=str(self.long_summarizer),
            # Every other pair names a hub id that is not in the cache, so it falls back to mul-en.
            translation_model_pattern="tiny/opus-mt-{src}-{tgt}",
            translation_overrides={"it-en": str(self.it_en), "en-de": str(self.en_de), "en-it": str(self.en_it)},
            fallback_to_english_model=str(self.mul_en),
            # Random weights may emit end-of-sentence at once or never: bound outputs on both sides (short, as every
            # generated token costs a few milliseconds of Python however small the model).
            translate_beams=2,
            translate_min_ratio=0.25,
            translate_max_ratio=0.5,
            translate_extra_tokens=4,
            summary_beams=2,
            summary_min_tokens=8,
            summary_max_tokens=24,
            batch_size=4,
        )
        return replace(base, **overrides)


def _train_tokenizer(specials: list[str], *, pad_last: bool = False) -> Any:
    """A BPE tokenizer on FLORES lines whose every input ends with </s> (as both real tokenizers do)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    text = [line for lang in ("ita_Latn", "eng_Latn", "deu_Latn") for line in flores_lines(lang, 120)]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    tokenizer.train_from_iterator(text, trainers.BpeTrainer(vocab_size=600, special_tokens=specials))
    if pad_last:
        tokenizer.add_special_tokens(["<pad>"])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", tokenizer.token_to_id("</s>"))]
    )
    bos = {"bos_token": "<s>"} if "<s>" in specials else {}
    extra = [t for t in specials if t.startswith(">>")]
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        additional_special_tokens=extra,
        **bos,
    )


def _save(model: Any, tokenizer: Any, path: Path) -> Path:
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


# Both architectures at the smallest size that still runs every code path: speed, not quality, is what tests need.
# Weights drawn wide (init_std 0.8, not 0.02): at the usual scale a random model says the same thing whatever it is
# given ("which which whichs.s."), so a test could not see one article get another's output; at this scale 24 FLORES
# sentences give 24 different outputs (tests/summarizer/test_mixups.py checks it before trusting any equality).
INIT_STD = 0.8
_TINY_SHAPE: dict[str, Any] = {
    "init_std": INIT_STD,
    "d_model": 32,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 64,
    "decoder_ffn_dim": 64,
}


def _marian(tokenizer: Any, seed: int) -> Any:
    """As the opus-mt configs are: the decoder starts from padding, scaled embeddings, swish, padding never emitted."""
    import torch
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(seed)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    config = MarianConfig(
        vocab_size=len(tokenizer),
        **_TINY_SHAPE,
        max_position_embeddings=MARIAN_POSITIONS,
        pad_token_id=pad,
        eos_token_id=eos,
        decoder_start_token_id=pad,
        forced_eos_token_id=eos,
        scale_embedding=True,
        activation_function="swish",
    )
    model = MarianMTModel(config)
    model.generation_config.bad_words_ids = [[pad]]
    return model


def _bart(tokenizer: Any, seed: int, positions: int) -> Any:
    """As distilbart-cnn's config is: the decoder starts from </s> and is forced to say <s> first; no repeated
    trigrams; the layer-norm keys the converter reads."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(seed)
    config = BartConfig(
        vocab_size=len(tokenizer),
        **_TINY_SHAPE,
        max_position_embeddings=positions,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
        forced_bos_token_id=tokenizer.bos_token_id,
        forced_eos_token_id=tokenizer.eos_token_id,
        normalize_before=False,
        normalize_embedding=True,
    )
    model = BartForConditionalGeneration(config)
    model.generation_config.no_repeat_ngram_size = 3
    return model


# T5 draws its weights at initializer_factor × the usual scale: 1 gives one output for every input, as for the others.
T5_INIT_FACTOR = 40.0


def t5(tokenizer: Any, seed: int, *, scaled: bool = False) -> Any:
    """As flan-t5's config is (T5 1.1): gated-gelu, the decoder starts from padding, no position table, the output not
    scaled by d_model^-0.5 (`scaled`: as T5 1.0 does). Wide weights, as for the others."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(seed)
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=32,
        d_kv=8,  # the attention narrower than the model, as in flan-t5-large and up
        d_ff=64,
        num_layers=1,
        num_decoder_layers=1,
        num_heads=2,
        feed_forward_proj="gated-gelu",
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=scaled,  # transformers 5 reads it as "scale the output", and ties them anyway
        initializer_factor=T5_INIT_FACTOR,
    )
    return T5ForConditionalGeneration(config)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


def build_tiny_models(root: Path) -> TinyModels:
    """Every tiny model, saved under `root` (the benchmarks use them too)."""
    marian = _train_tokenizer(MARIAN_SPECIALS, pad_last=True)
    bart = _train_tokenizer(BART_SPECIALS)
    return TinyModels(
        root=root,
        it_en=_save(_marian(marian, seed=12), marian, root / "opus-mt-it-en"),
        en_de=_save(_marian(marian, seed=2), marian, root / "opus-mt-en-de"),
        en_it=_save(_marian(marian, seed=6), marian, root / "opus-mt-en-it"),
        mul_en=_save(_marian(marian, seed=3), marian, root / "opus-mt-mul-en"),
        en_pt=_save(_marian(marian, seed=7), marian, root / "opus-mt-tc-big-en-pt"),
        summarizer=_save(_bart(bart, seed=4, positions=SHORT_BART_POSITIONS), bart, root / "distilbart"),
        long_summarizer=_save(_bart(bart, seed=5, positions=LONG_BART_POSITIONS), bart, root / "long-bart"),
        flan_t5=_save(t5(bart, seed=10), bart, root / "flan-t5"),  # BART's specials are T5's: <pad> 0, </s> 1, <unk> 2
    )
