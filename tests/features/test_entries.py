"""Entries stacked into one matrix, against scipy.sparse.hstack of the blocks as matrices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction import FeatureHasher

from spamsift.features.entries import csr_entries, dense_entries, stack
from spamsift.features.featurizer import REPUTATION_KEYS, MessageFeaturizer, reputation_keys
from spamsift.features.structure import structure_vector
from spamsift.features.tokens import normalised_body, tokenize
from spamsift.parse import parse_message


def _same(got: sp.csr_matrix, want: sp.csr_matrix) -> None:
    want = sp.csr_matrix(want)
    assert got.shape == want.shape and got.dtype == want.dtype == np.float64
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


@pytest.mark.parametrize("n_rows", [1, 2, 7])
def test_stack_equals_hstack(n_rows: int):
    rng = np.random.default_rng(n_rows)
    mats = [sp.random(n_rows, w, density=0.3, format="csr", random_state=rng)
            for w in (50, 1, 9, 30)]
    dense = rng.integers(0, 3, size=(n_rows, 6)).astype(np.float64)
    blocks, offset = [], 0
    for m in mats:
        blocks.append(csr_entries(m, offset))
        offset += m.shape[1]
    blocks.append(dense_entries(dense, offset))
    got = stack(blocks, n_rows, offset + dense.shape[1])
    _same(got, sp.hstack([*mats, sp.csr_matrix(dense)], format="csr", dtype=np.float64))
    assert got.has_sorted_indices


MESSAGES = [
    b"From: Deals <deals@promo.example.com>\nReceived: from a (a [203.0.113.5]) by b\n"
    b"Subject: FREE v1agra!!!\nContent-Type: text/html\n\n<p>Only $99! click <a href="
    b"'http://bit.ly/x'>here</a></p>\n",
    b"From: Alice <alice@example.org>\nSubject: Lunch\n\nNoon? Bring the report.\n",
    b"",
    b"Subject: =?utf-8?b?0J/RgNC40LLQtdGC?=\n\n\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
]


@pytest.mark.parametrize("byte_bits", [0, 10])
@pytest.mark.parametrize("batch", [pytest.param(slice(0, 1), id="one"),
                                   pytest.param(slice(None), id="all")])
def test_featurizer_equals_the_blocks_hstacked(byte_bits: int, batch: slice):
    """The matrix the featurizer made with FeatureHasher and hstack, built by hand."""
    f = MessageFeaturizer(token_bits=12, reputation_bits=6, byte_bits=byte_bits)
    msgs = [parse_message(m) for m in MESSAGES[batch]]
    lay = f.layout
    bodies = [normalised_body(m) for m in msgs]
    hasher = FeatureHasher(lay.n_tokens, input_type="string", alternate_sign=False)
    blocks = [hasher.transform([tokenize(m, b, f.site_evidence)
                                for m, b in zip(msgs, bodies, strict=True)]),
              sp.csr_matrix(np.vstack([structure_vector(m, f.keywords, b[0])
                                       for m, b in zip(msgs, bodies, strict=True)]))]
    rep = FeatureHasher(lay.n_rep_per_key, input_type="string", alternate_sign=False)
    keys = [reputation_keys(m) for m in msgs]
    for k in range(len(REPUTATION_KEYS)):
        blocks.append(rep.transform([[kk[k]] if kk[k] else [] for kk in keys]))
    if byte_bits:
        blocks.append(f.byte_ngrams.transform([m.head for m in msgs]))
    _same(f.transform_parsed(msgs), sp.hstack(blocks, format="csr", dtype=np.float64))
