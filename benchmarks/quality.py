"""Translation and summary quality of whichever models are cached, on real parallel text; never a test.

Run from the repository root: `python benchmarks/quality.py [--lines 200]` scores the models `feeds.yaml` configures
that are in NEWSBOT_MODEL_DIR (with internet access, run `newsbot models download` first: this is the first thing to
run with real weights); `--tiny` builds the tests' tiny random models and scores those instead, which only shows the
script runs end to end (their numbers are noise). Needs `pip install -e '.[bench]'` (sacrebleu, rouge-score).

- Into English, per offered language: BLEU and chrF (sacrebleu) of the engine's translation of FLORES-200 devtest
  lines (../shared/corpora/mt_sum/flores200_devtest/, read by tests/corpora.py) against the English lines, through the model the engine picks
  (its pair model, else the multilingual fallback).
- Summaries: ROUGE-1/2/L F1 (rouge-score, Unicode-aware tokens) of the engine's summary of each article of
  ../shared/corpora/mt_sum/summarization/ (Italian, French, German, English), in the article's own language: the
  engine pivots it into English, summarizes, and translates the summary back, as a digest would.

The table says which model produced each row; a language whose model is not cached is listed as skipped.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.feedlist.engine import engine_config  # noqa: E402
from bot.feedlist.load import load_feed_list  # noqa: E402
from summarizer.download import cached_route, locate_model  # noqa: E402
from summarizer.engine import make_engine  # noqa: E402
from summarizer.models import summarizer  # noqa: E402
from summarizer.types import Article, Engine, EngineConfig  # noqa: E402
from tests.corpora import FLORES_FILES, flores_lines  # noqa: E402

CORPORA = ROOT.parent / "shared" / "corpora" / "mt_sum"
SUMMARIES = CORPORA / "summarization" / "euroeval_doc_examples.jsonl"
_WORD = re.compile(r"\w+", re.UNICODE)


class UnicodeTokenizer:
    """rouge-score's default tokenizer drops every non-ASCII letter ("città" -> "citt"): words of any script instead."""

    def tokenize(self, text: str) -> list[str]:
        return _WORD.findall(text.casefold())


def flores(lang: str, count: int) -> list[str]:
    return flores_lines(lang, count)


def translation_rows(engine: Engine, config: EngineConfig, lines: int) -> list[dict[str, Any]]:
    import sacrebleu

    references = flores("en", lines)
    rows: list[dict[str, Any]] = []
    for lang in config.languages:
        if lang == "en" or lang not in FLORES_FILES:
            continue
        if cached_route(config, lang, "en") is None:
            rows.append({"direction": f"{lang}→en", "model": None, "skipped": "no model cached"})
            continue
        started = time.perf_counter()
        done = engine.translate(flores(lang, lines), lang, "en")
        seconds = time.perf_counter() - started
        rows.append(
            {
                "direction": f"{lang}→en",
                "model": done.model,
                "lines": lines,
                "bleu": round(sacrebleu.corpus_bleu(done.texts, [references]).score, 1),
                "chrf": round(sacrebleu.corpus_chrf(done.texts, [references]).score, 1),
                "seconds": round(seconds, 1),
            }
        )
    return rows


def summary_rows(engine: Engine, config: EngineConfig) -> list[dict[str, Any]]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], tokenizer=UnicodeTokenizer())
    if locate_model(summarizer(config).name, config.model_dir) is None:
        return [{"direction": "summaries", "model": None, "skipped": "summarizer not cached"}]
    examples = [json.loads(line) for line in SUMMARIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_lang: dict[str, list[dict[str, float]]] = {}
    models: dict[str, str] = {}
    for example in examples:
        lang = example["lang"]
        if lang != "en" and (cached_route(config, lang, "en") is None or cached_route(config, "en", lang) is None):
            continue  # the summary goes into English and back: both models are needed
        title, _, body = example["text"].partition("\n")
        enriched = engine.process(Article(title=title if body else "", text=body or title, lang_hint=lang))
        summary = enriched.summary_en
        if lang != "en":
            summary = engine.translate([summary], "en", lang).texts[0]
        scores = scorer.score(example["reference_summary"], summary)
        by_lang.setdefault(lang, []).append({name: score.fmeasure for name, score in scores.items()})
        models[lang] = enriched.models.get("summarize", "?")
    rows = []
    for lang, scores in sorted(by_lang.items()):
        mean = {name: round(100 * sum(s[name] for s in scores) / len(scores), 1) for name in scores[0]}
        rows.append({"direction": f"summaries ({lang})", "model": models[lang], "articles": len(scores), **mean})
    return rows


def tiny_config(root: Path) -> EngineConfig:
    """The tests' tiny random models, saved under `root`, as an engine config (local paths)."""
    from tests.tinymodels import build_tiny_models

    tiny = build_tiny_models(root)
    return tiny.config(
        languages=("en", "it", "de", "fr"),
        translation_model_pattern=None,
        translation_overrides={"it-en": str(tiny.it_en), "en-it": str(tiny.en_it)},
        translate_min_ratio=0.0,
    )


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = ["direction", "model", "lines", "bleu", "chrf", "articles", "rouge1", "rouge2", "rougeL", "seconds"]
    shown = [c for c in columns if any(c in row for row in rows)]
    cells = [[str(row.get(c, "")) if row.get("model") else (row.get("skipped", "") if c == "model" else (row[c] if c == "direction" else "")) for c in shown] for row in rows]  # fmt: skip
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(shown)]
    print("  ".join(c.ljust(w) for c, w in zip(shown, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=200, help="FLORES lines per language (devtest has 1,012)")
    parser.add_argument("--tiny", action="store_true", help="score the tests' tiny random models (a smoke run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.tiny:
            config = tiny_config(Path(tmp))
        else:
            settings = load_settings()
            config = engine_config(load_feed_list(settings.feeds), settings)
        config = replace(config, backend="transformers")
        engine = make_engine(config)
        rows = translation_rows(engine, config, args.lines) + summary_rows(engine, config)
    print(
        f"models: {'the tests tiny random models (noise: this only shows the script runs)' if args.tiny else config.model_dir}"
    )
    print_table(rows)
    scored = sorted({row["model"] for row in rows if row.get("model")})
    print(f"scored {len(scored)} models: {', '.join(scored) if scored else 'none (download them first)'}")


if __name__ == "__main__":
    main()
