"""`_few_per_key`: the first k of each key's run by an order (the settle pass's rounds of a few pairs per host)."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.bundling.rules import _few_per_key

IDX = np.array([10, 11, 12, 13, 14, 15, 16])
KEY = np.array([2, 1, 2, 1, 2, 3, 1])
ORDER = np.array([5.0, 9.0, 1.0, 3.0, 5.0, 0.0, 3.0])  # ties (5.0 in key 2, 3.0 in key 1) go by position


@pytest.mark.parametrize(("k", "want"), [
    (1, [13, 12, 15]),  # key 1: 13 (3.0, before 16), key 2: 12 (1.0), key 3: 15
    (2, [13, 16, 12, 10, 15]),
    (3, [13, 16, 11, 12, 10, 14, 15]),
    (9, [13, 16, 11, 12, 10, 14, 15]),
])
def test_first_k_of_each_key_by_order_then_position(k: int, want: list[int]) -> None:
    assert _few_per_key(IDX, KEY, ORDER, k).tolist() == want


@pytest.mark.parametrize("k", [1, 2, 3])
def test_presorted_input_gives_the_same_pairs(k: int) -> None:
    """order None: idx already by (key, order) — as the closure keeps its pairs — and the same pairs come out."""
    by = np.lexsort((ORDER, KEY))
    assert _few_per_key(IDX[by], KEY[by], None, k).tolist() == _few_per_key(IDX, KEY, ORDER, k).tolist()
