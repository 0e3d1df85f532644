"""Tokens -> hashed columns: the columns scikit-learn's ``FeatureHasher`` gives, without it.

A token's column is MurmurHash3 (x86, 32 bits, seed 0) of its UTF-8 bytes, read as a
signed integer, then ``|h| mod n_features``: exactly what ``FeatureHasher(n_features,
input_type="string", alternate_sign=False)`` computes, so models trained before keep
their columns. ``FeatureHasher`` came with scikit-learn's 0.6 s import, and its
per-token loop was a tenth of featurising; here the loop is C
(``spamsift._speedups``, built at install where a compiler is found) or, without it,
NumPy over all of a batch's tokens at once. The two give the same columns, and the
tests compare both with scikit-learn's.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np
import scipy.sparse as sp

from spamsift.features.entries import Entries, stack

try:
    from spamsift._speedups import token_columns as _c_token_columns
except ImportError:  # built without a C compiler: the NumPy path gives the same columns
    _c_token_columns = None

__all__ = ["murmurhash3_32", "token_columns", "count_entries", "count_matrix", "HAVE_C"]

#: Whether the C loop is in use.
HAVE_C = _c_token_columns is not None

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_M32 = 0xFFFFFFFF


def murmurhash3_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3_x86_32 of ``data`` as a signed int, in plain Python: the reference.

    >>> murmurhash3_32(b"foo"), murmurhash3_32(b"")
    (-156908512, 0)
    """
    def rotl(x: int, r: int) -> int:
        return ((x << r) | (x >> (32 - r))) & _M32

    h = seed & _M32
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = rotl((k * 0xCC9E2D51) & _M32, 15) * 0x1B873593 & _M32
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & _M32
    tail = data[n:]
    if tail:
        k = int.from_bytes(tail, "little")
        h ^= rotl((k * 0xCC9E2D51) & _M32, 15) * 0x1B873593 & _M32
    h ^= len(data) & _M32
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & _M32
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _numpy_columns(tokens: Sequence[str], n_features: int) -> np.ndarray:
    """:func:`token_columns` over every token at once: one pass per 4-byte block index,
    over the tokens that long (longest first, so each pass is a prefix)."""
    raw = [str.encode(t, "utf-8", "surrogatepass") for t in tokens]  # TypeError unless str
    lens = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
    order = np.argsort(-lens, kind="stable")
    lens_sorted = lens[order]
    starts = np.zeros(len(raw), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    starts = starts[order]
    # Three zero bytes of padding: a tail read past a token's end reads zeros or the
    # next token's bytes, masked off below.
    buf = np.frombuffer(b"".join(raw) + b"\0\0\0", dtype=np.uint8).astype(np.uint32)
    h = np.zeros(len(raw), dtype=np.uint32)
    n_blocks = lens_sorted // 4
    for b in range(int(n_blocks[0]) if len(raw) else 0):
        m = int(np.searchsorted(-n_blocks, -b, side="left"))  # tokens with > b blocks
        at = starts[:m] + 4 * b
        k = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)
        k = _rotl(k * _C1, 15) * _C2
        h[:m] = _rotl(h[:m] ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
    rest = lens_sorted % 4
    tail = np.flatnonzero(rest)
    if tail.size:
        at = starts[tail] + 4 * n_blocks[tail]
        k = np.zeros(tail.size, dtype=np.uint32)
        for j in range(3):
            k |= np.where(rest[tail] > j, buf[at + j] << np.uint32(8 * j), np.uint32(0))
        h[tail] ^= _rotl(k * _C1, 15) * _C2
    h ^= lens_sorted.astype(np.uint32)
    h = (h ^ (h >> np.uint32(16))) * np.uint32(0x85EBCA6B)
    h = (h ^ (h >> np.uint32(13))) * np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    cols = np.empty(len(raw), dtype=np.int32)
    cols[order] = np.abs(h.view(np.int32).astype(np.int64)) % n_features
    return cols


def token_columns(tokens: Sequence[str], n_features: int) -> np.ndarray:
    """The column (int32) of each token among ``n_features``.

    >>> token_columns(["foo", "subj:free"], 2**20).tolist()
    [670688, 220750]
    """
    if _c_token_columns is not None:
        return np.frombuffer(_c_token_columns(tokens, n_features), dtype=np.int32)
    return _numpy_columns(tokens, n_features)


def count_entries(rows: Sequence[Sequence[str]], n_features: int, offset: int = 0
                  ) -> Entries:
    """How often each column's tokens occur in each row, as entries (columns sorted
    within a row, none repeated, shifted by ``offset``)."""
    lens = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    row_of = np.repeat(np.arange(len(rows), dtype=np.int64), lens)
    cols = token_columns(list(chain.from_iterable(rows)), n_features)
    keys, counts = np.unique(row_of * n_features + cols, return_counts=True)
    return Entries(keys // n_features, keys % n_features + offset, counts.astype(np.float64))


def count_matrix(rows: Sequence[Sequence[str]], n_features: int) -> sp.csr_matrix:
    """How often each column's tokens occur in each row: ``FeatureHasher.transform``'s
    matrix (float64 counts, each row's columns sorted, none repeated).

    >>> count_matrix([["a", "b", "a"], []], 8).toarray().tolist()
    [[0.0, 0.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    """
    return stack([count_entries(rows, n_features)], len(rows), n_features)
