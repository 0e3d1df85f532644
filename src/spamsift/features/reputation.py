"""Sender reputation: the smoothed spam rate of a sender, domain or relay network.

Keys arrive hashed into one column block per key kind (see the featurizer), so the
learned state is two count vectors per kind: spam and ham messages seen with each
bucket. A rate is ``(spam + m * prior) / (spam + ham + m)`` (m-estimate), then one-hot
binned together with how often the key was seen, which works for linear models and
for Naive Bayes alike. Counts make feedback cheap: one message, one increment.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
import scipy.sparse as sp

from spamsift.estimator import Estimator, TransformerMixin, check_fitted

__all__ = ["SenderReputation"]

# Rate bins: the edges say "nearly always ham" ... "nearly always spam".
_RATE_EDGES = np.array([0.02, 0.1, 0.3, 0.7, 0.9, 0.98])
# Seen once, a few times, often: a key seen 50 times is stronger evidence.
_COUNT_EDGES = np.array([1.5, 5.5])
_N_RATE = len(_RATE_EDGES) + 1
_N_COUNT = len(_COUNT_EDGES) + 1
_PER_KIND = 1 + _N_RATE * _N_COUNT  # column 0: key absent or never seen


class SenderReputation(TransformerMixin, Estimator):
    """Smoothed spam rates per hashed key, learned from labels.

    ``fit_transform`` encodes each training row with counts from the *other* folds
    (cross-fitting, as scikit-learn's ``TargetEncoder`` does), so a sender's own
    label never leaks into its training features.

    Parameters
    ----------
    n_kinds : int
        Number of key blocks in the input (from_addr, from_domain, relay_net).
    smoothing : float
        m of the m-estimate: pseudo-messages at the prior rate.
    cv : int
        Folds for cross-fitting.
    random_state : int
        Seed of the fold split.
    """

    def __init__(self, n_kinds: int = 3, smoothing: float = 2.0, cv: int = 5,
                 random_state: int = 0):
        self.n_kinds = n_kinds
        self.smoothing = smoothing
        self.cv = cv
        self.random_state = random_state

    @property
    def n_output(self) -> int:
        return self.n_kinds * _PER_KIND

    def _counts(self, X: sp.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.asarray(y, dtype=np.float64)
        spam = np.asarray(X.T @ y).ravel()
        ham = np.asarray(X.T @ (1.0 - y)).ravel()
        return spam, ham

    def _check_Xy(self, X: object, y: object) -> tuple[sp.csr_matrix, np.ndarray]:
        X = sp.csr_matrix(X)
        y = np.asarray(y).ravel()
        if len(y) != X.shape[0]:
            raise ValueError(f"y has {len(y)} labels for {X.shape[0]} rows of X")
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"y must hold 0 (ham) and 1 (spam), got {np.unique(y)[:5]}")
        return X, y.astype(np.int64)

    def fit(self, X: sp.csr_matrix, y: np.ndarray) -> SenderReputation:
        if not self.smoothing > 0:
            raise ValueError(f"smoothing must be > 0, got {self.smoothing!r}")
        if not isinstance(self.n_kinds, Integral) or self.n_kinds < 1:
            raise ValueError(f"n_kinds must be an int >= 1, got {self.n_kinds!r}")
        X, y = self._check_Xy(X, y)
        if X.shape[1] % self.n_kinds:
            raise ValueError(f"{X.shape[1]} columns do not split into {self.n_kinds} kinds")
        self.spam_, self.ham_ = self._counts(X, y)
        self.prior_ = float(np.mean(y)) if len(y) else 0.5
        self.n_features_in_ = X.shape[1]
        return self

    def set_counts(self, spam: np.ndarray, ham: np.ndarray, prior: float) -> SenderReputation:
        """Install learned counts (a model file's, or zeros to learn from nothing) as
        :meth:`fit` would have learned them.

        Raises
        ------
        ValueError
            Counts of two lengths, or a length that does not split into ``n_kinds``.
        """
        spam = np.asarray(spam, dtype=np.float64)
        ham = np.asarray(ham, dtype=np.float64)
        if spam.ndim != 1 or spam.shape != ham.shape or spam.shape[0] % self.n_kinds:
            raise ValueError(f"reputation counts: expected two vectors of one length that "
                             f"splits into {self.n_kinds} kinds, got shapes {spam.shape} "
                             f"and {ham.shape}")
        self.spam_, self.ham_, self.prior_ = spam, ham, float(prior)
        self.n_features_in_ = spam.shape[0]
        return self

    def partial_fit(self, X: sp.csr_matrix, y: np.ndarray, sample_weight: float = 1.0
                    ) -> SenderReputation:
        """Add (or, with ``sample_weight=-1``, remove) labelled messages.

        Only the counts move; ``prior_`` stays the rate of the data ``fit`` saw.
        """
        check_fitted(self, "spam_")
        X, y = self._check_Xy(X, y)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} columns, expected {self.n_features_in_}")
        spam, ham = self._counts(X, y)
        self.spam_ = np.maximum(self.spam_ + sample_weight * spam, 0)
        self.ham_ = np.maximum(self.ham_ + sample_weight * ham, 0)
        return self

    def fit_transform(self, X: sp.csr_matrix, y: np.ndarray | None = None, **_: object
                      ) -> sp.csr_matrix:
        """Fit on all rows; encode each row with counts from the other folds only."""
        if y is None:
            raise ValueError("SenderReputation.fit_transform needs labels y")
        if not isinstance(self.cv, Integral) or self.cv < 2:
            raise ValueError(f"cv must be an int >= 2, got {self.cv!r}")
        self.fit(X, y)
        X, y = self._check_Xy(X, y)
        n = len(y)
        if n < 2:
            # Nothing else to learn from: every key is unknown to its own row.
            zeros = np.zeros_like(self.spam_)
            return self._encode(X, zeros, zeros, self.prior_)
        from sklearn.model_selection import KFold, StratifiedKFold  # fitting only

        if np.bincount(y, minlength=2).min() >= self.cv:
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
        else:
            # One class, or too few of one to stratify: plain folds still keep
            # each row's own label out of its encoding.
            folds = KFold(min(self.cv, n), shuffle=True, random_state=self.random_state)
        parts = []
        for tr, te in folds.split(np.zeros(n), y):
            spam, ham = self._counts(X[tr], y[tr])
            parts.append((te, self._encode(X[te], spam, ham, float(np.mean(y[tr])))))
        out = sp.vstack([p for _, p in parts]).tocsr()
        order = np.concatenate([te for te, _ in parts])
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        return out[inv]

    def transform(self, X: sp.csr_matrix) -> sp.csr_matrix:
        check_fitted(self, "spam_")
        X = sp.csr_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} columns, expected {self.n_features_in_}")
        return self._encode(X, self.spam_, self.ham_, self.prior_)

    def _encode(self, X: sp.csr_matrix, spam: np.ndarray, ham: np.ndarray, prior: float
                ) -> sp.csr_matrix:
        n = X.shape[0]
        rows = np.repeat(np.arange(n), np.diff(X.indptr))
        buckets = self.key_buckets(rows, X.indices, n, X.shape[1] // self.n_kinds)
        cols = self._columns(buckets, spam, ham, prior)
        return sp.csr_matrix((np.ones(cols.size), cols.ravel(),
                              np.arange(0, cols.size + 1, self.n_kinds)),
                             shape=(n, self.n_output))

    def key_buckets(self, rows: np.ndarray, cols: np.ndarray, n_rows: int, width: int
                    ) -> np.ndarray:
        """Each row's key bucket in each kind's block, -1 where it has none: from the
        stored entries (``rows``, ``cols`` within the key blocks, in storage order) of a
        matrix with ``width`` columns per kind. A row holds at most one key per kind;
        should it hold more, its first is read."""
        kind = cols // width
        first_of, first = np.unique(rows * self.n_kinds + kind, return_index=True)
        buckets = np.full(n_rows * self.n_kinds, -1, dtype=np.int64)
        buckets[first_of] = cols[first] - kind[first] * width
        return buckets.reshape(n_rows, self.n_kinds)

    def bucket_columns(self, buckets: np.ndarray) -> np.ndarray:
        """:meth:`transform`'s output column for each row and kind, from
        :meth:`key_buckets`: what the classifier reads without building the matrix."""
        check_fitted(self, "spam_")
        return self._columns(buckets, self.spam_, self.ham_, self.prior_)

    def _columns(self, buckets: np.ndarray, spam: np.ndarray, ham: np.ndarray, prior: float
                 ) -> np.ndarray:
        width = spam.shape[0] // self.n_kinds
        has = buckets >= 0
        at = np.where(has, buckets, 0) + np.arange(self.n_kinds) * width
        s = np.where(has, spam[at], 0.0)
        h = np.where(has, ham[at], 0.0)
        seen = s + h
        rate = (s + self.smoothing * prior) / (seen + self.smoothing)
        rb = np.searchsorted(_RATE_EDGES, rate)
        cb = np.searchsorted(_COUNT_EDGES, seen)
        return (np.where(seen > 0, 1 + rb * _N_COUNT + cb, 0)
                + np.arange(self.n_kinds) * _PER_KIND)

    def column_label(self, j: int, kinds: tuple[str, ...]) -> str:
        """A readable name for output column ``j``."""
        k, rest = divmod(j, _PER_KIND)
        kind = kinds[k] if k < len(kinds) else str(k)
        if rest == 0:
            return f"rep:{kind}:unknown"
        rb, cb = divmod(rest - 1, _N_COUNT)
        lo = 0.0 if rb == 0 else _RATE_EDGES[rb - 1]
        hi = 1.0 if rb >= len(_RATE_EDGES) else _RATE_EDGES[rb]
        seen = ("once", "2-5", "6+")[cb]
        return f"rep:{kind}:spam_rate {lo:.2f}-{hi:.2f} seen {seen}"
