"""The /ask answer model (NEWSBOT_QA_MODEL) on both backends: a random-weight model in flan-t5-base's shape, int8,
writing one answer as the app does (one prompt of QA_CONTEXT_TOKENS passage tokens, QA_BEAMS beams), its length
forced to QA_ANSWER_TOKENS so that both write as much. Rounds alternate the backends, side by side in one process.

Run from the repository root: `python benchmarks/answer.py [--rounds 3] [--threads N]`. Prints seconds per answer
for each backend, the ratio, and how long conversion took. Never a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.random_models import model_tokenizer, train_bpe
from bot.service.ask import QA_ANSWER_TOKENS, QA_BEAMS, QA_CONTEXT_TOKENS
from summarizer.convert import convert_model
from summarizer.engine import load_model
from summarizer.types import EngineConfig

# google/flan-t5-base's config.json (the hub page docs/configuration.md lists).
FLAN_T5_BASE: dict[str, Any] = {
    "vocab_size": 32_128,
    "d_model": 768,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 12,
    "num_decoder_layers": 12,
    "num_heads": 12,
    "feed_forward_proj": "gated-gelu",
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "tie_word_embeddings": False,
}
QUESTION = "How much money did Helios Labs raise, and who led the round?"
PASSAGES = Path(__file__).resolve().parent.parent.parent / "shared/corpora/mt_sum/flores200_devtest/eng_Latn.devtest"


def build(directory: Path) -> Path:
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    # BART's layout (<s> 0, <pad> 1, </s> 2): the ids differ from T5's, the shapes and the work do not.
    tokenizer, _ = model_tokenizer(train_bpe(), FLAN_T5_BASE["vocab_size"], marian=False)
    torch.manual_seed(0)
    config = T5Config(
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        **FLAN_T5_BASE,
    )
    path = directory / "flan-t5-base"
    T5ForConditionalGeneration(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def prompt(model: Any) -> str:
    """The prompt the app builds: the question, then numbered passages up to QA_CONTEXT_TOKENS tokens."""
    context, budget = [], QA_CONTEXT_TOKENS
    for number, line in enumerate(PASSAGES.read_text(encoding="utf-8").splitlines(), 1):
        cost = model.count_one(line)
        if cost > budget:
            break
        context.append(f"[{number}] {line}")
        budget -= cost
    return f"question: {QUESTION} context: {' '.join(context)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="NEWSBOT_TORCH_THREADS for both (default: each one's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = build(Path(tmp))
        config = EngineConfig(backend="ctranslate2", model_dir=Path(tmp) / "cache", torch_threads=args.threads)
        started = time.perf_counter()
        convert_model(str(path), config)
        converted_s = time.perf_counter() - started
        models = {
            "ctranslate2": load_model(str(path), config),
            "transformers": load_model(str(path), replace(config, backend="transformers")),
        }
        text = prompt(models["ctranslate2"])
        options = {"beams": QA_BEAMS, "min_new_tokens": QA_ANSWER_TOKENS, "max_new_tokens": QA_ANSWER_TOKENS}
        for model in models.values():  # warm-up: first-call allocations and thread pools
            model.generate([text], beams=QA_BEAMS, min_new_tokens=4, max_new_tokens=4)
        times: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(args.rounds):
            for name, model in models.items():
                started = time.perf_counter()
                model.generate([text], **options)
                times[name].append(time.perf_counter() - started)
    tokens = models["ctranslate2"].count_one(text)
    print(
        f"flan-t5-base shape, random int8 weights; prompt {tokens} tokens, {QA_BEAMS} beams, {QA_ANSWER_TOKENS} tokens"
    )
    print(f"conversion: {converted_s:.1f} s")
    for name, seconds in times.items():
        print(
            f"{name:13} {statistics.median(seconds):6.2f} s per answer  (rounds: {', '.join(f'{s:.2f}' for s in seconds)})"
        )
    ratio = statistics.median(times["transformers"]) / statistics.median(times["ctranslate2"])
    print(f"ctranslate2 / transformers speed: {ratio:.2f}x")


if __name__ == "__main__":
    main()
