"""Engine speed on CPU: a naive fp32 sentence-at-a-time run against the real TransformersEngine path; never a test."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

METHOD = """
Models are architecture-identical to the shipped ones (OPUS-MT Marian it-en and en-de, distilbart-cnn-12-6) with random
weights built from their configs, so nothing is downloaded; speed depends on shapes and lengths, not on weight values.
Output lengths are forced in both runs (min_new_tokens = max_new_tokens): the English pivot gets as many tokens as
its source sentence, the summary 80, the translated summary 100 (1.25 x its 80 source tokens). Both runs use the same
beams (translation 2, summary 4, the engine defaults) and the same sentence splitting. Each side runs in its own
process, so that its peak RSS is its own.
"""

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

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
SPECIALS: dict[str, Any] = {"pad_token_id": 0, "eos_token_id": 1, "forced_eos_token_id": 1}

TRANSLATE_BEAMS, SUMMARY_BEAMS = 2, 4
SUMMARY_TOKENS = 80
SUMMARY_TRANSLATION_RATIO = 1.25  # 80 summary tokens -> 100


def build_models(directory: Path) -> dict[str, str]:
    """Save a trained tokenizer and the three random-weight models under `directory`; returns role -> path."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import (
        BartConfig,
        BartForConditionalGeneration,
        MarianConfig,
        MarianMTModel,
        PreTrainedTokenizerFast,
    )

    raw = Tokenizer(models.BPE(unk_token="<unk>"))
    raw.normalizer = normalizers.NFC()
    raw.pre_tokenizer = pre_tokenizers.Metaspace()
    raw.decoder = decoders.Metaspace()
    lines = [line for path in TOKENIZER_TEXTS for line in path.read_text(encoding="utf-8").splitlines()]
    special = ["<pad>", "</s>", "<unk>", "<s>"]
    raw.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=TOKENIZER_VOCAB, special_tokens=special))
    raw.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A $B </s>", special_tokens=[("</s>", 1)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", bos_token="<s>"
    )

    def save(model: Any, name: str, **generation: Any) -> str:
        # Ids past the tokenizer's vocabulary would decode to nothing and shrink the next step's input: the output
        # bias (present, and added at every step, in both architectures) rules them out at no cost.
        with torch.no_grad():
            model.final_logits_bias[:, len(tokenizer) :] = -1e4
        for key, value in generation.items():
            setattr(model.generation_config, key, value)
        path = directory / name
        model.save_pretrained(path)
        tokenizer.save_pretrained(path)
        return str(path)

    torch.manual_seed(0)
    paths = {}
    for pair, vocab in VOCAB.items():
        config = MarianConfig(vocab_size=vocab, decoder_start_token_id=0, **MARIAN, **SPECIALS)
        # As OPUS-MT's generation config: the pad token is forbidden and log-probabilities renormalized after it.
        paths[pair] = save(MarianMTModel(config), f"opus-mt-{pair}", bad_words_ids=[[0]], renormalize_logits=True)
    bart = BartConfig(bos_token_id=3, decoder_start_token_id=1, **DISTILBART, **SPECIALS)
    paths["summarize"] = save(
        BartForConditionalGeneration(bart),
        "distilbart-cnn-12-6",
        num_beams=SUMMARY_BEAMS,
        no_repeat_ngram_size=3,
        length_penalty=2.0,
    )
    return paths


def article() -> tuple[str, str]:
    lines = ARTICLE.read_text(encoding="utf-8").strip().splitlines()
    return lines[0], "\n".join(lines[1:])


def token_counter(path: str) -> Any:
    """Counts tokens as the models see them (all three share one tokenizer), special tokens excluded."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_naive(paths: dict[str, str], articles: int) -> dict[str, Any]:
    """fp32, no quantization, stock generate, one sentence per call, default threads, same beams and lengths."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from summarizer.chunking import split_sentences

    loaded = {
        role: (AutoTokenizer.from_pretrained(p), AutoModelForSeq2SeqLM.from_pretrained(p).eval())
        for role, p in paths.items()
    }

    def generate(role: str, text: str, beams: int, tokens: int | None = None, ratio: float = 1.0) -> str:
        tokenizer, model = loaded[role]
        inputs = tokenizer([text], return_tensors="pt", truncation=True)
        length = tokens or max(1, round((inputs["input_ids"].shape[1] - 1) * ratio))
        with torch.no_grad():
            output = model.generate(**inputs, num_beams=beams, min_new_tokens=length, max_new_tokens=length)
        return str(tokenizer.decode(output[0], skip_special_tokens=True))

    def translate(role: str, text: str, lang: str, ratio: float = 1.0) -> str:
        return "\n".join(
            " ".join(generate(role, s, TRANSLATE_BEAMS, ratio=ratio) for s in split_sentences(line, lang))
            for line in text.splitlines()
        )

    title, text = article()
    started = time.perf_counter()
    for _ in range(articles):
        translate("it-en", title, "it")
        pivot = translate("it-en", text, "it")
        summary = generate("summarize", pivot, SUMMARY_BEAMS, tokens=SUMMARY_TOKENS)
        translate("en-de", summary, "en", ratio=SUMMARY_TRANSLATION_RATIO)
    seconds = time.perf_counter() - started
    count = token_counter(paths["it-en"])
    return {
        "seconds_per_article": seconds / articles,
        "source_tokens": count(text),
        "pivot_tokens": count(pivot),
        "summary_tokens": count(summary),
        "threads": torch.get_num_threads(),
        "peak_rss_mb": peak_rss_mb(),
    }


def run_engine(paths: dict[str, str], articles: int) -> dict[str, Any]:
    """The real TransformersEngine with default settings except forced lengths: process_many, then summaries to de."""
    import torch

    from summarizer.engine import make_engine
    from summarizer.types import Article, EngineConfig, Enriched

    config = EngineConfig(
        summarizer_model=paths["summarize"],
        translation_overrides={"it-en": paths["it-en"], "en-de": paths["en-de"]},
        model_dir=Path(paths["summarize"]).parent,
        translate_max_ratio=1.0,
        translate_extra_tokens=0,
        translate_min_ratio=1.0,
        summary_min_tokens=SUMMARY_TOKENS,
        summary_max_tokens=SUMMARY_TOKENS,
    )
    to_german = replace(
        config, translate_max_ratio=SUMMARY_TRANSLATION_RATIO, translate_min_ratio=SUMMARY_TRANSLATION_RATIO
    )
    engine: Any = make_engine(config)
    title, text = article()

    def enrich(batch: list[Article]) -> tuple[list[str], list[Enriched]]:
        engine.config = config
        enriched = engine.process_many(batch)
        engine.config = to_german  # the engine reads its config per call: lengths for this step only
        return list(engine.translate([e.summary_en for e in enriched], "en", "de").texts), enriched

    started = time.perf_counter()
    enrich([Article(title, text)])  # loads all three models and the language detector
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    german, enriched = enrich([Article(title, text) for _ in range(articles)])
    seconds = time.perf_counter() - started
    count = token_counter(paths["summarize"])
    return {
        "seconds_per_article": seconds / articles,
        "first_article_with_loading_seconds": load_seconds,
        "source_tokens": count(text),
        "pivot_tokens": count(enriched[0].text_en),
        "summary_tokens": count(enriched[0].summary_en),
        "summary_de_tokens": count(german[0]),
        "lang": enriched[0].lang,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=METHOD, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 naive article and a batch of 4 (default 2 and 8)")
    parser.add_argument("--articles", type=int, help="engine batch size to time (overrides --quick)")
    parser.add_argument("--only", choices=["engine", "naive"], help="time one side (the naive one takes minutes)")
    parser.add_argument("--side", choices=["naive", "engine"], help=argparse.SUPPRESS)
    parser.add_argument("--models", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    batch = args.articles or (4 if args.quick else 8)
    naive_articles = 1 if args.quick else 2

    if args.side:  # a child process: one side, JSON on the last line
        paths = json.loads((args.models / "paths.json").read_text())
        result = run_naive(paths, naive_articles) if args.side == "naive" else run_engine(paths, batch)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        paths = build_models(directory)
        (directory / "paths.json").write_text(json.dumps(paths))
        print(f"built and saved random-weight models in {time.perf_counter() - started:.0f} s", flush=True)
        load_before = os.getloadavg()[0]
        results = {}
        for side in [args.only] if args.only else ["naive", "engine"]:
            command = [sys.executable, __file__, "--side", side, "--models", tmp, "--articles", str(batch)]
            if args.quick:
                command.append("--quick")
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[side] = json.loads(done.stdout.strip().splitlines()[-1])
            print(side, results[side], flush=True)
        load_after = os.getloadavg()[0]

    report(results, naive_articles, batch, load_before, load_after)


def report(
    results: dict[str, dict[str, Any]], naive_articles: int, batch: int, load_before: float, load_after: float
) -> None:
    names = {"naive": "naive fp32", "engine": "engine"}
    print()
    print(f"{'':40}" + "".join(f"{names[side]:>14}" for side in results))
    rows = [
        ("seconds per article", lambda r: f"{r['seconds_per_article']:.1f}"),
        ("articles per minute", lambda r: f"{60 / r['seconds_per_article']:.1f}"),
        ("peak RSS, all three models loaded (MB)", lambda r: f"{r['peak_rss_mb']:.0f}"),
    ]
    for label, cell in rows:
        print(f"{label:40}" + "".join(f"{cell(result):>14}" for result in results.values()))
    if len(results) == 2:
        speedup = results["naive"]["seconds_per_article"] / results["engine"]["seconds_per_article"]
        print(f"speed-up: {speedup:.1f}x  (goal >= 8x; >= 12 articles/min; RSS <= 2,500 MB)")
    threads = next(iter(results.values()))["threads"]
    print(
        f"naive: {naive_articles} article(s), one sentence per call; engine: a batch of {batch}; "
        f"torch threads {threads} on {os.cpu_count()} cores"
    )
    print(
        f"1-minute load average before / after: {load_before:.1f} / {load_after:.1f} "
        "(a run itself keeps about 2 threads busy; more means other work shared the CPU: the numbers are pessimistic)"
    )


if __name__ == "__main__":
    main()
