"""SpamScorer: a fitted spam classifier's weights and what is done with them.

:class:`~spamsift.models.classifier.SpamClassifier` fits a stack of linear members
and collapses it to weight vectors and a bias (that module's docstring). What a
fitted model then does, and all a loaded model file is, lives here: the logit of
new messages, the clues behind it, and learning (and unlearning) feedback through
Naive Bayes' and sender reputation's counts. It needs NumPy and SciPy's sparse
matrices only: scikit-learn, which fits the members, costs 0.6 s to import, more
than the rest of a one-message ``spamsift classify`` (docs/experiments.md, "Speed,
issue 11"). ``SpamClassifier`` is a scikit-learn estimator built on this class; a
model loaded from its file is a ``SpamScorer`` with the same parameters and
fitted attributes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from spamsift.estimator import Estimator, check_fitted
from spamsift.features.bins import bin_columns
from spamsift.features.entries import Entries, csr_entries
from spamsift.features.featurizer import REPUTATION_KEYS, Layout
from spamsift.features.reputation import SenderReputation
from spamsift.features.structure import structure_names
from spamsift.models.priors import prior_weights

__all__ = ["SpamScorer"]

# Feedback on a sender counts for its address and its domain, not its relay: one
# ISP's relay carries many senders.
_FEEDBACK_KEYS = 2


class SpamScorer(Estimator):
    """A fitted :class:`~spamsift.models.classifier.SpamClassifier`, without what fits it.

    The parameters are ``SpamClassifier``'s (documented there); the fitted attributes
    are set by its ``fit``, by :meth:`empty`, or by
    :func:`~spamsift.models.persistence.load_model`.
    """

    _estimator_type = "classifier"

    # aux_weight and C_svm: 5-fold CV (1-ROCA)% of nb+svm on the random split's training
    # part: aux 0.5/C 3 -> 0.058, 0.25/10 -> 0.052, 0.1/10 -> 0.043, 0.06/30 -> 0.040;
    # on the temporal split's training part aux 0.5 -> 0.079, 0.1 -> 0.020. Then the
    # two blocks apart (random / temporal): reputation off 0.072 / 0.026, structure off
    # 0.036 / 0.019, structure 0.03 + reputation 0.1 0.038 / 0.019. Kept 0.03 / 0.1 / 10.
    def __init__(self, model: str = "ensemble", C_lr: float = 100.0, C_svm: float = 10.0,
                 alpha_nb: float = 0.1, aux_weight: float = 0.03,
                 rep_weight: float | None = 0.1, n_bins: int = 6,
                 rep_smoothing: float = 2.0, feedback_weight: float = 0.5,
                 interaction_weight: float = 0.0,
                 inner_cv: int = 4, token_bits: int = 20,
                 n_structure: int = len(structure_names()), reputation_bits: int = 16,
                 random_state: int = 0, linear_solver: str = "liblinear",
                 conflict_gamma: float | str = 0.0, byte_bits: int = 0,
                 C_bytes: float = 1.0, byte_learning_rate: float = 0.0,
                 time_folds: bool = False, tune: bool = False,
                 tune_seconds: float = 120.0):
        self.model = model
        self.C_lr = C_lr
        self.C_svm = C_svm
        self.alpha_nb = alpha_nb
        self.aux_weight = aux_weight
        self.rep_weight = rep_weight
        self.n_bins = n_bins
        self.rep_smoothing = rep_smoothing
        self.feedback_weight = feedback_weight
        self.interaction_weight = interaction_weight
        self.inner_cv = inner_cv
        self.token_bits = token_bits
        self.n_structure = n_structure
        self.reputation_bits = reputation_bits
        self.random_state = random_state
        self.linear_solver = linear_solver
        self.conflict_gamma = conflict_gamma
        self.byte_bits = byte_bits
        self.C_bytes = C_bytes
        self.byte_learning_rate = byte_learning_rate
        self.time_folds = time_folds
        self.tune = tune
        self.tune_seconds = tune_seconds

    # -- features -----------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        return Layout(2**self.token_bits, self.n_structure, 2**self.reputation_bits,
                      2**self.byte_bits if self.byte_bits else 0)

    def _rep_block(self, X: sp.csr_matrix) -> sp.csr_matrix:
        lay = self.layout
        return X[:, lay.reputation(0).start: lay.reputation(len(REPUTATION_KEYS) - 1).stop]

    def _check_width(self, X: sp.csr_matrix) -> None:
        n = self.layout.n_features
        if X.shape[1] != n:
            raise ValueError(f"expected {n} feature columns (featurizer layout "
                             f"token_bits={self.token_bits}), got {X.shape[1]}")

    def block_weights(self) -> tuple[float, float]:
        """The structure and reputation blocks' weights: as tuned by ``fit``, else as set."""
        aux = getattr(self, "aux_weight_", self.aux_weight)
        rep = getattr(self, "rep_weight_", self.aux_weight if self.rep_weight is None
                      else self.rep_weight)
        return aux, rep

    def _interactions(self, structure: np.ndarray) -> np.ndarray:
        """Pairwise products of the standardised numbers (PolynomialFeatures' interaction
        terms), clipped to [-5, 5] so one extreme message cannot dominate."""
        if self.interaction_weight <= 0:
            return np.zeros((structure.shape[0], 0))
        z = (structure - self.structure_mean_) / self.structure_scale_
        a, b = np.triu_indices(z.shape[1], 1)
        return np.clip(z[:, a] * z[:, b], -5.0, 5.0) * self.interaction_weight

    @property
    def n_interactions(self) -> int:
        return 0 if self.interaction_weight <= 0 else self.n_structure * (self.n_structure - 1) // 2

    # -- learning from feedback ------------------------------------------------------

    @classmethod
    def empty(cls, **params: object) -> SpamScorer:
        """A fitted classifier that knows nothing yet: Naive Bayes alone, zero counts.

        For learning from scratch (``replay`` with no training rows): every label it
        is given through :meth:`partial_fit` counts at once.
        """
        clf = cls(**{"model": "nb", **params})  # type: ignore[arg-type]
        lay = clf.layout
        clf.bin_edges_ = np.full((lay.n_structure, clf.n_bins - 1), np.inf)
        rep = SenderReputation(len(REPUTATION_KEYS), clf.rep_smoothing,
                               random_state=clf.random_state)
        n_rep = len(REPUTATION_KEYS) * lay.n_rep_per_key
        rep.spam_, rep.ham_, rep.prior_, rep.n_features_in_ = (
            np.zeros(n_rep), np.zeros(n_rep), 0.5, n_rep)
        clf.reputation_ = rep
        clf.structure_mean_ = np.zeros(lay.n_structure)
        clf.structure_scale_ = np.ones(lay.n_structure)
        n = lay.n_tokens + lay.n_structure * clf.n_bins + rep.n_output + clf.n_interactions
        clf.coef_binary_ = np.zeros(n)
        clf.coef_normalized_ = np.zeros(n)
        clf.coef_bytes_ = np.zeros(lay.n_bytes)
        clf.nb_count_ = np.zeros((2, n))
        clf.nb_class_count_ = np.zeros(2)
        clf.intercept_base_ = 0.0
        clf.feedback_count_ = np.zeros((2, n_rep))
        clf.member_names_ = ("nb",)
        clf.member_weights_ = np.ones(1)
        clf.member_scale_ = np.ones(1)
        clf.oof_decision_ = np.zeros(0)
        clf.conflict_gamma_ = 0.0 if clf.conflict_gamma == "auto" else float(clf.conflict_gamma)
        clf.conflict_calibration_ = (1.0, 0.0)
        clf.classes_ = np.array([0, 1])
        clf.n_features_in_ = lay.n_features
        clf._refresh_nb(slice(None))
        return clf

    @property
    def nb_weight_(self) -> float:
        """The stack's weight on Naive Bayes (0 when it is not a member)."""
        names = list(self.member_names_)
        return float(self.member_weights_[names.index("nb")]) if "nb" in names else 0.0

    def _refresh_nb(self, cols: np.ndarray | slice) -> None:
        """Re-derive Naive Bayes' share of the weights from its counts (``cols``: the
        columns whose counts moved, or ``slice(None)`` for all).

        log-odds_j = log(c1_j + a) - log(c0_j + a) - [log(T1 + a n) - log(T0 + a n)]:
        the first part per column, the bracket (which every update moves) as one
        offset per active feature, the class prior in the intercept.
        """
        v, a = self.nb_weight_, self.alpha_nb
        fc = self.nb_count_
        c0, c1 = fc[0, cols], fc[1, cols]
        # A column no message touched weighs log(a) - log(a) = 0: the logs only where
        # counts are (a tenth of a hashed space; loading the bundled model 25 -> 8 ms).
        odds = np.zeros(c0.shape)
        seen = np.flatnonzero(c0 + c1)
        odds[seen] = np.log(c1[seen] + a) - np.log(c0[seen] + a)
        self.coef_binary_[cols] = v * odds
        n = fc.shape[1]
        totals = fc.sum(axis=1)
        self.binary_offset_ = -v * float(np.log(totals[1] + a * n) - np.log(totals[0] + a * n))
        prior = np.log(np.maximum(self.nb_class_count_, 1e-9))
        self.intercept_ = self.intercept_base_ + v * float(prior[1] - prior[0])

    def partial_fit(self, X: sp.csr_matrix, y: np.ndarray, classes: object = None,
                    sample_weight: float | np.ndarray | None = None) -> SpamScorer:
        """Learn (or, rows weighted ``-1``, unlearn exactly) labelled messages.

        Naive Bayes' counts move for token and structure columns, sender reputation's
        counts for the senders, the byte member's weights by a fixed step
        (``byte_learning_rate``: exactly reversible, as counts are); the token SVM and
        LR keep their weights until the next full retrain. Reputation columns are left
        out of the Naive Bayes counts because a key's bin moves as its counts do, which
        would make unlearning inexact.

        ``classes`` is scikit-learn's argument, and can only be ``[0, 1]``: the model
        is fitted first (:meth:`fit`, or :meth:`empty` to learn from nothing).
        ``sample_weight``: 1 (learn) or -1 (unlearn), one for all rows or one per row.
        """
        check_fitted(self, "coef_binary_")
        if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), [0, 1]):
            raise ValueError(f"classes must be [0, 1] (ham, spam), got {classes!r}")
        X = sp.csr_matrix(X)
        y = np.asarray(y).astype(int)
        if X.shape[0] != len(y) or not set(np.unique(y)) <= {0, 1}:
            raise ValueError(f"expected labels 0/1 for {X.shape[0]} rows, got {y!r}")
        w = np.broadcast_to(np.asarray(1.0 if sample_weight is None else sample_weight,
                                       dtype=np.float64), y.shape)
        if not np.isin(w, (1.0, -1.0)).all():
            raise ValueError(f"sample_weight must be 1 (learn) or -1 (unlearn), for all rows "
                             f"or per row, got {sample_weight!r}")
        for sign in (1.0, -1.0):
            rows = np.flatnonzero(w == sign)
            if len(rows):
                self._learn(X[rows], y[rows], sign)
        return self

    def _learn(self, X: sp.csr_matrix, y: np.ndarray, sample_weight: float) -> None:
        # The counts Naive Bayes would add from the binary expanded rows, read off X:
        # each token once per message it is in, and the weighted structure bins.
        n_tokens = self.layout.n_tokens
        _, aux = self._aux(X)
        struct = aux[:, :self.bin_edges_.shape[0] * self.n_bins].tocsr()
        touched: list[np.ndarray] = []
        for c in (0, 1):
            rows = np.flatnonzero(y == c)
            if not len(rows):
                continue
            idx = X[rows].indices
            tcols, tcounts = np.unique(idx[idx < n_tokens], return_counts=True)
            s_add = np.asarray(struct[rows].sum(axis=0)).ravel()
            scols = np.flatnonzero(s_add)
            cols = np.concatenate([tcols, n_tokens + scols])
            add = np.concatenate([tcounts.astype(np.float64), s_add[scols]])
            self.nb_count_[c, cols] = np.maximum(self.nb_count_[c, cols] + sample_weight * add,
                                                 0.0)
            self.nb_class_count_[c] = max(self.nb_class_count_[c] + sample_weight * len(rows),
                                          0.0)
            touched.append(cols)
        rep_block = self._rep_block(X)
        self.reputation_.partial_fit(rep_block, y, sample_weight)
        for c in (0, 1):
            rows = np.flatnonzero(y == c)
            if len(rows):
                add = np.asarray(rep_block[rows].sum(axis=0)).ravel()
                cols = np.flatnonzero(add)
                self.feedback_count_[c, cols] = np.maximum(
                    self.feedback_count_[c, cols] + sample_weight * add[cols], 0.0)
        if touched:
            self._refresh_nb(np.unique(np.concatenate(touched)))
        if self.byte_learning_rate and self.layout.n_bytes:
            grams = X[:, self.layout.bytes]
            step = self.byte_learning_rate * sample_weight * (2.0 * y - 1.0)
            self.coef_bytes_ += np.asarray(grams.T @ step).ravel()

    def _feedback_terms(self, X: sp.csr_matrix, entries: Entries | None = None) -> np.ndarray:
        """Per row and sender key (address, domain), the log-odds feedback adds."""
        rows, local, values = self._rep_entries(X, entries)
        kind = local // self.layout.n_rep_per_key
        keep = kind < _FEEDBACK_KEYS
        cols = local[keep]
        # Only the buckets these messages touch: log1p over every bucket cost ~1 ms a call.
        fc = self.feedback_count_
        odds = self.feedback_weight * (np.log1p(fc[1, cols]) - np.log1p(fc[0, cols]))
        out = np.zeros((X.shape[0], _FEEDBACK_KEYS))
        np.add.at(out, (rows[keep], kind[keep]), odds * values[keep])
        return out

    def _rep_entries(self, X: sp.csr_matrix, entries: Entries | None = None) -> Entries:
        """The stored entries of X's reputation keys, columns counted within their blocks."""
        rows, cols, values = csr_entries(X) if entries is None else entries
        lay = self.layout
        start, stop = lay.reputation(0).start, lay.reputation(len(REPUTATION_KEYS) - 1).stop
        inside = (cols >= start) & (cols < stop)
        return Entries(rows[inside], cols[inside] - start, values[inside])

    def count_feedback(self, X: sp.csr_matrix, y: np.ndarray) -> SpamScorer:
        """Set the per-sender feedback counts to those of the labelled feedback ``X, y``.

        A retrained model learns feedback messages as training rows; this keeps what
        users said about each sender applied directly too, as it was before.
        """
        rep = self._rep_block(sp.csr_matrix(X)).tocsr()
        y = np.asarray(y).astype(int)
        self.feedback_count_ = np.zeros((2, rep.shape[1]))
        for c in (0, 1):
            if (y == c).any():
                self.feedback_count_[c] = np.asarray(rep[y == c].sum(axis=0)).ravel()
        return self

    def _aux(self, X: sp.csr_matrix, entries: Entries | None = None
             ) -> tuple[np.ndarray, sp.csr_matrix]:
        """The raw structural numbers and the weighted [structure bins | reputation] block.

        Read off X's stored entries into one matrix: slicing X's column blocks and
        stacking their transforms made eight SciPy matrices a call, 0.4 ms of scoring one
        message. The matrix is the same, entry for entry (tests/models/test_classifier.py).
        """
        self._check_width(X)
        rows, cols, values = csr_entries(X) if entries is None else entries
        lay, n = self.layout, X.shape[0]
        inside = (cols >= lay.structure.start) & (cols < lay.structure.stop)
        structure = np.zeros((n, lay.n_structure))
        np.add.at(structure, (rows[inside], cols[inside] - lay.structure.start), values[inside])
        struct_cols = bin_columns(self.bin_edges_, self.n_bins, structure)
        rep_rows, rep_cols, _ = self._rep_entries(X, Entries(rows, cols, values))
        rep_cols = self.reputation_.bucket_columns(
            self.reputation_.key_buckets(rep_rows, rep_cols, n, lay.n_rep_per_key))
        n_struct = self.bin_edges_.shape[0] * self.n_bins
        per_row = struct_cols.shape[1] + rep_cols.shape[1]
        aux_w, rep_w = self.block_weights()
        weights = np.concatenate([np.full(struct_cols.shape[1], aux_w),
                                  np.full(rep_cols.shape[1], rep_w)])
        aux = sp.csr_matrix((np.tile(weights, n), np.hstack([struct_cols, rep_cols + n_struct]
                                                             ).ravel(),
                             np.arange(0, n * per_row + 1, per_row)),
                            shape=(n, n_struct + self.reputation_.n_output))
        return structure, aux

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        """The logit, computed from X's own sparse structure.

        Equal to ``E.coef_binary_ + offset * rowsum(E) + N.coef_normalized_ + b`` over the
        expanded matrices, without building them: stacking two matrices of a million
        columns costs ~5 ms even for one message, the sums below ~0.1 ms.
        """
        check_fitted(self, "coef_binary_")
        X = _as_csr(X)
        n = X.shape[0]
        lay = self.layout
        entries = csr_entries(X)
        structure, aux = self._aux(X, entries)
        rows = entries.rows
        tok = X.indices < lay.n_tokens
        r, cols = rows[tok], X.indices[tok]
        count = np.bincount(r, minlength=n).astype(np.float64)
        tok_w = self.token_weights(cols)
        binary = np.bincount(r, weights=tok_w, minlength=n)
        margin = (np.bincount(r, weights=self.coef_normalized_[cols], minlength=n)
                  / np.sqrt(np.maximum(count, 1.0)))
        a0 = lay.n_tokens
        a1 = a0 + aux.shape[1]
        aux_w = self.coef_binary_[a0:a1] + self.coef_normalized_[a0:a1]
        fb = self._feedback_terms(X, entries)
        z = (binary + margin + np.asarray(aux @ aux_w).ravel()
             + self.binary_offset_ * (count + np.asarray(aux.sum(axis=1)).ravel())
             + self.intercept_ + fb.sum(axis=1))
        inter = None
        if self.n_interactions:
            w_inter = self.coef_normalized_[a1:a1 + self.n_interactions]
            inter = self._interactions(structure) * w_inter
            z += inter.sum(axis=1)
        gram = X.indices >= lay.bytes.start  # the byte n-gram block, unit rows already
        rg = rows[gram]
        gw = X.data[gram] * self.coef_bytes_[X.indices[gram] - lay.bytes.start]
        z += np.bincount(rg, weights=gw, minlength=n)
        gamma = getattr(self, "conflict_gamma_", 0.0)
        if gamma:
            # Every clue's value, each once: tokens, aux columns, products, feedback.
            tw = (tok_w + self.binary_offset_
                  + self.coef_normalized_[cols] / np.sqrt(np.maximum(count[r], 1.0)))
            aw = aux.copy()
            aw.data = aw.data * ((aux_w + self.binary_offset_)[aw.indices])
            pos = (np.bincount(r, weights=np.maximum(tw, 0), minlength=n)
                   + np.asarray(aw.maximum(0).sum(axis=1)).ravel() + np.maximum(fb, 0).sum(axis=1))
            neg = (np.bincount(r, weights=np.maximum(-tw, 0), minlength=n)
                   + np.asarray((-aw).maximum(0).sum(axis=1)).ravel()
                   + np.maximum(-fb, 0).sum(axis=1))
            if inter is not None:
                pos += np.maximum(inter, 0).sum(axis=1)
                neg += np.maximum(-inter, 0).sum(axis=1)
            pos += np.bincount(rg, weights=np.maximum(gw, 0), minlength=n)
            neg += np.bincount(rg, weights=np.maximum(-gw, 0), minlength=n)
            a, b = getattr(self, "conflict_calibration_", (1.0, 0.0))
            z = a * z * _agreement(pos, neg) ** gamma + b
        return z

    def token_weights(self, cols: np.ndarray) -> np.ndarray:
        """``coef_binary_`` of token columns ``cols``, with the prior evidence of
        :mod:`spamsift.models.priors` added: published default weights for signals the
        training rows (and feedback) carry too rarely to have weighed themselves."""
        w = self.coef_binary_[cols]
        pcols, pw = prior_weights(self.layout.n_tokens, self.nb_count_)
        pos = np.minimum(np.searchsorted(pcols, cols), len(pcols) - 1)
        hit = pcols[pos] == cols
        if hit.any():
            w = w + np.where(hit, pw[pos], 0.0)
        return w

    def predict_proba(self, X: sp.csr_matrix) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)

    def contributions(self, X: sp.csr_matrix, top: int | None = None
                      ) -> list[list[tuple[int, float]]]:
        """Per row, (expanded column, contribution to the logit) of every active feature,
        largest first; they sum to the logit less the intercept. ``top``: only the
        ``top`` largest (found by a partial sort; ties in column-block order, as the full
        sort puts them)."""
        check_fitted(self, "coef_binary_")
        X = _as_csr(X)
        lay = self.layout
        entries = csr_entries(X)
        structure, aux = self._aux(X, entries)
        a0 = lay.n_tokens
        a1 = a0 + aux.shape[1]
        n_exp = a1 + self.n_interactions
        inter = self._interactions(structure)
        fb = self._feedback_terms(X, entries)
        gamma = getattr(self, "conflict_gamma_", 0.0)
        bytes_base = self._bytes_base
        cb, cn, off = self.coef_binary_, self.coef_normalized_, self.binary_offset_
        out = []
        for i in range(X.shape[0]):
            idx = X.indices[X.indptr[i]:X.indptr[i + 1]]
            tk = idx[idx < lay.n_tokens]
            ac = a0 + aux.indices[aux.indptr[i]:aux.indptr[i + 1]]
            av = aux.data[aux.indptr[i]:aux.indptr[i + 1]]
            im = np.flatnonzero(inter[i]) if inter.shape[1] else np.zeros(0, dtype=np.int64)
            fk = np.flatnonzero(fb[i])
            g = idx >= lay.bytes.start
            gcols = idx[g] - lay.bytes.start
            gw = X.data[X.indptr[i]:X.indptr[i + 1]][g] * self.coef_bytes_[gcols]
            # Every block's columns are its own, so the clues are these arrays side by side.
            cols = np.concatenate([tk, ac, a1 + im, n_exp + fk, bytes_base + gcols[gw != 0]])
            vals = np.concatenate([self.token_weights(tk) + off
                                   + cn[tk] / np.sqrt(max(len(tk), 1)),
                                   0.0 + av * (cb[ac] + off + cn[ac]),
                                   inter[i, im] * cn[a1 + im], fb[i, fk], gw[gw != 0]])
            if gamma:
                # The conflict scale as a clue: what it takes from (or adds to) the sum.
                pos, neg = vals[vals > 0].sum(), -vals[vals < 0].sum()
                linear = pos - neg + self.intercept_
                a, b = getattr(self, "conflict_calibration_", (1.0, 0.0))
                agree = float(_agreement(np.array([pos]), np.array([neg]))[0])
                shrunk = a * linear * agree ** gamma + b
                if shrunk != linear:
                    cols = np.append(cols, n_exp + _FEEDBACK_KEYS)
                    vals = np.append(vals, shrunk - linear)
            order = _largest(np.abs(vals), top)
            out.append(list(zip(cols[order].tolist(), vals[order].tolist(), strict=True)))
        return out

    @property
    def _bytes_base(self) -> int:
        """Where the byte n-gram columns start among :meth:`contributions`' columns:
        after the expanded block, the feedback keys and the conflict clue."""
        return (self.layout.n_tokens + self.bin_edges_.shape[0] * self.n_bins
                + self.reputation_.n_output + self.n_interactions + _FEEDBACK_KEYS + 1)

    def column_label(self, j: int) -> tuple[str, str]:
        """(kind, readable name) of an expanded column.

        The kind is ``token``, ``structure``, ``reputation``, ``feedback``,
        ``conflict`` or ``bytes`` (a byte n-gram column: named ``#column``, which
        the model names by the n-grams of a message, as tokens).
        """
        lay = self.layout
        if j < lay.n_tokens:
            return "token", f"#{j}"
        if j >= self._bytes_base:
            return "bytes", f"#{j - self._bytes_base}"
        j -= lay.n_tokens
        n_struct = self.bin_edges_.shape[0] * self.n_bins
        n_rep = self.reputation_.n_output
        names = structure_names()
        if j >= n_struct + n_rep + self.n_interactions:
            k = j - n_struct - n_rep - self.n_interactions
            if k >= _FEEDBACK_KEYS:
                return "conflict", "conflict: clues point both ways"
            return "feedback", f"feedback:{REPUTATION_KEYS[k]}"
        if j >= n_struct + n_rep:
            a, b = np.triu_indices(self.n_structure, 1)
            i = j - n_struct - n_rep
            return "structure", f"{names[a[i]]} x {names[b[i]]}"
        if j < n_struct:
            col, b = divmod(j, self.n_bins)
            name = names[col] if col < len(names) else f"structure{col}"
            return "structure", _bin_text(name, self.bin_edges_[col], b)
        return "reputation", self.reputation_.column_label(j - n_struct, REPUTATION_KEYS)


_YES_NO = frozenset({"html_only", "has_html"})


def _bin_text(name: str, edges: np.ndarray, b: int) -> str:
    """``n_exclaim > 3``, ``2 < n_urls <= 5``, ``html_only: yes`` rather than ``(3, inf]``."""
    lo = edges[b - 1] if b > 0 else -np.inf
    hi = edges[b] if b < len(edges) else np.inf
    if name in _YES_NO:
        return f"{name}: {'no' if hi <= 0 else 'yes'}"
    if not np.isfinite(lo):
        return f"{name} <= {hi:.3g}"
    if not np.isfinite(hi):
        return f"{name} > {lo:.3g}"
    return f"{lo:.3g} < {name} <= {hi:.3g}"


def _largest(size: np.ndarray, top: int | None) -> np.ndarray:
    """Positions of the ``top`` largest of ``size`` (all when None), largest first, ties
    in position order: a stable sort, of only the candidates a partial sort leaves."""
    if top is not None and top < size.size:
        if top <= 0:
            return np.zeros(0, dtype=np.int64)
        kth = np.partition(size, size.size - top)[size.size - top]
        candidates = np.flatnonzero(size >= kth)
    else:
        candidates = np.arange(size.size)
    return candidates[np.argsort(-size[candidates], kind="stable")][:top]


def _as_csr(X: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    # csr_matrix(X) of a CSR matrix re-checks it: ~20 us a call, for nothing.
    return X if isinstance(X, sp.csr_matrix) else sp.csr_matrix(X)


def _agreement(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """|P - N| / (P + N): 1 when every clue points one way, 0 when they cancel."""
    return np.abs(pos - neg) / np.maximum(pos + neg, 1e-12)
