"""T5 models (flan-t5, the natural NEWSBOT_QA_MODEL) on both backends: no position table, so their lengths come from
what they were trained on; converted with CTranslate2's converter they score and generate as transformers does,
whether or not the checkpoint scales its output (T5 1.0 does, T5 1.1 and flan-t5 do not)."""

from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.convert import convert_model
from summarizer.ctranslate2_backend import Ct2Seq2SeqModel, load_ct2
from summarizer.seq2seq import Seq2SeqModel
from summarizer.transformers_backend import TorchSeq2SeqModel, load_seq2seq
from summarizer.types import EngineConfig
from tests.corpora import flores_lines
from tests.tinymodels import TinyModels, t5


@pytest.fixture(scope="module", params=["flan-t5 (unscaled output)", "t5 1.0 (scaled output)"])
def t5_model(request: pytest.FixtureRequest, tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param.startswith("flan"):
        return tiny_models.flan_t5
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.flan_t5)
    path = tmp_path_factory.mktemp("t5-scaled")
    t5(tokenizer, seed=11, scaled=True).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def both(t5_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Ct2Seq2SeqModel, TorchSeq2SeqModel]:
    config = EngineConfig(backend="ctranslate2", model_dir=tmp_path_factory.mktemp("cache"), quantize=False)
    assert convert_model(str(t5_model), config) is not None
    return load_ct2(str(t5_model), config), load_seq2seq(str(t5_model), config)


def test_a_model_without_a_position_table_is_bounded_by_what_t5_is_trained_on(
    both: tuple[Seq2SeqModel, Seq2SeqModel],
) -> None:
    for model in both:
        assert (model.max_input_tokens, model.max_new_tokens) == (511, 511)  # 512, less </s> and the start token
    ct2, torch = both
    long = " ".join(flores_lines("eng_Latn", 60))
    assert ct2.count_one(long) > 600  # cut to fit, not refused
    options = {"beams": 1, "min_new_tokens": 2, "max_new_tokens": 6}
    assert ct2.generate([long], **options) == torch.generate([long], **options)


def test_greedy_generation_is_token_for_token_and_depends_on_the_input(
    both: tuple[Seq2SeqModel, Seq2SeqModel],
) -> None:
    ct2, torch = both
    prompts = [
        f"question: {q} context: [1] {c}"
        for q, c in zip(flores_lines("eng_Latn", 16)[:8], flores_lines("ita_Latn", 8), strict=True)
    ]
    for low, high in ((1, 12), (6, 6)):
        options = {"beams": 1, "min_new_tokens": low, "max_new_tokens": high}
        written = ct2.generate(prompts, **options)
        assert len(set(written)) == len(prompts)  # first: distinct inputs give distinct outputs
        assert written == torch.generate(prompts, **options)


def test_the_converted_model_scores_as_transformers_does(both: tuple[Ct2Seq2SeqModel, TorchSeq2SeqModel]) -> None:
    """Greedy choices survive a wrongly scaled output (the argmax of c·x is that of x); log-probabilities, and with
    them beam search, do not: CTranslate2 4.8's converter read the scale from a setting transformers 5 no longer
    uses for it."""
    import torch as pytorch

    ct2, torch = both
    source, target = flores_lines("eng_Latn", 2)
    encoded = torch.tokenizer([source], return_tensors="pt")
    labels = torch.tokenizer([target], return_tensors="pt")["input_ids"]
    with pytorch.inference_mode():
        logits = torch.model(**encoded, labels=labels).logits[0]
    expected = pytorch.log_softmax(logits, -1).gather(1, labels[0][:, None])[:, 0].tolist()
    scored = ct2.translator.score_batch(
        [torch.tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])],
        [torch.tokenizer.convert_ids_to_tokens(labels[0])[:-1]],  # CTranslate2 adds the end itself
    )[0].log_probs
    assert scored == pytest.approx(expected, rel=1e-3, abs=1e-3)
