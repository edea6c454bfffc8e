"""The vector search's product, on one thread or cut into blocks on several: the same scores for every row, whatever
the number of rows or blocks."""

from __future__ import annotations

import numpy as np
import pytest

from bot.service.indexing import MIN_BLOCK_ROWS, best_rows, similarities


@pytest.mark.parametrize(
    ("rows", "parts"),
    [(2 * MIN_BLOCK_ROWS + 7, 2), (3 * MIN_BLOCK_ROWS + 1, 3), (2 * MIN_BLOCK_ROWS - 1, 2), (5, 2)],
)
def test_every_row_is_scored_once_whatever_the_blocks(rows: int, parts: int) -> None:
    rng = np.random.default_rng(rows)
    matrix = rng.standard_normal((rows, 16)).astype(np.float32)
    query = rng.standard_normal(16).astype(np.float32)
    scores = similarities(matrix, query, parts)
    assert scores.shape == (rows,) and scores.dtype == np.float32
    np.testing.assert_allclose(scores, matrix @ query, rtol=1e-5, atol=1e-5)
    # the best row of the last block and of the first are found where they are
    matrix[-1] = matrix[0] = 10 * query
    assert set(best_rows(similarities(matrix, query, parts), 2).tolist()) == {0, rows - 1}
