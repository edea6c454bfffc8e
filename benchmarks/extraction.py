"""Score extract_article on the article-extraction benchmark beside the published outputs; prints, never asserts.

The metric is upstream's (scrapinghub/article-extraction-benchmark, evaluate.py): `\\w+` tokens, case kept, into
4-token shingles with counts; per page TP = overlap, FP/FN = surplus, the three normalised to sum 1 so long pages
weigh no more than short ones; precision and recall averaged over pages, F1 from those averages.

Run from the repository root: `python benchmarks/extraction.py`.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from bot.errors import FeedError
from bot.feeds.extract import extract_article

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = ROOT.parent / "shared" / "corpora" / "extraction-benchmark"
_TOKEN = re.compile(r"\w+")

Shingles = Counter[tuple[str, ...]]


def shingles(text: str, n: int = 4) -> Shingles:
    tokens = _TOKEN.findall(text)
    # Upstream keeps one short shingle for texts under n tokens, and none for an empty text.
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n])


def tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    expected, got = shingles(true), shingles(pred)
    tp = sum((expected & got).values())
    fp = sum((got - expected).values())
    fn = sum((expected - got).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score(truth: dict[str, str], predicted: dict[str, str]) -> tuple[float, float, float]:
    """(precision, recall, F1) as upstream computes them; a page with no prediction counts in recall only."""
    counts = [tp_fp_fn(truth[key], predicted.get(key) or "") for key in truth]
    precision = statistics.mean(1.0 if fp == fn == 0 else tp / (tp + fp) for tp, fp, fn in counts if tp + fp > 0)
    recall = statistics.mean(1.0 if fp == fn == 0 else tp / (tp + fn) for tp, fp, fn in counts if tp + fn > 0)
    return precision, recall, 2 * precision * recall / (precision + recall)


def published_outputs(folder: Path) -> dict[str, dict[str, str]]:
    """The outputs shipped with the corpus: {name: {page id: text}}; some files wrap them in {"output": ...}."""
    outputs = {}
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        pages = data.get("output", data)
        outputs[f"{path.stem} (published)"] = {key: value.get("articleBody") or "" for key, value in pages.items()}
    return outputs


def run_ours(benchmark: Path, truth: dict[str, dict[str, str]]) -> tuple[dict[str, str], float, int]:
    predicted: dict[str, str] = {}
    failures = 0
    started = time.perf_counter()
    for path in sorted((benchmark / "html").glob("*.html.gz")):
        key = path.name.split(".", 1)[0]
        try:
            text = extract_article(gzip.decompress(path.read_bytes()), url=truth[key].get("url") or "")
        except FeedError:
            text = None
        failures += text is None
        predicted[key] = text or ""
    return predicted, time.perf_counter() - started, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--benchmark", type=Path, default=BENCHMARK, help="the extraction-benchmark folder")
    args = parser.parse_args()
    truth = json.loads((args.benchmark / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = {key: value.get("articleBody") or "" for key, value in truth.items()}

    predicted, seconds, failures = run_ours(args.benchmark, truth)
    rows = {"newsbot extract_article": predicted, **published_outputs(args.benchmark / "reference_outputs")}
    print(
        f"{len(truth)} pages; extract_article took {seconds:.1f} s ({len(truth) / seconds:.0f} pages/s), {failures} gave no text"
    )
    print(f"{'extractor':<28} {'precision':>9} {'recall':>9} {'F1':>9}")
    for name, outputs in rows.items():
        precision, recall, f1 = score(bodies, outputs)
        print(f"{name:<28} {precision:>9.3f} {recall:>9.3f} {f1:>9.3f}")


if __name__ == "__main__":
    main()
