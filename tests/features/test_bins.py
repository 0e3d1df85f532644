"""bin_columns: every column at once, against numpy.searchsorted column by column."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spamsift.features.bins import bin_columns

_VALUES = st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.5, 7.0, np.inf, -np.inf, np.nan])


@given(st.data(), st.integers(1, 8), st.integers(1, 6), st.integers(0, 12))
@settings(max_examples=200)
def test_equals_searchsorted_per_column(data: st.DataObject, d: int, e: int, n: int):
    edges = np.sort(np.array(data.draw(st.lists(st.lists(_VALUES.filter(lambda v: v == v),
                                                          min_size=e, max_size=e),
                                                 min_size=d, max_size=d))), axis=1)
    X = np.array(data.draw(st.lists(st.lists(_VALUES, min_size=d, max_size=d),
                                    min_size=n, max_size=n)), dtype=np.float64).reshape(n, d)
    want = np.empty((n, d), dtype=np.int64)
    for j in range(d):
        want[:, j] = np.searchsorted(edges[j], X[:, j], side="left")
    np.testing.assert_array_equal(bin_columns(edges, e + 1, X),
                                  np.arange(d)[None, :] * (e + 1) + want)
