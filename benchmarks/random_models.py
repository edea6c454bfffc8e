"""Random-weight models in the shapes of the shipped ones (OPUS-MT Marian it-en and en-de, distilbart-cnn-12-6), each
with a tokenizer trained on the corpora in its real layout: what the engine benchmarks time, nothing downloaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
ARTICLE = CORPORA / "articles" / "it-anthropic-openai-api.txt"
TOKENIZER_TEXTS = [
    ARTICLE,
    *(CORPORA / "mt_sum" / "flores200_devtest" / f"{lang}.devtest" for lang in ("ita_Latn", "eng_Latn", "deu_Latn")),
    *(CORPORA / "mt_sum" / "newstest2009" / f"newstest2009.{lang}" for lang in ("ita", "eng", "deu")),
]
TOKENIZER_VOCAB = 16_000  # about what an OPUS-MT SentencePiece model spends on one language: realistic token counts

# Shapes of the shipped models' config.json. The OPUS-MT vocabulary sizes are the published ones as recalled
# (it-en 80,035; en-de 58,101), not read from the hub: a larger vocabulary only makes the output layer slower.
MARIAN: dict[str, Any] = {
    "d_model": 512,
    "encoder_layers": 6,
    "decoder_layers": 6,
    "encoder_attention_heads": 8,
    "decoder_attention_heads": 8,
    "encoder_ffn_dim": 2048,
    "decoder_ffn_dim": 2048,
    "max_position_embeddings": 512,
}
VOCAB: dict[str, int] = {"it-en": 80_035, "en-de": 58_101}
DISTILBART: dict[str, Any] = {
    "vocab_size": 50_264,
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 6,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
}
SUMMARY_BEAMS = 4  # the engine's default, in the summarizer's generation config


def train_bpe() -> tuple[list[str], list[tuple[str, str]]]:
    """A BPE vocabulary (tokens by id, no specials) and its merges, trained on the corpora."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.normalizer = normalizers.NFC()
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    lines = [line for path in TOKENIZER_TEXTS for line in path.read_text(encoding="utf-8").splitlines()]
    raw.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=TOKENIZER_VOCAB, special_tokens=["<unk>"]))
    learned = json.loads(raw.to_str())["model"]
    tokens = [t for t, _ in sorted(learned["vocab"].items(), key=lambda item: item[1]) if t != "<unk>"]
    return tokens, [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in learned["merges"]]


def model_tokenizer(learned: tuple[list[str], list[tuple[str, str]]], size: int, *, marian: bool) -> tuple[Any, int]:
    """A tokenizer of exactly `size` tokens in the real model's layout (Marian: </s> 0, <unk> 1, <pad> last; BART:
    <s> 0, <pad> 1, </s> 2, <unk> 3), filled past the learned tokens; returns it and how many ids it can produce."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    tokens, merges = learned
    front = ["</s>", "<unk>"] if marian else ["<s>", "<pad>", "</s>", "<unk>"]
    back = ["<pad>"] if marian else []
    filler = [f"<unused{n}>" for n in range(size - len(front) - len(tokens) - len(back))]
    vocab = {token: index for index, token in enumerate([*front, *tokens, *filler, *back])}
    raw = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>"))
    raw.normalizer = normalizers.NFC()
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    raw.decoder = decoders.Metaspace()
    raw.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    bos = {} if marian else {"bos_token": "<s>"}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", **bos
    )
    return tokenizer, len(front) + len(tokens)


def build_models(directory: Path) -> dict[str, str]:
    """Save the three random-weight models, each with its tokenizer, under `directory`; returns role -> path."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration, MarianConfig, MarianMTModel

    learned = train_bpe()

    def save(model: Any, tokenizer: Any, produced: int, name: str, **generation: Any) -> str:
        # Ids past the learned tokens would decode to fillers and change the next step's input: the output bias
        # (present, and added at every step, in both architectures) rules them out at no cost.
        with torch.no_grad():
            model.final_logits_bias[:, produced:] = -1e4
        for key, value in generation.items():
            setattr(model.generation_config, key, value)
        path = directory / name
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
        return str(path)

    torch.manual_seed(0)
    paths = {}
    for pair, vocab in VOCAB.items():
        tokenizer, produced = model_tokenizer(learned, vocab, marian=True)
        pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
        config = MarianConfig(
            vocab_size=vocab, pad_token_id=pad, eos_token_id=eos, decoder_start_token_id=pad,
            forced_eos_token_id=eos, scale_embedding=True, activation_function="swish", **MARIAN,
        )  # fmt: skip
        # As OPUS-MT's generation config: the pad token is forbidden and log-probabilities renormalized after it.
        paths[pair] = save(
            MarianMTModel(config),
            tokenizer,
            produced,
            f"opus-mt-{pair}",
            bad_words_ids=[[pad]],
            renormalize_logits=True,
        )
    tokenizer, produced = model_tokenizer(learned, DISTILBART["vocab_size"], marian=False)
    bart = BartConfig(
        bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2, forced_bos_token_id=0,
        forced_eos_token_id=2, normalize_before=False, normalize_embedding=True, **DISTILBART,
    )  # fmt: skip
    paths["summarize"] = save(
        BartForConditionalGeneration(bart),
        tokenizer,
        produced,
        "distilbart-cnn-12-6",
        num_beams=SUMMARY_BEAMS,
        no_repeat_ngram_size=3,
        length_penalty=2.0,
    )
    return paths
