"""Raw bytes -> hashed byte n-gram presence: evidence that needs no parser.

The TREC spam track's strongest filters read the raw message, headers included,
as overlapping byte n-grams (Sculley and Wachman, "Relaxed online SVMs for spam
filtering", SIGIR 2007: binary 4-grams of the first 3,000 bytes, L2-normalised).
They need no parse, so they see what a parse hides: MIME and HTML layout, the
shape of encodings, misspelt header names.

Everything is computed over one byte buffer per slice of a batch with NumPy:
the n-gram at each position as an integer (its bytes in a uint64), mixed by
MurmurHash3's 64-bit finaliser, the top ``hash_bits`` bits as the column, each
row's columns sorted and deduplicated in one padded 2-D array, one CSR matrix.
No Python loop runs per n-gram, only per message (the window cut) and per byte
of n (building the codes).

:func:`ByteNgrams.clues` maps columns back to the n-grams of one message that
fell into them and to where they came from: ``("hdr:Subject", "FREE")``,
``("body", "viagra")``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp

from spamsift.estimator import Estimator, TransformerMixin
from spamsift.exceptions import InputError
from spamsift.parse.identity import strip_mbox_from

if TYPE_CHECKING:
    from sklearn.utils import Tags

__all__ = ["ByteNgrams", "ByteClue", "ngram_column"]

_M64 = (1 << 64) - 1
_C1, _C2 = 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53  # MurmurHash3 fmix64
_WS_BYTES = b" \t\n\v\f\r"
_IS_WS = np.zeros(256, dtype=bool)
_IS_WS[list(_WS_BYTES)] = True
_LOWER = np.arange(256, dtype=np.uint8)
_LOWER[ord("A"):ord("Z") + 1] += 32
# Padded bytes per slice of a batch: sizes the temporary arrays (~40 bytes per
# input byte), not the result.
_CHUNK_BYTES = 1 << 20
# The largest window: a batch's temporaries take ~60 bytes per byte read (10 MB
# read whole peaked at 630 MB here), and no TREC filter read past a few kilobytes.
_MAX_WINDOW = 1 << 20
_PAD = np.uint32(2**32 - 1)  # past any column
# A field name as the parser reads it (spamsift.parse.mime): printable, no colon.
_FIELD = re.compile(rb"([!-9;-~]{1,200})[ \t]*:")
_SPACES = re.compile(rb"[ \t\n\v\f\r]+")
# How far a clue's word may reach either side of its n-gram.
_WORD_REACH = 30


def ngram_column(ngram: bytes, hash_bits: int) -> int:
    """The column of one n-gram, in plain Python: the reference the NumPy path must equal.

    Examples
    --------
    >>> 0 <= ngram_column(b"free", 20) < 2**20
    True
    """
    x = int.from_bytes(ngram, "big")
    x ^= x >> 33
    x = (x * _C1) & _M64
    x ^= x >> 33
    x = (x * _C2) & _M64
    x ^= x >> 33
    return x >> (64 - hash_bits)


def _columns(codes: np.ndarray, hash_bits: int) -> np.ndarray:
    """:func:`ngram_column` over a uint64 array (arrays wrap on overflow, as wanted)."""
    x = codes ^ (codes >> np.uint64(33))
    x *= np.uint64(_C1)
    x ^= x >> np.uint64(33)
    x *= np.uint64(_C2)
    x ^= x >> np.uint64(33)
    return (x >> np.uint64(64 - hash_bits)).astype(np.int64)


class ByteClue(NamedTuple):
    """One n-gram of a message that fell into a column, and where it came from."""

    column: int
    ngram: bytes  # as hashed: after lower-casing and whitespace collapse
    where: str    # "hdr:<Field-Name>", "hdr" (a header line without a name) or "body"
    word: str     # the raw text around the n-gram, out to whitespace
    offset: int   # where the n-gram starts in the message as given

    @property
    def label(self) -> tuple[str, str]:
        return self.where, self.word


class ByteNgrams(TransformerMixin, Estimator):
    """Stateless transformer from raw messages (bytes) to hashed byte n-gram presence.

    The window is the first ``max_bytes`` bytes of the message after its mbox
    ``From`` line (storage, not mail); a CR before LF is dropped, so mail read from
    disk and mail off the wire give the same n-grams. Messages shorter than
    ``ngram_size`` after that give an empty row.

    Parameters
    ----------
    ngram_size : int
        Bytes per n-gram, 1 to 8 (an n-gram is held as one uint64).
    max_bytes : int
        How much of each message is read, at most 1 MiB.
    hash_bits : int
        log2 of the number of columns, 1 to 31.
    binary : bool
        Presence (1) rather than counts.
    norm : {"l2", "l1"} or None
        Row normalisation.
    lowercase : bool
        Fold ASCII A-Z to a-z before cutting n-grams.
    collapse_whitespace : bool
        Read every run of ASCII whitespace as one space.

    Examples
    --------
    >>> X = ByteNgrams(hash_bits=10).transform([b"Subject: hi\\n\\nhello", b""])
    >>> X.shape, X[1].nnz
    ((2, 1024), 0)
    """

    # Chosen in benchmarks/bytegrams_cv.py (docs/experiments.md, "Byte n-grams"):
    # LinearSVC C=100 on the block alone, 5-fold CV on each split's training rows,
    # (1-ROCA)% random / temporal (the token model: 0.034 / 0.017).
    # - max_bytes 1500, 3000, 6000 (n 4, 20 bits): 0.037 / 0.013, 0.028 / 0.006,
    #   0.019 / 0.006. At 1500, mostly headers, the newest 20 % of the temporal
    #   training rows fell to 0.58 (3000: 0.000; 6000: 0.009, one pair of 17 x 624).
    #   6000 costs speed: 6,400 messages/s against 10,400 (parse: 1,800).
    # - ngram_size 3, 4, 5 (6000 bytes): 0.020 / 0.005, 0.019 / 0.006, 0.021 / 0.005:
    #   within noise; kept TREC's 4.
    # - hash_bits 18, 20, 22: 0.020, 0.019, 0.018 random: within noise; 20 leaves
    #   room for a site's larger vocabulary.
    # - lowercase off / on: 0.022 / 0.007 -> 0.019 / 0.006, on. collapse_whitespace:
    #   0.020 / 0.007, no gain, off.
    def __init__(self, ngram_size: int = 4, max_bytes: int = 6000, hash_bits: int = 20,
                 binary: bool = True, norm: str | None = "l2", lowercase: bool = True,
                 collapse_whitespace: bool = False):
        self.ngram_size = ngram_size
        self.max_bytes = max_bytes
        self.hash_bits = hash_bits
        self.binary = binary
        self.norm = norm
        self.lowercase = lowercase
        self.collapse_whitespace = collapse_whitespace

    @property
    def n_features(self) -> int:
        return 2**self.hash_bits

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _validate(self) -> None:
        for name, hi in (("ngram_size", 8), ("max_bytes", _MAX_WINDOW), ("hash_bits", 31)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 1 <= v <= hi:
                raise ValueError(f"{name} must be an int 1 to {hi:,}, got {v!r}")
        if self.norm not in ("l2", "l1", None):
            raise ValueError(f"norm must be 'l2', 'l1' or None, got {self.norm!r}")

    def fit(self, X: object = None, y: object = None) -> ByteNgrams:
        self._validate()
        return self

    def transform(self, X: Iterable[bytes]) -> sp.csr_matrix:
        self._validate()
        if isinstance(X, bytes | bytearray | memoryview | str):
            raise InputError(f"expected an iterable of messages (bytes), got a single "
                             f"{type(X).__name__}; wrap it in a list")
        windows = []
        for i, m in enumerate(X):
            if not isinstance(m, bytes | bytearray | memoryview):
                raise InputError(f"expected raw messages as bytes, got {type(m).__name__} "
                                 f"at position {i}")
            windows.append(self._window(bytes(m))[0])
        # Slices whose padded rows (see _matrix) hold about _CHUNK_BYTES cells.
        parts, longest, first = [], 1, 0
        for i, w in enumerate(windows):
            longest = max(longest, len(w))
            if (i + 1 - first) * longest >= _CHUNK_BYTES:
                parts.append(self._matrix(windows[first:i + 1]))
                first, longest = i + 1, 1
        if first < len(windows) or not parts:
            parts.append(self._matrix(windows[first:]))
        return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")

    # -- the vectorised path ----------------------------------------------------------
    def _window(self, data: bytes) -> tuple[bytes, int]:
        """The bytes read, and where they start in ``data``."""
        body = strip_mbox_from(data)
        return body[: self.max_bytes], len(data) - len(body)

    def _prepare(self, windows: Sequence[bytes], with_origin: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One buffer of the normalised windows, each row's start (n + 1 entries), and
        (``with_origin``) the offset in its window each kept byte came from."""
        lens = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
        starts = np.zeros(len(windows) + 1, dtype=np.int64)
        np.cumsum(lens, out=starts[1:])
        buf = np.frombuffer(b"".join(windows), dtype=np.uint8)
        origin = (np.arange(buf.size, dtype=np.int64) - np.repeat(starts[:-1], lens)
                  if with_origin else None)
        if self.lowercase:
            buf = _LOWER[buf]
        drop = np.zeros(buf.size, dtype=bool)
        nonempty = lens > 0
        if self.collapse_whitespace:
            # Each run becomes its first byte, as a space; CRLF is a run like any other.
            ws = _IS_WS[buf]
            buf = np.where(ws, np.uint8(32), buf)
            drop[1:] = ws[1:] & ws[:-1]
            drop[starts[:-1][nonempty]] = False  # a run does not reach back into the last row
        else:
            drop[:-1] = (buf[:-1] == 13) & (buf[1:] == 10)
            drop[starts[1:][nonempty] - 1] = False  # nor a CR forward into the next
        if drop.any():
            keep = ~drop
            kept = np.zeros(buf.size + 1, dtype=np.int64)
            np.cumsum(keep, out=kept[1:])
            starts = kept[starts]
            buf = buf[keep]
            origin = None if origin is None else origin[keep]
        return buf, starts, origin

    def _codes(self, buf: np.ndarray, starts: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each n-gram's code (its bytes as one big-endian integer), row and rank in its row."""
        n = self.ngram_size
        count = np.maximum(np.diff(starts) - n + 1, 0)
        rows = np.repeat(np.arange(count.size), count)
        first = np.zeros(count.size + 1, dtype=np.int64)
        np.cumsum(count, out=first[1:])
        rank = np.arange(rows.size) - first[rows]
        if rows.size == 0:
            return np.zeros(0, dtype=np.uint64), rows, rank
        # Shifted slices over the whole buffer, then one gather: 2x faster here than
        # gathering each byte of each n-gram.
        m = buf.size - n + 1
        b = buf.astype(np.uint64)
        codes = b[:m].copy()
        for k in range(1, n):
            codes <<= np.uint64(8)
            codes |= b[k:k + m]
        return codes[starts[rows] + rank], rows, rank

    def _matrix(self, windows: Sequence[bytes]) -> sp.csr_matrix:
        buf, starts, _ = self._prepare(windows)
        codes, rows, rank = self._codes(buf, starts)
        n_rows = len(windows)
        # Each row's columns sorted in a padded 2-D array: NumPy's vectorised sort of
        # many short rows ran 3-4x faster here than one sort of (row, column) keys.
        width = int(rank.max()) + 1 if rank.size else 0
        grid = np.full((n_rows, width), _PAD, dtype=np.uint32)
        grid.ravel()[rows * width + rank] = _columns(codes, self.hash_bits)
        grid.sort(axis=1)
        flat = grid.ravel()
        new = flat != _PAD
        new[1:] &= flat[1:] != flat[:-1]
        new[::max(width, 1)] = flat[::max(width, 1)] != _PAD  # a row's first column is new
        at = np.flatnonzero(new)
        r = at // max(width, 1)
        if self.binary:
            data = np.ones(at.size)
        else:
            seen = np.zeros(flat.size + 1, dtype=np.int64)
            np.cumsum(flat != _PAD, out=seen[1:])
            data = np.diff(seen[np.append(at, flat.size)]).astype(np.float64)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
        if self.norm is not None:
            size = np.bincount(r, weights=data * data if self.norm == "l2" else data,
                               minlength=n_rows)
            if self.norm == "l2":
                size = np.sqrt(size)
            data /= size[r]
        cols = flat[at].astype(np.int32)
        return sp.csr_matrix((data, cols, indptr), shape=(n_rows, self.n_features))

    # -- clues -----------------------------------------------------------------------
    def clues(self, message: bytes, columns: Iterable[int]) -> dict[int, list[ByteClue]]:
        """The n-grams of ``message`` behind each of ``columns``, and where they came from.

        For reading a model's heaviest columns as evidence. Each n-gram is named by
        the header field it lies in (``hdr:Subject``; a header line is read as
        :func:`spamsift.parse.parse_message` reads one) or ``body``, and by the raw
        text around it out to whitespace (at most 30 bytes either side; whitespace
        inside shown as one space). Identical (n-gram, where, word) triples are
        listed once, in order of appearance; a column the message does not touch
        maps to an empty list.

        Examples
        --------
        >>> bg = ByteNgrams(hash_bits=16)
        >>> msg = b"Subject: FREE pills\\n\\nbuy viagra"
        >>> col = ngram_column(b"agra", 16)
        >>> [c.label for c in bg.clues(msg, [col])[col]]
        [('body', 'viagra')]
        """
        self._validate()
        wanted = {int(c) for c in columns}
        out: dict[int, list[ByteClue]] = {c: [] for c in wanted}
        window, shift = self._window(bytes(message))
        buf, starts, origin = self._prepare([window], with_origin=True)
        assert origin is not None
        codes, rows, rank = self._codes(buf, starts)
        pos = starts[rows] + rank
        cols = _columns(codes, self.hash_bits)
        hit = np.flatnonzero(np.isin(cols, np.fromiter(wanted, dtype=np.int64)))
        if hit.size == 0:
            return out
        fields, header_end = _header_fields(window)
        field_starts = [f[0] for f in fields]
        n = self.ngram_size
        seen: set[tuple[int, bytes, str, str]] = set()
        for h in hit:
            p = int(pos[h])
            lo, hi = int(origin[p]), int(origin[p + n - 1]) + 1
            ngram = buf[p:p + n].tobytes()
            where, word = _locate(window, lo, hi, fields, field_starts, header_end)
            key = (int(cols[h]), ngram, where, word)
            if key not in seen:
                seen.add(key)
                out[key[0]].append(ByteClue(key[0], ngram, where, word, lo + shift))
        return out


def _header_fields(data: bytes) -> tuple[list[tuple[int, str]], int]:
    """Start offset and name of each top-level header line, and where the header block ends.

    As the parser reads it: the block ends at a blank line or at the first line that
    is neither a field nor a continuation; a line that starts with space or tab
    continues the field above.
    """
    fields: list[tuple[int, str]] = []
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        end = len(data) if nl < 0 else nl + 1
        line = data[pos:end]
        if line.strip(b"\r\n") == b"":
            return fields, pos
        if line[:1] in (b" ", b"\t"):
            if not fields:
                fields.append((pos, ""))
        else:
            m = _FIELD.match(line)
            if m is None:
                return fields, pos
            fields.append((pos, m.group(1).decode("ascii")))
        pos = end
    return fields, pos


def _locate(data: bytes, lo: int, hi: int, fields: list[tuple[int, str]],
            field_starts: list[int], header_end: int) -> tuple[str, str]:
    """Where the span ``data[lo:hi]`` lies, and the raw word (or words) around it."""
    a, b = lo, hi
    while a < b and data[a] in _WS_BYTES:
        a += 1
    while b > a and data[b - 1] in _WS_BYTES:
        b -= 1
    if a == b:  # whitespace only: show it as it is
        a, b = lo, hi
    else:
        floor, ceil = max(0, a - _WORD_REACH), min(len(data), b + _WORD_REACH)
        while a > floor and data[a - 1] not in _WS_BYTES:
            a -= 1
        while b < ceil and data[b] not in _WS_BYTES:
            b += 1
    word = _SPACES.sub(b" ", data[a:b]).decode("utf-8", "replace")
    if a >= header_end or not fields:
        return "body", word
    name = fields[bisect_right(field_starts, a) - 1][1]
    return (f"hdr:{name}" if name else "hdr"), word
