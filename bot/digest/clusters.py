"""Stories about the same event, across feeds and languages: grouped when their embeddings are close and they were
published within a few days of each other. Pure: vectors and times in, groups out.

Single linkage (a story joins a group if it is close to any member) under a high threshold: on the labelled QA corpus
(tests/data/qa, 64 stories, 8 events told three times in different languages) the closest pair of different events
and the farthest pair of one event lie on either side of the thresholds below with room to spare, so chains of
near-misses do not form.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

# Cosine of two stories' vectors at or above which they report the same event, per embedder (tests/service/
# test_clusters.py prints pairwise precision and recall). E5 on the original texts: one event's pairs >= 0.880, two
# events' <= 0.850 (its cosines sit high: unrelated pairs ~0.78). MiniLM on the English pivots: >= 0.820 and <= 0.557.
THRESHOLD = {"e5": 0.865, "minilm": 0.70}
WINDOW = timedelta(days=3)


def clusters(
    ids: Sequence[int],
    vectors: Mapping[int, np.ndarray],
    at: Mapping[int, datetime],
    *,
    threshold: float,
    window: timedelta = WINDOW,
    feeds: Mapping[int, Collection[str]] | None = None,
) -> list[list[int]]:
    """`ids` grouped: each group (in the order of `ids`) holds stories linked by cosine >= `threshold` between
    stories at most `window` apart. Given `feeds` (each story's feed names), a group never holds two stories of one
    feed: one feed does not tell one event twice, while its templated items ("X raises $10M") can look alike; the
    closest pairs are linked first. A story without a vector is a group of its own."""
    parent = {i: i for i in ids}
    carried = {i: set(feeds.get(i, ())) if feeds is not None else set() for i in ids}  # per group root

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    embedded = [i for i in ids if i in vectors]
    if len(embedded) > 1:
        raw = np.stack([vectors[i] for i in embedded]).astype(np.float32)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        matrix = raw / np.where(norms == 0, 1.0, norms)
        cosine = matrix @ matrix.T
        pairs = np.argwhere(np.triu(cosine >= threshold, k=1))
        for a, b in sorted(pairs.tolist(), key=lambda p: -cosine[p[0], p[1]]):
            first, second = root(embedded[a]), root(embedded[b])
            if first == second or abs(at[embedded[a]] - at[embedded[b]]) > window or carried[first] & carried[second]:
                continue
            parent[first] = second
            carried[second] |= carried.pop(first)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())
