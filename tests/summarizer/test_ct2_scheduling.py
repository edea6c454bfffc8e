"""How the ctranslate2 backend lays batches out on its workers: a batch is cut only where that lets the last worker
finish sooner by the cost model (a decoding step reads the decoder once for the whole batch; input tokens are
paid padded), every text lands in exactly one job, in its batch's order."""

from __future__ import annotations

from types import SimpleNamespace

from summarizer.ctranslate2_backend import _Costs, _Job, _makespan, _spread

# distilbart-cnn-12-6's shape and OPUS-MT's (Marian it-en)
DISTILBART = _Costs.of(
    SimpleNamespace(
        d_model=1024, encoder_layers=12, decoder_layers=6, encoder_ffn_dim=4096, decoder_ffn_dim=4096, vocab_size=50264
    )
)
MARIAN = _Costs.of(
    SimpleNamespace(
        d_model=512, encoder_layers=6, decoder_layers=6, encoder_ffn_dim=2048, decoder_ffn_dim=2048, vocab_size=80035
    )
)


def job(batch: int, lengths: list[int], high: int, costs: _Costs) -> _Job:
    return _Job(batch, 0, [[f"t{batch}.{n}"] * length for n, length in enumerate(lengths)], 0, high, costs)


def covered(jobs: list[_Job]) -> dict[int, list[str]]:
    """Each batch's texts as the jobs hold them, in order of their start."""
    texts: dict[int, list[str]] = {}
    for part in sorted(jobs, key=lambda j: (j.batch, j.start)):
        assert part.start == len(texts.setdefault(part.batch, []))  # no gap, no overlap
        texts[part.batch] += [source[0] for source in part.sources]
    return texts


def test_a_lone_batch_is_cut_in_two_for_two_workers() -> None:
    given = [job(0, [30] * 8, 40, MARIAN)]
    spread = _spread(given, 2)
    assert sorted(len(j.sources) for j in spread) == [4, 4]
    assert covered(spread) == covered(given)
    assert _spread(given, 1) == given  # one worker: nothing to gain


def test_enough_batches_stay_whole_since_a_cut_costs_a_whole_decoding() -> None:
    given = [job(0, [30], 40, MARIAN), job(1, [30] * 6, 40, MARIAN)]
    assert _spread(given, 2) == given


def test_the_summary_batches_are_cut_so_that_both_workers_finish_together() -> None:
    """The engine benchmark's 8 articles: 3 batches within 2,048 padded tokens; unsplit, one worker gets two."""
    lengths = ([117, 247, 328, 368], [483, 504, 665], [1024])
    given = [job(batch, texts, 80, DISTILBART) for batch, texts in enumerate(lengths)]
    spread = _spread(given, 2)
    assert covered(spread) == covered(given)
    assert len(spread) == 4  # one cut: a second would cost more than it balances
    assert _makespan(spread, 2) < 0.95 * _makespan(given, 2)


def test_nothing_to_spread() -> None:
    assert _spread([], 2) == []
    assert _spread([job(0, [5], 3, MARIAN)], 4) == [job(0, [5], 3, MARIAN)]
