"""MessageFeaturizer: block layout, bytes vs parsed, statelessness, token columns."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction import FeatureHasher

from spamsift.exceptions import InputError
from spamsift.features.featurizer import (
    REPUTATION_KEYS,
    Layout,
    MessageFeaturizer,
    reputation_keys,
)
from spamsift.features.structure import structure_names, structure_vector
from spamsift.features.tokens import tokenize
from spamsift.parse import parse_message

SPAM = b"""\
Received: from inside.example.net (inside.example.net [10.0.0.9]) by mx.example.org
Received: from relay.example.net (relay.example.net [203.0.113.5]) by inside.example.net
From: "Deals" <deals@promo.example.com>
To: you@example.org
Subject: FREE v1agra!!!
Content-Type: text/html; charset=us-ascii

<p>Cheap meds, click <a href="http://www.bit.ly/x">here</a>. Only $99!</p>
"""

HAM = b"""\
From: Alice <alice@example.org>
To: bob@example.org
Subject: Lunch tomorrow

Shall we meet at noon? Bring the report.
"""

MESSAGES = [SPAM, HAM, b""]


@pytest.fixture(scope="module")
def small() -> MessageFeaturizer:
    # Small blocks keep dense comparisons cheap; layout logic does not depend on size.
    return MessageFeaturizer(token_bits=12, reputation_bits=6)


@pytest.mark.parametrize(
    ("params", "n_tokens", "n_rep"),
    [
        pytest.param({}, 2**20, 2**16, id="defaults"),
        pytest.param({"token_bits": 12, "reputation_bits": 6}, 4096, 64, id="small"),
        pytest.param({"token_bits": 8, "reputation_bits": 2, "keywords": ("a", "b")}, 256, 4,
                     id="custom-keywords"),
    ],
)
def test_layout_widths_add_up(params: dict[str, object], n_tokens: int, n_rep: int):
    f = MessageFeaturizer(**params)  # type: ignore[arg-type]
    lay = f.layout
    n_struct = len(structure_names(f.keywords))
    assert lay == Layout(n_tokens, n_struct, n_rep)
    assert lay.n_features == n_tokens + n_struct + len(REPUTATION_KEYS) * n_rep
    # The blocks tile [0, n_features) in order, without gaps or overlaps.
    slices = [lay.tokens, lay.structure] + [lay.reputation(k) for k in range(3)]
    assert slices[0].start == 0 and slices[-1].stop == lay.n_features
    for a, b in zip(slices, slices[1:], strict=False):
        assert a.stop == b.start
    assert f.transform([HAM]).shape == (1, lay.n_features)


def test_bytes_and_parsed_give_the_same_matrix(small: MessageFeaturizer):
    from_bytes = small.transform(MESSAGES)
    from_parsed = small.transform([parse_message(m) for m in MESSAGES])
    mixed = small.transform([MESSAGES[0], parse_message(MESSAGES[1]), MESSAGES[2]])
    assert from_bytes.format == "csr" and from_bytes.dtype == np.float64
    assert (from_bytes != from_parsed).nnz == 0
    assert (from_bytes != mixed).nnz == 0


def test_blocks_hold_what_they_say(small: MessageFeaturizer):
    lay = small.layout
    X = small.transform([SPAM])
    msg = parse_message(SPAM)
    np.testing.assert_array_equal(X[:, lay.structure].toarray().ravel(),
                                  structure_vector(msg, small.keywords))
    assert X[:, lay.tokens].sum() == len(tokenize(msg))
    rep = FeatureHasher(lay.n_rep_per_key, input_type="string", alternate_sign=False)
    for k, key in enumerate(reputation_keys(msg)):
        block = X[:, lay.reputation(k)]
        assert block.nnz == 1
        assert block.indices[0] == rep.transform([[key]]).indices[0]


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        # The 10.x hop is internal: the first external relay is 203.0.113.5.
        pytest.param(SPAM, ("deals@promo.example.com", "example.com", "203.0.113"),
                     id="external-relay"),
        pytest.param(HAM, ("alice@example.org", "example.org", ""), id="no-relay"),
        pytest.param(b"", ("", "", ""), id="empty"),
    ],
)
def test_reputation_keys(raw: bytes, keys: tuple[str, str, str]):
    assert reputation_keys(parse_message(raw)) == keys


def test_missing_keys_leave_their_block_empty(small: MessageFeaturizer):
    lay = small.layout
    X = small.transform([b""])
    for k in range(3):
        assert X[:, lay.reputation(k)].nnz == 0


def test_token_index_maps_tokens_to_their_count_columns(small: MessageFeaturizer):
    msg = parse_message(SPAM)
    tokens = tokenize(msg)
    index = small.token_index(tokens)
    assert set(index) == set(tokens)
    # Rebuild the token block from the index: counts land where the index says.
    expected = np.zeros(small.layout.n_tokens)
    for tok, n in Counter(tokens).items():
        expected[index[tok]] += n
    got = small.transform([msg])[:, small.layout.tokens].toarray().ravel()
    np.testing.assert_array_equal(got, expected)
    assert got[index["subj:free"]] >= 1
    assert small.token_index([]) == {}


def test_fit_does_nothing(small: MessageFeaturizer):
    f = clone(small)
    before = f.transform(MESSAGES)
    assert f.fit(MESSAGES, [1, 0, 0]) is f
    assert f.fit() is f
    assert not [a for a in vars(f) if a.endswith("_")]
    assert (f.transform(MESSAGES) != before).nnz == 0
    assert (f.fit_transform(MESSAGES) != before).nnz == 0
    assert clone(f).get_params() == f.get_params()


def test_rows_do_not_depend_on_the_batch(small: MessageFeaturizer):
    together = small.transform(MESSAGES)
    one_by_one = sp.vstack([small.transform([m]) for m in MESSAGES])
    assert (together != one_by_one).nnz == 0


def test_empty_batch(small: MessageFeaturizer):
    X = small.transform([])
    assert X.shape == (0, small.layout.n_features) and X.format == "csr"


@pytest.mark.parametrize(
    "single",
    [pytest.param(HAM, id="bytes"), pytest.param(bytearray(HAM), id="bytearray"),
     pytest.param(HAM.decode(), id="str")],
)
def test_a_single_message_is_refused_with_a_clear_error(small: MessageFeaturizer,
                                                        single: object):
    with pytest.raises(InputError, match="wrap it in a list"):
        small.transform(single)  # type: ignore[arg-type]


def test_a_single_parsed_message_is_refused(small: MessageFeaturizer):
    with pytest.raises(InputError, match="got a single ParsedMessage"):
        small.transform(parse_message(HAM))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\n\n\n", id="blank-lines"),
        pytest.param(b"\x00" * 64, id="nul-bytes"),
        pytest.param(bytes(range(256)), id="all-bytes"),
        pytest.param(b"Content-Type: multipart/mixed; boundary=x\n\n--x\n--x", id="bad-mime"),
    ],
)
def test_degenerate_messages_featurise(small: MessageFeaturizer, raw: bytes):
    X = small.transform([raw])
    assert X.shape == (1, small.layout.n_features)
    assert np.isfinite(X.data).all()


@settings(max_examples=40, deadline=None)
@given(raw=st.binary(max_size=2000))
def test_random_bytes_featurise(raw: bytes):
    f = MessageFeaturizer(token_bits=10, reputation_bits=4)
    X = f.transform([raw])
    assert X.shape == (1, f.layout.n_features)
    assert np.isfinite(X.data).all()


def test_without_site_evidence_the_byte_block_ignores_the_delivery_path() -> None:
    from spamsift.features.featurizer import MessageFeaturizer

    body = b"From: ann@example.org\nSubject: lunch\n\nNoon at the usual place?\n"
    here = (b"Received: from mx.sender.example by mail.site.example\n\tid 42\n"
            b"Delivered-To: zzzz@site.example\nX-Spam-Status: No, score=0.1\n" + body)
    there = b"Received: from relay.other.example by mx.other.example\n" + body
    for site, same in ((False, True), (True, False)):
        f = MessageFeaturizer(token_bits=10, reputation_bits=8, byte_bits=12,
                              site_evidence=site)
        X = f.transform([here, there])[:, f.layout.bytes]
        assert ((X[0] != X[1]).nnz == 0) is same


def test_a_wide_matrix_narrowed_is_the_narrow_featurizers_own(
        mail_set: list[tuple[bytes, str]]) -> None:
    """Every block after the tokens keeps its values, shifted; colliding tokens add."""
    raws = [raw for raw, _ in mail_set[:30]]
    wide = MessageFeaturizer(token_bits=16, reputation_bits=8, byte_bits=10)
    narrow, X = wide.narrowed(wide.transform(raws), 9)
    direct = MessageFeaturizer(token_bits=9, reputation_bits=8, byte_bits=10)
    assert narrow.get_params() == direct.get_params()
    expected = direct.transform(raws)
    assert X.shape == expected.shape
    assert (X != expected).nnz == 0
    with pytest.raises(ValueError, match="token_bits"):
        wide.narrowed(wide.transform(raws), 17)
