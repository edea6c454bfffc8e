"""Prints language-identification accuracy per language on FLORES-200 (sentences, headline snippets, with a correct or a wrong hint) beside plain lingua, and the detector's memory; never run as a test."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from process_memory import peak_rss_mb  # noqa: E402

from summarizer.detect import Evidence, LinguaDetector  # noqa: E402
from summarizer.seq2seq import WEAK_DETECTION  # noqa: E402
from summarizer.types import DEFAULT_LANGUAGES  # noqa: E402
from tests.corpora import DUTCH, flores_lines, polish_feed_entries, snippet  # noqa: E402


def share(hits: int, total: int) -> str:
    return f"{100 * hits / total:6.2f}%"


def main() -> None:
    languages: Sequence[str] = DEFAULT_LANGUAGES
    sentences = {lang: flores_lines(lang) for lang in languages}
    snippets = {lang: [snippet(line, lang) for line in lines] for lang, lines in sentences.items()}

    rss_before = peak_rss_mb()
    started = time.perf_counter()
    detector = LinguaDetector(languages)
    detector.detect("warm up: builds the detector")
    built = time.perf_counter() - started
    started = time.perf_counter()
    full = {lang: detector.evidence_many(texts) for lang, texts in sentences.items()}
    short = {lang: detector.evidence_many(texts) for lang, texts in snippets.items()}
    swept = time.perf_counter() - started
    rss_ours = peak_rss_mb()

    print(f"FLORES-200 devtest, {len(next(iter(sentences.values())))} lines per language; snippet = first 4 words")
    print(
        "(ja/zh: first 8 characters). flips = sentences that some wrong hint (8 each) turns into the hinted language;"
    )
    print("wrong-hint snip = snippets still right under every wrong hint (a hint is meant to win there: its cost).")
    print()
    header = (
        f"{'lang':4} {'sentences':>10} {'snippets':>10} {'+hint':>8} {'flips':>6} {'wrong-hint snip':>16}"
        f" | {'lingua sent':>11} {'lingua snip':>11}"
    )
    print(header)
    print("-" * len(header))

    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    plain = LanguageDetectorBuilder.from_languages(
        *(Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in languages)
    ).build()

    def plain_hits(texts: list[str], lang: str) -> int:
        found = plain.detect_languages_in_parallel_of(texts)
        return sum(1 for item in found if item is not None and item.iso_code_639_1.name.lower() == lang)

    totals = dict.fromkeys(("sent", "snip", "hint", "flips", "wrong", "plain_sent", "plain_snip"), 0)
    count = 0
    for lang in languages:
        n = len(sentences[lang])
        sent = sum(evidence.decide().lang == lang for evidence in full[lang])
        snip = sum(evidence.decide().lang == lang for evidence in short[lang])
        hint = sum(evidence.decide(lang).lang == lang for evidence in short[lang])
        wrong_hints = [other for other in languages if other != lang]
        flips = sum(
            any(evidence.decide(other).lang == other != evidence.decide().lang for other in wrong_hints)
            for evidence in full[lang]
        )
        # Snippets answered right under every wrong hint (the hint is meant to win there: this shows its cost).
        wrong = sum(all(evidence.decide(other).lang == lang for other in wrong_hints) for evidence in short[lang])
        plain_sent = plain_hits(sentences[lang], lang)
        plain_snip = plain_hits(snippets[lang], lang)
        for key, value in zip(totals, (sent, snip, hint, flips, wrong, plain_sent, plain_snip), strict=True):
            totals[key] += value
        count += n
        print(
            f"{lang:4} {share(sent, n):>10} {share(snip, n):>10} {share(hint, n):>8} {flips:>6} {share(wrong, n):>16}"
            f" | {share(plain_sent, n):>11} {share(plain_snip, n):>11}"
        )
    print("-" * len(header))
    print(
        f"{'all':4} {share(totals['sent'], count):>10} {share(totals['snip'], count):>10}"
        f" {share(totals['hint'], count):>8} {totals['flips']:>6} {share(totals['wrong'], count):>16}"
        f" | {share(totals['plain_sent'], count):>11} {share(totals['plain_snip'], count):>11}"
    )
    print()
    for name, found in (("sentences", full), ("snippets", short)):
        print(calibration(name, found))
    print()
    # Languages outside the offered set are named by their own code (then pivoted through opus-mt-mul-en).
    for name, code, texts in (("Polish (osm-pl feed)", "pl", polish_feed_entries()[0]), ("Dutch", "nl", DUTCH)):
        found = [detection.lang for detection in detector.detect_many(texts)]
        right = sum(lang == code for lang in found)
        taken = sum(lang in DEFAULT_LANGUAGES for lang in found)
        print(f"{name}: {right}/{len(texts)} -> {code}, {taken} taken for an offered language {found}")
    print()
    print(f"detector: built and warmed in {built:.2f} s; {2 * count} texts in {swept:.2f} s")
    print(f"max RSS: {rss_before:.0f} MB before the detector, {rss_ours:.0f} MB after the sweep")
    print(f"         (+{rss_ours - rss_before:.0f} MB: high-accuracy models of {len(languages)} languages + screen)")


def calibration(name: str, found: dict[str, list[Evidence]]) -> str:
    """Whether the confidence knows when it doesn't know: right answers reported weak (with no hint these go through
    the multilingual model), wrong ones reported sure."""
    decided = [(evidence.decide(), lang) for lang, evidences in found.items() for evidence in evidences]
    right = [d.confidence for d, lang in decided if d.lang == lang]
    wrong = [d.confidence for d, lang in decided if d.lang != lang]
    weak = sum(c < WEAK_DETECTION for c in right)
    sure = sum(c >= 0.9 for c in wrong)
    return (
        f"confidence, {name}: {weak}/{len(right)} right answers below {WEAK_DETECTION} (weak: via mul-en unhinted), "
        f"{sure}/{len(wrong)} wrong answers at 0.9 or more"
    )


if __name__ == "__main__":
    main()
