"""Raw messages -> one sparse matrix with three column blocks.

``[ hashed tokens | structural numbers | sender-reputation keys ]``

All three are stateless, so the matrix is computed once per message and every
cross-validation fold, search candidate and model reuses it; what is learned
from labels (token weights, bin edges, reputation tables) lives in the
classifier, fitted on training rows only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from spamsift.config import ParseLimits
from spamsift.estimator import Estimator, TransformerMixin
from spamsift.exceptions import InputError
from spamsift.features.bytegrams import ByteNgrams
from spamsift.features.entries import Entries, csr_entries, dense_entries, stack
from spamsift.features.hashing import count_entries, token_columns
from spamsift.features.structure import DEFAULT_KEYWORDS, structure_names, structure_vector
from spamsift.features.tokens import host_suffixes, normalised_body, tokenize
from spamsift.parse import ParsedMessage, parse_message

__all__ = ["MessageFeaturizer", "Layout", "REPUTATION_KEYS", "reputation_keys", "without_trace"]

#: What sender reputation is kept for, in column-block order.
REPUTATION_KEYS = ("from_addr", "from_domain", "relay_net")
_PRIVATE = re.compile(r"^(?:10\.|127\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|0\.)")


@dataclass(frozen=True)
class Layout:
    """Where each block of the feature matrix starts and ends."""

    n_tokens: int
    n_structure: int
    n_rep_per_key: int
    n_bytes: int = 0  # the byte n-gram block, last; 0 when the featurizer has none

    @property
    def tokens(self) -> slice:
        return slice(0, self.n_tokens)

    @property
    def structure(self) -> slice:
        return slice(self.n_tokens, self.n_tokens + self.n_structure)

    def reputation(self, k: int) -> slice:
        start = self.n_tokens + self.n_structure + k * self.n_rep_per_key
        return slice(start, start + self.n_rep_per_key)

    @property
    def bytes(self) -> slice:
        start = self.n_tokens + self.n_structure + len(REPUTATION_KEYS) * self.n_rep_per_key
        return slice(start, start + self.n_bytes)

    @property
    def n_features(self) -> int:
        return self.bytes.stop


# Header fields the receiving site writes (delivery path, its own filters' verdicts):
# read by the byte n-grams only with site evidence on. In the SpamAssassin corpus they
# carried most of the byte block's lead: with them stripped its CV (1-ROCA)% went
# 0.019 -> 0.037 (random) and 0.006 -> 0.036 (temporal), its heaviest clue
# "Delivered-To: zzzz@localhost.spamassassin.taint." (in 458 of 500 spam of 2002).
_TRACE = re.compile(rb"(?im)^(?:received|return-path|delivered-to|x-original-to|envelope-to|"
                    rb"x-envelope-[a-z-]*|x-spam-[a-z-]*|x-virus-[a-z-]*|x-mailscanner[a-z-]*)"
                    rb"[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*")


def without_trace(head: bytes) -> bytes:
    r"""``head`` with the header fields the receiving site writes removed (the body,
    after the first blank line, untouched).

    >>> without_trace(b"Received: by mx\n\tid 1\nSubject: hi\n\nReceived: in the body\n")
    b'Subject: hi\n\nReceived: in the body\n'
    """
    end = head.find(b"\n\n")
    if end < 0:
        end = head.find(b"\n\r\n")
    block, rest = (head, b"") if end < 0 else (head[: end + 1], head[end + 1:])
    return _TRACE.sub(b"", block) + rest


def reputation_keys(msg: ParsedMessage) -> tuple[str, str, str]:
    """Sender address, sender registrable domain, first external relay's /24."""
    dom = host_suffixes(msg.from_domain, 2)
    relay = ""
    for hop in msg.received:
        ip = hop.from_ip
        if ip and not _PRIVATE.match(ip):
            relay = ip.rpartition(".")[0]
            break
    return msg.from_addr, dom[0] if dom else msg.from_domain, relay


def _key_entries(keys: list[tuple[str, str, str]], lay: Layout) -> Entries:
    """The reputation blocks of rows whose keys are ``keys``: a 1 at each present key's
    hashed column, in row order and block order within a row. Hashed in one call, and
    not counted (a row has one of each key): ``count_entries`` per block was 0.08 ms a
    call, a tenth of a batch of 8's features."""
    n_keys = len(REPUTATION_KEYS)
    flat = [k for row in keys for k in row]
    at = np.flatnonzero(np.fromiter(map(bool, flat), dtype=bool, count=len(flat)))
    cols = token_columns(flat, lay.n_rep_per_key)[at].astype(np.int64)
    kind = at % n_keys
    return Entries(at // n_keys, cols + lay.reputation(0).start + kind * lay.n_rep_per_key,
                   np.ones(len(at)))


class MessageFeaturizer(TransformerMixin, Estimator):
    """Stateless transformer from raw bytes (or ParsedMessage) to the feature matrix.

    Parameters
    ----------
    token_bits : int
        log2 of the hashed token space. 2**20 keeps collisions rare at corpus scale.
    reputation_bits : int
        log2 of each reputation key block.
    keywords : sequence of str
        Words whose frequency is a structural feature.
    limits : ParseLimits or None
        Parsing caps.
    site_evidence : bool
        Whether tokens that name the receiving site (recipient domains, relays) are
        made; off for a model meant for any site (:func:`~spamsift.features.tokens.header_tokens`).
    byte_bits : int
        log2 of the byte n-gram block (:class:`~spamsift.features.bytegrams.ByteNgrams`
        over :attr:`ParsedMessage.head`), appended last; 0: no block.
    byte_ngram, byte_window : int
        Its n-gram size and how many bytes of each message it reads.
    """

    def __init__(self, token_bits: int = 20, reputation_bits: int = 16,
                 keywords: Sequence[str] = DEFAULT_KEYWORDS,
                 limits: ParseLimits | None = None, site_evidence: bool = True,
                 byte_bits: int = 0, byte_ngram: int = 4, byte_window: int = 3000):
        self.token_bits = token_bits
        self.reputation_bits = reputation_bits
        self.keywords = keywords
        self.limits = limits
        self.site_evidence = site_evidence
        self.byte_bits = byte_bits
        self.byte_ngram = byte_ngram
        self.byte_window = byte_window

    @property
    def layout(self) -> Layout:
        return Layout(2**self.token_bits, len(structure_names(self.keywords)),
                      2**self.reputation_bits, 2**self.byte_bits if self.byte_bits else 0)

    def narrowed(self, X: sp.csr_matrix, token_bits: int
                 ) -> tuple[MessageFeaturizer, sp.csr_matrix]:
        """This featurizer with ``token_bits`` (at most its own) and ``X``, its output,
        as that featurizer would have made it.

        Exact, not an approximation: a token's column is ``|hash| mod 2**bits``, and
        for powers of two ``(h mod 2**a) mod 2**b`` is ``h mod 2**b``; tokens that
        come to share a column add their counts, as hashing them there does. So a
        training set featurised once, wide, can be given the table its vocabulary needs.
        """
        if not 0 < token_bits <= self.token_bits:
            raise ValueError(f"token_bits must be in 1..{self.token_bits}, got {token_bits!r}")
        narrow = MessageFeaturizer(**{**self.get_params(), "token_bits": token_bits})
        X = sp.csr_matrix(X)
        wide_n, narrow_n = self.layout.n_tokens, narrow.layout.n_tokens
        cols = X.indices.astype(np.int64)
        cols = np.where(cols < wide_n, cols & (narrow_n - 1), cols - wide_n + narrow_n)
        out = sp.csr_matrix((X.data, cols, X.indptr),
                            shape=(X.shape[0], narrow.layout.n_features))
        out.sum_duplicates()  # also sorts each row's columns
        return narrow, out

    @property
    def byte_ngrams(self) -> ByteNgrams | None:
        """The byte n-gram transformer of the last block, or None without one."""
        if not self.byte_bits:
            return None
        return ByteNgrams(ngram_size=self.byte_ngram, max_bytes=self.byte_window,
                          hash_bits=self.byte_bits)

    def fit(self, X: object = None, y: object = None) -> MessageFeaturizer:
        return self

    def parse(self, item: bytes | ParsedMessage) -> ParsedMessage:
        if isinstance(item, ParsedMessage):
            return item
        return parse_message(item, self.limits)

    def transform(self, X: Iterable[bytes | ParsedMessage]) -> sp.csr_matrix:
        if isinstance(X, bytes | bytearray | str | ParsedMessage):
            # Iterating one message would featurise its bytes (or characters) one by one.
            raise InputError(f"expected an iterable of messages (bytes or ParsedMessage), "
                             f"got a single {type(X).__name__}; wrap it in a list")
        msgs = [self.parse(x) for x in X]
        return self.transform_parsed(msgs)

    def transform_parsed(self, msgs: Sequence[ParsedMessage],
                         tokens: list[list[str]] | None = None) -> sp.csr_matrix:
        """The matrix of parsed messages; ``tokens``: a list to append each message's
        tokens to (what names the clues), so that they are not made twice."""
        lay = self.layout
        if not msgs:
            return sp.csr_matrix((0, lay.n_features), dtype=np.float64)
        bodies = [normalised_body(m) for m in msgs]  # shared by tokens and structure
        site = self.site_evidence
        # Each block as entries, one matrix made at the end (features.entries).
        token_lists = [tokenize(m, b, site) for m, b in zip(msgs, bodies, strict=True)]
        if tokens is not None:
            tokens.extend(token_lists)
        blocks = [count_entries(token_lists, lay.n_tokens)]
        blocks.append(dense_entries(np.vstack([structure_vector(m, self.keywords, b[0])
                                               for m, b in zip(msgs, bodies, strict=True)]),
                                    lay.structure.start))
        blocks.append(_key_entries([reputation_keys(m) for m in msgs], lay))
        grams = self.byte_ngrams
        if grams is not None:
            heads = [m.head if site else without_trace(m.head) for m in msgs]
            blocks.append(csr_entries(grams.transform(heads), lay.bytes.start))
        return stack(blocks, len(msgs), lay.n_features)

    def token_index(self, tokens: Iterable[str]) -> dict[str, int]:
        """Column of each token, for turning weights back into readable clues."""
        toks = list(dict.fromkeys(tokens))
        return dict(zip(toks, token_columns(toks, self.layout.n_tokens).tolist(), strict=True))
