"""Token hashing: the C loop and the NumPy path against scikit-learn's FeatureHasher."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction import FeatureHasher
from sklearn.utils import murmurhash3_32 as sklearn_murmurhash3_32

from spamsift.features import hashing
from spamsift.features.hashing import count_matrix, murmurhash3_32

# Letters of several widths in UTF-8 (1 to 4 bytes) and the separators tokens hold.
_ALPHABET = "abcXYZ019:._-@ éßжд€中😀"


def _tokens(n: int, seed: int, max_len: int = 60) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(max_len)))
            for _ in range(n)]


def _sklearn_columns(tokens: list[str], n_features: int) -> np.ndarray:
    X = FeatureHasher(n_features, input_type="string", alternate_sign=False).transform(
        [[t] for t in tokens]).tocsr()
    return X.indices


def _c_columns(tokens: list[str], n_features: int) -> np.ndarray:
    from spamsift._speedups import token_columns as c_token_columns

    return np.frombuffer(c_token_columns(tokens, n_features), dtype=np.int32)


IMPLEMENTATIONS = [
    pytest.param(hashing._numpy_columns, id="numpy"),
    pytest.param(_c_columns, id="c", marks=pytest.mark.needs("speedups")),
]


@given(st.binary(max_size=64))
@settings(max_examples=300)
def test_reference_murmurhash_equals_sklearns(data: bytes):
    assert murmurhash3_32(data) == sklearn_murmurhash3_32(data, seed=0)


@pytest.mark.parametrize("columns", IMPLEMENTATIONS)
@pytest.mark.parametrize("n_features", [2**20, 2**16, 1000, 7, 1])
def test_columns_equal_feature_hashers(columns, n_features: int):
    tokens = _tokens(20_000, seed=n_features) + ["", "subj:free", "x" * 5000]
    np.testing.assert_array_equal(columns(tokens, n_features),
                                  _sklearn_columns(tokens, n_features))


@pytest.mark.parametrize("columns", IMPLEMENTATIONS)
@given(tokens=st.lists(st.text(max_size=30), max_size=50))
@settings(max_examples=100, deadline=None)
def test_columns_equal_feature_hashers_on_any_text(columns, tokens: list[str]):
    tokens = [t for t in tokens if not any("\ud800" <= c <= "\udfff" for c in t)]
    np.testing.assert_array_equal(columns(tokens, 2**20), _sklearn_columns(tokens, 2**20)
                                  if tokens else np.zeros(0, dtype=np.int32))


@pytest.mark.needs("speedups")
def test_c_and_numpy_agree_on_lone_surrogates():
    # FeatureHasher cannot encode these; both paths read them as "surrogatepass" does.
    tokens = ["a\ud800", "\udfff", "subj:\udc80x"]
    want = [abs(murmurhash3_32(t.encode("utf-8", "surrogatepass"))) % 2**20 for t in tokens]
    assert _c_columns(tokens, 2**20).tolist() == want
    assert hashing._numpy_columns(tokens, 2**20).tolist() == want


@pytest.mark.parametrize("columns", IMPLEMENTATIONS)
def test_bad_input_is_a_clear_error(columns):
    with pytest.raises(TypeError, match="str"):
        columns(["ok", b"bytes"], 2**10)


def test_count_matrix_equals_feature_hasher():
    rows = [_tokens(300, seed=i, max_len=12) for i in range(20)] + [[], ["a", "a", "a"]]
    got = count_matrix(rows, 2**12)
    want = FeatureHasher(2**12, input_type="string", alternate_sign=False).transform(rows)
    assert got.has_sorted_indices and got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


def test_the_c_loop_is_used_where_it_is_built():
    from importlib.util import find_spec

    assert hashing.HAVE_C == (find_spec("spamsift._speedups") is not None)
