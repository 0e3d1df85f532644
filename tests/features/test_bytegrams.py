"""ByteNgrams: against a pure-Python oracle, batch independence, the window, hostile
input, and clues that read as evidence."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from spamsift.exceptions import InputError
from spamsift.features.bytegrams import ByteNgrams, ngram_column
from spamsift.parse.identity import strip_mbox_from
from strategies import arbitrary_bytes

SPAM = b"""\
From spammer@promo.example  Mon Sep  9 10:00:00 2002
Received: from relay.example.net (relay.example.net [203.0.113.5])
\tby mx.example.org with ESMTP id 1
From: "Deals" <deals@promo.example.com>
Subject: FREE pills!!!
Content-Type: text/html

<p>Buy viagra now at <a href="http://bit.ly/x">our shop</a>. Only $99!</p>
"""

HAM = b"""\
From: Alice <alice@example.org>\r
To: bob@example.org\r
Subject: Lunch tomorrow\r
\r
Shall we meet at noon?  Bring the   report.\r
"""

MESSAGES = {
    "spam": SPAM,
    "ham-crlf": HAM,
    "empty": b"",
    "shorter-than-n": b"ab",
    "mbox-line-only": b"From someone Mon Sep  9 10:00:00 2002\n",
    "mbox-line-no-newline": b"From someone",
    "whitespace-runs": b"a \t\n\n  b\r\n\r\nC D\x0b\x0ce",
    "8bit": "Subject: Привет\n\nÄpfel für 5 €\n".encode() + b"\xff\xfe\x00\x80",
    "crlf-at-cut": b"x" * 9 + b"\r\n" + b"y" * 9,
}

_M64 = (1 << 64) - 1


def _fmix64(x: int) -> int:
    """MurmurHash3's finaliser, written out again so the oracle shares no code."""
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _M64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _M64
    return x ^ (x >> 33)


def _reference(msg: bytes, **params: object) -> dict[int, float]:
    """The row ``ByteNgrams(**params)`` should give, one n-gram at a time."""
    return _slow_row(msg, **{**ByteNgrams().get_params(), **params})


def _slow_row(msg: bytes, ngram_size: int, max_bytes: int, hash_bits: int, binary: bool,
              norm: str | None, lowercase: bool, collapse_whitespace: bool
              ) -> dict[int, float]:
    if msg.startswith(b"From "):
        nl = msg.find(b"\n")
        msg = msg[nl + 1:] if nl >= 0 else b""
    w = msg[:max_bytes]
    if collapse_whitespace:
        out, prev = bytearray(), False
        for c in w:
            ws = c in b" \t\n\v\f\r"
            if not (ws and prev):
                out.append(32 if ws else c)
            prev = ws
        w = bytes(out)
    else:
        w = w.replace(b"\r\n", b"\n")
    if lowercase:
        w = bytes(c + 32 if 65 <= c <= 90 else c for c in w)
    counts: dict[int, int] = {}
    for i in range(len(w) - ngram_size + 1):
        col = _fmix64(int.from_bytes(w[i:i + ngram_size], "big")) >> (64 - hash_bits)
        counts[col] = counts.get(col, 0) + 1
    row = {c: 1.0 if binary else float(k) for c, k in counts.items()}
    if norm is not None and row:
        size = sum(abs(v) ** (2 if norm == "l2" else 1) for v in row.values())
        size = size**0.5 if norm == "l2" else size
        row = {c: v / size for c, v in row.items()}
    return row


def _row(X: sp.csr_matrix, i: int) -> dict[int, float]:
    r = X[i]
    return dict(zip(r.indices.tolist(), r.data.tolist(), strict=True))


def _assert_rows(X: sp.csr_matrix, expected: list[dict[int, float]]) -> None:
    assert X.shape[0] == len(expected)
    assert X.has_sorted_indices
    for i, exp in enumerate(expected):
        got = _row(X, i)
        assert got.keys() == exp.keys(), f"row {i}"
        assert np.allclose([got[c] for c in exp], list(exp.values()), rtol=1e-12), f"row {i}"


PARAMS = [
    pytest.param({}, id="defaults"),
    pytest.param({"ngram_size": 1, "hash_bits": 6}, id="unigrams-collide"),
    pytest.param({"ngram_size": 3, "max_bytes": 40}, id="cut"),
    pytest.param({"ngram_size": 8, "hash_bits": 31}, id="n8-bits31"),
    pytest.param({"binary": False, "norm": None}, id="counts"),
    pytest.param({"binary": False, "norm": "l1", "ngram_size": 2}, id="counts-l1"),
    pytest.param({"lowercase": True}, id="lowercase"),
    pytest.param({"collapse_whitespace": True}, id="collapse"),
    pytest.param({"lowercase": True, "collapse_whitespace": True, "max_bytes": 10},
                 id="both-short"),
]


@pytest.mark.parametrize("params", PARAMS)
def test_equals_the_reference_on_hand_written_messages(params: dict) -> None:
    msgs = list(MESSAGES.values())
    _assert_rows(ByteNgrams(**params).transform(msgs), [_reference(m, **params) for m in msgs])


@settings(max_examples=60, deadline=None)
@given(st.lists(arbitrary_bytes, max_size=5), st.sampled_from([p.values[0] for p in PARAMS]))
def test_equals_the_reference_on_arbitrary_bytes(msgs: list[bytes], params: dict) -> None:
    _assert_rows(ByteNgrams(**params).transform(msgs), [_reference(m, **params) for m in msgs])


def test_ngram_column_is_the_hash() -> None:
    for g in (b"free", b"\x00\x00\x00\x00", b"\xff" * 8, b"a"):
        assert ngram_column(g, 20) == _fmix64(int.from_bytes(g, "big")) >> 44


def test_rows_do_not_depend_on_the_batch() -> None:
    bg = ByteNgrams()
    msgs = list(MESSAGES.values())
    alone = [bg.transform([m]) for m in msgs]
    rng = np.random.default_rng(0)
    # Hundreds of 3,000-byte messages span several internal slices.
    filler = [bytes(rng.integers(0, 256, 3000, dtype=np.uint8)) for _ in range(700)]
    batch = filler[:350] + msgs[::-1] + filler[350:]
    X = bg.transform(batch)
    for k, m in enumerate(msgs[::-1]):
        i = 350 + k
        assert (X[i] != alone[msgs.index(m)]).nnz == 0
    assert (X[:350] != bg.transform(filler[:350])).nnz == 0


def test_the_window_is_the_first_max_bytes_after_the_mbox_line() -> None:
    bg = ByteNgrams(max_bytes=100)
    body = strip_mbox_from(SPAM)
    assert body != SPAM
    X = bg.transform([SPAM, body, body[:100], body[:101]])
    assert (X[0] != X[1]).nnz == 0 and (X[1] != X[2]).nnz == 0
    assert (X[2] != X[3]).nnz == 0
    # An n-gram only past the cut is not read.
    far = ngram_column(b"viag", 20)
    assert far in bg.set_params(max_bytes=3000).transform([SPAM]).indices
    assert far not in X[0].indices


def test_the_mbox_line_never_counts() -> None:
    bg = ByteNgrams()
    a = bg.transform([b"From x@y Mon\nSubject: hi\n\nbody", b"Subject: hi\n\nbody"])
    assert (a[0] != a[1]).nnz == 0
    assert bg.transform([b"From someone only"]).nnz == 0


def test_crlf_reads_as_lf() -> None:
    bg = ByteNgrams()
    X = bg.transform([HAM, HAM.replace(b"\r\n", b"\n")])
    assert (X[0] != X[1]).nnz == 0


@pytest.mark.parametrize("msg", [b"", b"abc", b"From x\n"], ids=["empty", "short", "mbox-only"])
def test_nothing_to_read_gives_an_empty_row(msg: bytes) -> None:
    X = ByteNgrams().transform([msg, SPAM])
    assert X[0].nnz == 0 and X[1].nnz > 0
    assert np.isfinite(X.data).all()


def test_empty_batch() -> None:
    X = ByteNgrams(hash_bits=12).transform([])
    assert X.shape == (0, 4096) and sp.issparse(X)


@pytest.mark.parametrize("max_bytes", [3000, 2**20], ids=["3000", "largest-window"])
def test_ten_megabytes_of_one_byte(max_bytes: int) -> None:
    X = ByteNgrams(max_bytes=max_bytes, binary=False, norm=None).transform([b"A" * 10_000_000])
    assert X.nnz == 1
    assert X.data[0] == max_bytes - 3


@pytest.mark.parametrize("params", PARAMS)
def test_every_byte_value(params: dict) -> None:
    every = bytes(range(256))
    msgs = [every, every * 40, every[::-1] * 3, bytes([13, 10]) * 500]
    _assert_rows(ByteNgrams(**params).transform(msgs), [_reference(m, **params) for m in msgs])


def test_sklearn_contract() -> None:
    bg = ByteNgrams(ngram_size=5, hash_bits=12)
    assert clone(bg).get_params() == bg.get_params()
    assert bg.fit([SPAM]) is bg
    assert bg.n_features == 4096
    X = bg.fit_transform([SPAM, HAM])
    assert X.shape == (2, 4096) and X.dtype == np.float64
    assert np.allclose(np.sqrt(X.multiply(X).sum(axis=1)), 1.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"ngram_size": 0}, "ngram_size must be an int 1 to 8, got 0", id="n0"),
        pytest.param({"ngram_size": 9}, "ngram_size must be an int 1 to 8, got 9", id="n9"),
        pytest.param({"max_bytes": 0}, "max_bytes must be an int 1 to 1,048,576, got 0",
                     id="bytes0"),
        pytest.param({"max_bytes": 2**20 + 1}, "max_bytes must be an int 1 to 1,048,576",
                     id="bytes-too-many"),
        pytest.param({"hash_bits": 32}, "hash_bits must be an int 1 to 31, got 32", id="bits32"),
        pytest.param({"hash_bits": 2.0}, "hash_bits must be an int 1 to 31, got 2.0",
                     id="bits-float"),
        pytest.param({"norm": "max"}, "norm must be 'l2', 'l1' or None, got 'max'", id="norm"),
    ],
)
def test_bad_parameters_are_named(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ByteNgrams(**params).transform([SPAM])


@pytest.mark.parametrize("bad", [SPAM, "text", [SPAM, "text"]], ids=["bytes", "str", "mixed"])
def test_not_a_list_of_messages(bad: object) -> None:
    with pytest.raises(InputError, match="expected"):
        ByteNgrams().transform(bad)  # type: ignore[arg-type]


# -- clues --------------------------------------------------------------------------

def _labels(bg: ByteNgrams, msg: bytes, ngram: bytes) -> list[tuple[str, str]]:
    col = ngram_column(ngram, bg.hash_bits)
    return [c.label for c in bg.clues(msg, [col])[col] if c.ngram == ngram]


@pytest.mark.parametrize(
    ("ngram", "labels"),
    [
        pytest.param(b"free", [("hdr:Subject", "FREE")], id="subject-word"),
        pytest.param(b"subj", [("hdr:Subject", "Subject:")], id="field-name"),
        pytest.param(b"iagr", [("body", "viagra")], id="body-word"),
        pytest.param(b"bit.", [("body", 'href="http://bit.ly/x">our')], id="url"),
        pytest.param(b"mx.e", [("hdr:Received", "mx.example.org")], id="continuation-line"),
        pytest.param(b"$99!", [("body", "$99!</p>")], id="word-end"),
        pytest.param(b"e pi", [("hdr:Subject", "FREE pills!!!")], id="two-words"),
        pytest.param(b"spam", [], id="mbox-line-not-read"),
        pytest.param(b"\n\n<p", [("body", "<p>Buy")], id="blank-line"),
    ],
)
def test_clues_name_the_header_or_the_body_word(ngram: bytes, labels: list) -> None:
    assert _labels(ByteNgrams(hash_bits=22), SPAM, ngram) == labels


def test_clues_give_offsets_in_the_message_as_given() -> None:
    bg = ByteNgrams()
    col = ngram_column(b"free", 20)
    (clue,) = [c for c in bg.clues(SPAM, [col])[col] if c.ngram == b"free"]
    assert SPAM[clue.offset:clue.offset + 4] == b"FREE"
    assert clue.column == col


def test_clues_list_each_occurrence_once_and_untouched_columns_empty() -> None:
    msg = b"Subject: win win\n\nwin a win, win!"
    bg = ByteNgrams(ngram_size=3)
    col = ngram_column(b"win", 20)
    untouched = next(c for c in range(2**20) if c not in bg.transform([msg]).indices)
    clues = bg.clues(msg, [col, untouched])
    assert clues[untouched] == []
    assert [c.label for c in clues[col] if c.ngram == b"win"] == [
        ("hdr:Subject", "win"), ("body", "win"), ("body", "win,"), ("body", "win!")]


def test_clues_after_lowercase_and_collapse_show_the_hashed_ngram_and_raw_word() -> None:
    bg = ByteNgrams(lowercase=True, collapse_whitespace=True)
    msg = b"Subject: FREE\r\n\r\nGET   Viagra\r\n"
    col = ngram_column(b"t vi", 20)
    (clue,) = bg.clues(msg, [col])[col]
    assert clue.ngram == b"t vi" and clue.label == ("body", "GET Viagra")
    assert msg[clue.offset:clue.offset + 2] == b"T "


@pytest.mark.parametrize(
    ("msg", "ngram", "labels"),
    [
        pytest.param(b"no header here\n\nfree", b"free", [("body", "free")], id="no-header"),
        pytest.param(b"Subject: only a header", b"head", [("hdr:Subject", "header")],
                     id="no-body"),
        pytest.param(b"\tfolded first\nSubject: x\n\nbody", b"fold", [("hdr", "folded")],
                     id="continuation-without-field"),
        pytest.param(b"\n\nbody text", b"body", [("body", "body")], id="empty-header"),
        pytest.param(b"X" * 100 + b"\n\nq", b"xxxx", [("body", "X" * 34)], id="long-word"),
    ],
)
def test_clues_on_odd_shapes(msg: bytes, ngram: bytes, labels: list) -> None:
    assert _labels(ByteNgrams(), msg, ngram)[:1] == labels


@settings(max_examples=60, deadline=None)
@given(arbitrary_bytes)
def test_clues_never_crash_and_cover_every_column(msg: bytes) -> None:
    bg = ByteNgrams(hash_bits=12)
    cols = bg.transform([msg]).indices.tolist()
    clues = bg.clues(msg, cols)
    assert all(clues[c] for c in cols)
    for c in cols:
        for clue in clues[c]:
            assert ngram_column(clue.ngram, 12) == c
