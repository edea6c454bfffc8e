"""Engine speed on CPU: the real engine on its transformers (int8 torch) and ctranslate2 (int8) backends, side by side
on 8 distinct articles, and optionally a naive fp32 sentence-at-a-time run; never a test."""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
Each model's tokenizer has exactly its model's vocabulary, laid out as the real one is (Marian: padding last), so
CTranslate2's own converter takes it; ids past what the tokenizer learned are ruled out by the output bias.
Output lengths are forced in every run (min_new_tokens = max_new_tokens): the English pivot gets as many tokens as
its source sentence, the summary 80, the translated summary 100 (1.25 x its 80 source tokens). Every run uses the same
beams (translation 2, summary 4, the engine defaults) and the same sentence splitting. The engine runs get one batch
of 8 distinct Italian articles of different lengths (the real one and 7 of newstest2009 sentences), so batches carry
padding as real ones do. Each side runs in its own process, so that its peak RSS is its own; the CTranslate2
conversion (what `newsbot models download` does) runs in a process of its own before.
"""

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
sys.path.insert(0, str(ROOT / "benchmarks"))

from process_memory import peak_rss_mb  # noqa: E402
from random_models import ARTICLE, CORPORA, SUMMARY_BEAMS, build_models  # noqa: E402

NEWSTEST_ITALIAN = CORPORA / "mt_sum" / "newstest2009" / "newstest2009.ita"
# Sentences in each of the 7 newstest articles beside the real one (about 620 words): 150 to 600 words.
ARTICLE_SENTENCES = (6, 9, 12, 15, 18, 21, 24)
TRANSLATE_BEAMS = 2
SUMMARY_TOKENS = 80
SUMMARY_TRANSLATION_RATIO = 1.25  # 80 summary tokens -> 100


def article() -> tuple[str, str]:
    lines = ARTICLE.read_text(encoding="utf-8").strip().splitlines()
    return lines[0], "\n".join(lines[1:])


def articles() -> list[tuple[str, str]]:
    """The real Italian article and 7 of newstest2009 sentences, each a title and paragraphs of 3 sentences."""
    sentences = NEWSTEST_ITALIAN.read_text(encoding="utf-8").splitlines()
    made, start = [article()], 0
    for count in ARTICLE_SENTENCES:
        body = sentences[start + 1 : start + 1 + count]
        made.append((sentences[start], "\n".join(" ".join(body[n : n + 3]) for n in range(0, count, 3))))
        start += count + 1
    return made


def token_counter(path: str) -> Any:
    """Counts tokens as the models see them (all three share one tokenizer), special tokens excluded."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def cpu_extensions() -> str:
    """The CPU and the vector extensions int8 kernels use: the backends' ratio differed between an AVX2-only CPU and
    one with AVX-512, so a result means little without them."""
    name, flags = "unknown CPU", set()
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            name = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            break
    known = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_vnni": "AVX-512 VNNI", "avx_vnni": "AVX-VNNI"}
    return f"{name}, {', '.join(label for flag, label in known.items() if flag in flags) or 'no AVX2'}"


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


def engine_config(paths: dict[str, str], backend: str, threads: int | None = None) -> Any:
    """Default settings (int8, batch 8, the engine's beams) except the forced lengths (and threads, when given)."""
    from summarizer.types import EngineConfig

    return EngineConfig(
        backend=backend,
        torch_threads=threads,
        summarizer_model=paths["summarize"],
        translation_overrides={"it-en": paths["it-en"], "en-de": paths["en-de"]},
        model_dir=Path(paths["summarize"]).parent,
        translate_max_ratio=1.0,
        translate_extra_tokens=0,
        translate_min_ratio=1.0,
        summary_min_tokens=SUMMARY_TOKENS,
        summary_max_tokens=SUMMARY_TOKENS,
    )


def run_convert(paths: dict[str, str]) -> dict[str, Any]:
    """What `newsbot models download` does for the ctranslate2 backend: convert each model (int8)."""
    from summarizer.convert import convert_models

    config = engine_config(paths, "ctranslate2")
    started = time.perf_counter()
    converted = convert_models(config)
    return {"converted": len(converted), "seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


def run_engine(paths: dict[str, str], backend: str, batch: int, threads: int | None) -> dict[str, Any]:
    """The real engine: process_many on `batch` distinct articles, then their summaries to de."""
    import torch

    from summarizer.engine import make_engine
    from summarizer.types import Article, Enriched

    config = engine_config(paths, backend, threads)
    to_german = replace(
        config, translate_max_ratio=SUMMARY_TRANSLATION_RATIO, translate_min_ratio=SUMMARY_TRANSLATION_RATIO
    )
    engine: Any = make_engine(config)
    title, text = article()
    given = [Article(t, x) for t, x in articles()[:batch]]

    def enrich(batch: list[Article]) -> tuple[list[str], list[Enriched]]:
        engine.config = config
        enriched = engine.process_many(batch)
        engine.config = to_german  # the engine reads its config per call: lengths for this step only
        return list(engine.translate([e.summary_en for e in enriched], "en", "de").texts), enriched

    started = time.perf_counter()
    enrich([Article(title, text)])  # loads all three models and the language detector
    load_seconds = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    german, enriched = enrich(given)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    count = token_counter(paths["summarize"])
    return {
        "seconds_per_article": seconds / len(given),
        # every thread of the process (ctranslate2's workers, torch's and lingua's pools): the work, whatever the wait
        "cpu_seconds_per_article": cpu_seconds / len(given),
        "first_article_with_loading_seconds": load_seconds,
        "source_tokens": [count(a.text) for a in given],
        "pivot_tokens": [count(e.text_en) for e in enriched],
        "summary_tokens": [count(e.summary_en) for e in enriched],
        "summary_de_tokens": [count(g) for g in german],
        "langs": sorted({e.lang for e in enriched}),
        "distinct_summaries": len({e.summary_en for e in enriched}),
        # ctranslate2: batches side by side, one worker per thread
        "threads": torch.get_num_threads() if backend == "transformers" else (threads or os.cpu_count()),
        "peak_rss_mb": peak_rss_mb(),
    }


SIDES = ("naive", "transformers", "ctranslate2")
NAMES = {"naive": "naive fp32", "transformers": "torch int8", "ctranslate2": "ctranslate2"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=METHOD, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 naive article and a batch of 4 (default 2 and 8)")
    parser.add_argument("--articles", type=int, help="engine batch size to time, up to 8 (overrides --quick)")
    parser.add_argument(
        "--sides", default="transformers,ctranslate2", help="comma-separated, of: naive (takes minutes), transformers, "
        "ctranslate2 (default: the two engine backends)",
    )  # fmt: skip
    parser.add_argument(
        "--rounds", type=int, default=2, help="runs of each side, taken in turn; the fastest counts (default 2)"
    )
    parser.add_argument("--threads", type=int, help="NEWSBOT_TORCH_THREADS for both engines (default: each one's)")
    parser.add_argument("--side", choices=[*SIDES, "convert"], help=argparse.SUPPRESS)
    parser.add_argument("--models", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    batch = min(8, args.articles or (4 if args.quick else 8))
    naive_articles = 1 if args.quick else 2
    sides = [side.strip() for side in args.sides.split(",") if side.strip()]
    if unknown := set(sides) - set(SIDES):
        parser.error(f"unknown side(s) {sorted(unknown)}: choose from {', '.join(SIDES)}")

    if args.side:  # a child process: one side, JSON on the last line
        paths = json.loads((args.models / "paths.json").read_text())
        if args.side == "naive":
            result = run_naive(paths, naive_articles)
        elif args.side == "convert":
            result = run_convert(paths)
        else:
            result = run_engine(paths, args.side, batch, args.threads)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        paths = build_models(directory)
        (directory / "paths.json").write_text(json.dumps(paths))
        print(f"built and saved random-weight models in {time.perf_counter() - started:.0f} s", flush=True)
        load_before = os.getloadavg()[0]
        runs: dict[str, list[dict[str, Any]]] = {}
        # Sides in turn, round after round: a slow spell of the machine (other work, a noisy neighbour) then costs
        # each side alike, and noise only ever adds time, so each side's fastest round is its measure.
        for side in (["convert"] if "ctranslate2" in sides else []) + sides * max(1, args.rounds):
            command = [sys.executable, __file__, "--side", side, "--models", tmp, "--articles", str(batch)]
            if args.quick:
                command.append("--quick")
            if args.threads:
                command += ["--threads", str(args.threads)]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{side} failed:\n{done.stderr[-3000:]}")
            runs.setdefault(side, []).append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(side, runs[side][-1], flush=True)
        results = {side: fastest(found) for side, found in runs.items()}
        load_after = os.getloadavg()[0]

    report(results, naive_articles, batch, load_before, load_after)
    if "transformers" in runs and "ctranslate2" in runs:
        report_pairs(runs["transformers"], runs["ctranslate2"])


def fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """A side's fastest round, with every round's time and the highest peak RSS of all."""
    best = dict(min(runs, key=lambda run: run.get("seconds_per_article", 0.0)))
    best["rounds"] = [run["seconds_per_article"] for run in runs if "seconds_per_article" in run]
    best["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return best


def report(
    results: dict[str, dict[str, Any]], naive_articles: int, batch: int, load_before: float, load_after: float
) -> None:
    converted = results.pop("convert", None)
    print()
    rows = [
        ("seconds per article", lambda r: f"{r['seconds_per_article']:.1f}"),
        ("articles per minute", lambda r: f"{60 / r['seconds_per_article']:.1f}"),
        ("peak RSS, all three models loaded (MB)", lambda r: f"{r['peak_rss_mb']:.0f}"),
        ("every round, seconds per article", lambda r: " ".join(f"{x:.1f}" for x in r.get("rounds") or [])),
        ("CPU-seconds per article, that round", lambda r: f"{r.get('cpu_seconds_per_article', float('nan')):.1f}"),
    ]
    # as wide as the widest cell (every round's time grows with --rounds), so that columns never run together
    width = 2 + max(
        len(text) for text in [*(NAMES[side] for side in results), *(c(r) for _, c in rows for r in results.values())]
    )
    print(f"{'':40}" + "".join(f"{NAMES[side]:>{width}}" for side in results))
    for label, cell in rows:
        print(f"{label:40}" + "".join(f"{cell(result):>{width}}" for result in results.values()))
    if "transformers" in results and "ctranslate2" in results:
        torch, ct2 = results["transformers"], results["ctranslate2"]
        ratio = torch["seconds_per_article"] / ct2["seconds_per_article"]
        print(
            f"ctranslate2 / torch int8: {ratio:.2f}x articles per minute, peak RSS {ct2['peak_rss_mb']:.0f} vs "
            f"{torch['peak_rss_mb']:.0f} MB  (goal >= 2x, >= 25 articles/min, RSS no higher)"
        )
    if "naive" in results and "transformers" in results:
        speedup = results["naive"]["seconds_per_article"] / results["transformers"]["seconds_per_article"]
        print(f"torch int8 engine / naive fp32: {speedup:.1f}x")
    if converted is not None:
        print(f"conversion (models download): {converted['seconds']:.0f} s, peak RSS {converted['peak_rss_mb']:.0f} MB")
    threads = ", ".join(f"{NAMES[side]} {result['threads']}" for side, result in results.items())
    print(
        f"naive: {naive_articles} article(s), one sentence per call; engines: one batch of {batch} distinct articles; "
        f"threads: {threads}, on {os.cpu_count()} cores"
    )
    print(f"CPU: {cpu_extensions()}")
    print(
        f"1-minute load average before / after: {load_before:.1f} / {load_after:.1f} "
        "(a run itself keeps about 2 threads busy; more means other work shared the CPU: the numbers are pessimistic)"
    )


def report_pairs(torch: list[dict[str, Any]], ct2: list[dict[str, Any]]) -> None:
    """The ratio within each round, whose two runs came one right after the other: on a machine whose speed drifts
    (a shared host), the fastest rounds of each side may come from different spells, and the median of these ratios
    is the steadier figure."""
    pairs = [t["seconds_per_article"] / c["seconds_per_article"] for t, c in zip(torch, ct2, strict=False)]
    work = [t["cpu_seconds_per_article"] / c["cpu_seconds_per_article"] for t, c in zip(torch, ct2, strict=False)]
    print(
        f"ctranslate2 / torch int8 round by round: {' '.join(f'{r:.2f}x' for r in pairs)}, "
        f"median {statistics.median(pairs):.2f}x; in CPU-seconds: {' '.join(f'{r:.2f}x' for r in work)}, "
        f"median {statistics.median(work):.2f}x"
    )


if __name__ == "__main__":
    main()
