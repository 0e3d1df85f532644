"""SpamScorer: a fitted spam classifier's weights and what is done with them.

:class:`~spamsift.models.classifier.SpamClassifier` fits a stack of linear members
and collapses it to weight vectors and a bias (that module's docstring). What a
fitted model then does, and all a loaded model file is, lives here: the logit of
new messages (its terms block by block, which :mod:`spamsift.models.explain` turns
into clues), learning (and unlearning) feedback through Naive Bayes' and sender
reputation's counts, and the learned state taken out and put back
(:meth:`SpamScorer.get_state`, :meth:`SpamScorer.set_state`: what a model file
holds). It needs NumPy and SciPy's sparse matrices only: scikit-learn, which fits
the members, costs 0.6 s to import, more than the rest of a one-message ``spamsift
classify`` (docs/experiments.md, "Speed, issue 11"). ``SpamClassifier`` is a
scikit-learn estimator built on this class; a model loaded from its file is a
``SpamScorer`` with the same parameters and learned state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import partial
from typing import Any, NamedTuple, Self

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

__all__ = ["SpamScorer", "Terms", "FEEDBACK_KEYS"]

# Feedback on a sender counts for its address and its domain, not its relay: one
# ISP's relay carries many senders.
FEEDBACK_KEYS = 2


class Terms(NamedTuple):
    """What :meth:`SpamScorer.terms` reads off rows of featurizer output."""

    X: sp.csr_matrix            # the rows, as CSR
    entries: Entries            # X's stored entries
    structure: np.ndarray       # the raw structural numbers
    aux: sp.csr_matrix          # [structure bins | reputation], weighted
    interactions: np.ndarray    # products of the standardised numbers, weighted
    feedback: np.ndarray        # per row and sender key, feedback's log-odds


class SpamScorer(Estimator):
    """A fitted :class:`~spamsift.models.classifier.SpamClassifier`, without what fits it.

    The parameters are ``SpamClassifier``'s (documented there); the fitted attributes
    are set by its ``fit``, by :meth:`empty`, or by :meth:`set_state` (which
    :func:`~spamsift.models.persistence.load_model` calls), never from outside.
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
                 tune_seconds: float = 120.0, feedback_margin: float = 4.0,
                 feedback_ham_margin: float = 8.0, feedback_C: float = 10.0,
                 rep_cap: float = 2.0, priors: bool = True):
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
        self.feedback_margin = feedback_margin
        self.feedback_ham_margin = feedback_ham_margin
        self.feedback_C = feedback_C
        self.rep_cap = rep_cap
        self.priors = priors

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

    @property
    def n_expanded(self) -> int:
        """Columns of the expanded features the weights are over: tokens, structure bins,
        reputation's output, interaction products."""
        return (self.layout.n_tokens + self.layout.n_structure * self.n_bins
                + SenderReputation(len(REPUTATION_KEYS)).n_output + self.n_interactions)

    # -- learned state ----------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The learned state, as :meth:`set_state` takes it: arrays, numbers and member
        names, nothing else (a model file holds it; ``models/persistence.py``).

        The arrays are the model's own, not copies: copy one before changing it. What
        is derived from the state (Naive Bayes' weights, ``intercept_``,
        ``binary_offset_``) is not in it.
        """
        check_fitted(self, "coef_binary_")
        rep = self.reputation_
        return {"coef_binary": self.coef_binary_, "coef_normalized": self.coef_normalized_,
                "coef_bytes": self.coef_bytes_, "intercept_base": float(self.intercept_base_),
                "nb_count": self.nb_count_, "nb_class_count": self.nb_class_count_,
                "feedback_count": self.feedback_count_, "bin_edges": self.bin_edges_,
                "structure_mean": self.structure_mean_,
                "structure_scale": self.structure_scale_,
                "reputation_spam": rep.spam_, "reputation_ham": rep.ham_,
                "reputation_prior": float(rep.prior_),
                "member_names": tuple(self.member_names_),
                "member_weights": self.member_weights_,
                "conflict_gamma": float(self.conflict_gamma_),
                "conflict_calibration": tuple(self.conflict_calibration_),
                "block_weights": self.block_weights(), "margin_log": self.margin_log()}

    def set_state(self, state: Mapping[str, Any]) -> Self:
        """Install learned state (:meth:`get_state`'s keys) and re-derive what follows
        from it: the model then scores, explains and learns as the one it came from.

        ``block_weights`` may be None: the structure and reputation blocks are then
        weighed by the parameters (files written before tuning). ``margin_log`` may be
        left out: no margin step to take back. Arrays are taken as they are, not copied.

        Raises
        ------
        KeyError
            A part of the state is missing.
        ValueError
            A part has the wrong shape for this model's layout and parameters, or a
            block weight is not a number > 0.
        """
        lay = self.layout
        f64 = partial(np.asarray, dtype=np.float64)
        rep = SenderReputation(len(REPUTATION_KEYS), self.rep_smoothing,
                               random_state=self.random_state)
        rep.set_counts(state["reputation_spam"], state["reputation_ham"],
                       state["reputation_prior"])
        n_rep = len(REPUTATION_KEYS) * lay.n_rep_per_key
        if rep.n_features_in_ != n_rep:
            raise ValueError(f"reputation counts: the layout needs {n_rep} columns, got "
                             f"{rep.n_features_in_}")
        n_exp = self.n_expanded
        parts = {"coef_binary": (n_exp,), "coef_normalized": (n_exp,),
                 "coef_bytes": (lay.n_bytes,), "nb_count": (2, n_exp), "nb_class_count": (2,),
                 "feedback_count": (2, n_rep),
                 "bin_edges": (lay.n_structure, self.n_bins - 1),
                 "structure_mean": (lay.n_structure,), "structure_scale": (lay.n_structure,)}
        arrays = {k: f64(state[k]) for k in parts}
        for k, shape in parts.items():
            if arrays[k].shape != shape:
                need = (f"{shape[0]} columns" if len(shape) == 1
                        else f"{shape[0]} rows of {shape[1]} columns")
                raise ValueError(f"{k}: the layout needs {need}, got shape {arrays[k].shape}")
        names = tuple(str(m) for m in state["member_names"])
        weights = f64(state["member_weights"])
        if weights.shape != (len(names),):
            raise ValueError(f"member_weights: expected one per member of {names}, got "
                             f"shape {weights.shape}")
        block = state.get("block_weights")
        if block is not None:
            block = tuple(float(v) for v in block)
            # rep_weight 0: a model for any site, sender identity left out.
            if len(block) != 2 or not (block[0] > 0 and block[1] >= 0):
                raise ValueError(f"block_weights: expected (aux_weight, rep_weight), "
                                 f"> 0 and >= 0, got {block!r}")
        a, b = (float(v) for v in state["conflict_calibration"])
        margin_log = _margin_log_of(*state.get("margin_log", (np.zeros(0),) * 3))
        # Every part checked: now the model changes, all at once.
        for k in parts:
            setattr(self, f"{k}_", arrays[k])
        self.reputation_ = rep
        self.intercept_base_ = float(state["intercept_base"])
        self.member_names_, self.member_weights_ = names, weights
        self.conflict_gamma_ = float(state["conflict_gamma"])
        self.conflict_calibration_ = (a, b)
        if block is None:
            self.__dict__.pop("aux_weight_", None)
            self.__dict__.pop("rep_weight_", None)
        else:
            self.aux_weight_, self.rep_weight_ = block
        self._margin_log = margin_log
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = lay.n_features
        # Naive Bayes' weights are re-derived from its counts in full precision.
        self._refresh_nb(slice(None))
        return self

    @classmethod
    def empty(cls, **params: object) -> Self:
        """A fitted classifier that knows nothing yet: Naive Bayes alone, zero counts.

        For learning from scratch (``replay`` with no training rows): every label it
        is given through :meth:`partial_fit` counts at once.
        """
        clf = cls(**{"model": "nb", **params})  # type: ignore[arg-type]
        lay = clf.layout
        n_rep = len(REPUTATION_KEYS) * lay.n_rep_per_key
        n = clf.n_expanded
        gamma = 0.0 if clf.conflict_gamma == "auto" else float(clf.conflict_gamma)
        clf.set_state({
            "coef_binary": np.zeros(n), "coef_normalized": np.zeros(n),
            "coef_bytes": np.zeros(lay.n_bytes), "intercept_base": 0.0,
            "nb_count": np.zeros((2, n)), "nb_class_count": np.zeros(2),
            "feedback_count": np.zeros((2, n_rep)),
            "bin_edges": np.full((lay.n_structure, clf.n_bins - 1), np.inf),
            "structure_mean": np.zeros(lay.n_structure),
            "structure_scale": np.ones(lay.n_structure),
            "reputation_spam": np.zeros(n_rep), "reputation_ham": np.zeros(n_rep),
            "reputation_prior": 0.5, "member_names": ("nb",), "member_weights": np.ones(1),
            "conflict_gamma": gamma, "conflict_calibration": (1.0, 0.0),
            "block_weights": None})
        clf.member_scale_ = np.ones(1)
        clf.oof_decision_ = np.zeros(0)
        return clf

    # -- learning from feedback ------------------------------------------------------

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
        (``byte_learning_rate``: exactly reversible, as counts are), and the margin
        members (token SVM or LR, byte n-grams) by a passive-aggressive step
        (:meth:`_margin_steps`), which unlearning takes back while this process
        remembers it and the next retrain otherwise. Reputation columns are left
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
        if self._margin_learning:
            # A margin step depends on what came before it: one row at a time, in the
            # order given, so a batch learns what the same rows given singly would.
            for i in range(len(y)):
                self._learn(X[i], y[i:i + 1], float(w[i]))
            return self
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
        if self._margin_learning:
            self._margin_steps(X, y, sample_weight)

    def _check_margins(self) -> None:
        for p in ("feedback_margin", "feedback_ham_margin", "feedback_C"):
            v = getattr(self, p)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0:
                raise ValueError(f"{p} must be a number >= 0, got {v!r}")

    @property
    def _margin_learning(self) -> bool:
        self._check_margins()
        return self.feedback_C > 0 and (self.feedback_margin > 0 or self.feedback_ham_margin > 0)

    def margin_log(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The margin steps taken and not yet taken back, to be saved with the model:
        keys (16 bytes a message row and label), steps per key, the steps in order."""
        log: dict[bytes, list[float]] = getattr(self, "_margin_log", {})
        keys = np.frombuffer(b"".join(log), dtype=np.uint8).reshape(-1, 16)
        counts = np.array([len(v) for v in log.values()], dtype=np.int64)
        steps = np.array([t for v in log.values() for t in v], dtype=np.float64)
        return keys, counts, steps

    def set_margin_log(self, keys: np.ndarray, counts: np.ndarray, steps: np.ndarray) -> None:
        """Install a saved :meth:`margin_log`, so a loaded model still unlearns exactly
        (:meth:`set_state` installs it with the rest)."""
        self._margin_log = _margin_log_of(keys, counts, steps)

    def _margin_steps(self, X: sp.csr_matrix, y: np.ndarray, sample_weight: float) -> None:
        """Teach the margin members (token SVM/LR, byte n-grams) a labelled message.

        A passive-aggressive step (PA-I, Crammer et al. 2006) on the model's own logit:
        the weights of the message's tokens and byte n-grams move along its feature
        vector just far enough that the label clears its margin (``feedback_margin``
        log-odds for spam, ``-feedback_ham_margin`` for ham; a step at most
        ``feedback_C``), after Naive Bayes' and the sender counts have moved. Mail the
        model already gets right by the margin moves nothing, so a stream of one
        campaign cannot push its columns without bound, as a fixed step does.

        A step depends on the weights at that moment, so it does not commute: it is
        not undone by the opposite step. Each step taken is remembered (per message
        row and label; :meth:`margin_log`, saved with the model file) and forgetting
        the label subtracts exactly that step. A label the model learned as a training
        row of a retrain has no step to subtract: it leaves the margin members at the
        next retrain, which refits them on the effective labels.
        """
        lay = self.layout
        if not hasattr(self, "_margin_log"):
            self._margin_log: dict[bytes, list[float]] = {}
        steps = self._margin_log
        X = sp.csr_matrix(X)
        for i in range(X.shape[0]):
            row = X[i]
            key = hashlib.blake2b(row.indices.tobytes() + row.data.tobytes()
                                  + bytes([int(y[i])]), digest_size=16).digest()
            tok = row.indices < lay.n_tokens
            tcols = row.indices[tok]
            gram = row.indices >= lay.bytes.start if lay.n_bytes else np.zeros_like(tok)
            gcols, gvals = row.indices[gram] - lay.bytes.start, row.data[gram]
            xt = 1.0 / np.sqrt(len(tcols)) if len(tcols) else 0.0
            norm2 = (1.0 if len(tcols) else 0.0) + float(gvals @ gvals)
            if norm2 == 0.0:
                continue
            s = 2.0 * y[i] - 1.0
            if sample_weight > 0:
                m = self.feedback_margin if s > 0 else self.feedback_ham_margin
                loss = m - s * float(self.decision_function(row)[0])
                tau = min(self.feedback_C, max(loss, 0.0) / norm2)
                if tau <= 0.0:
                    continue
                steps.setdefault(key, []).append(tau)
            else:
                taken = steps.get(key)
                if not taken:
                    continue
                tau = -taken.pop()
                if not taken:
                    del steps[key]
            self.coef_normalized_[tcols] += tau * s * xt
            if len(gcols):
                self.coef_bytes_[gcols] += tau * s * gvals

    def _feedback_terms(self, X: sp.csr_matrix, entries: Entries | None = None) -> np.ndarray:
        """Per row and sender key (address, domain), the log-odds feedback adds."""
        rows, local, values = self._rep_entries(X, entries)
        kind = local // self.layout.n_rep_per_key
        keep = kind < FEEDBACK_KEYS
        cols = local[keep]
        # Only the buckets these messages touch: log1p over every bucket cost ~1 ms a call.
        fc = self.feedback_count_
        odds = self.feedback_weight * (np.log1p(fc[1, cols]) - np.log1p(fc[0, cols]))
        out = np.zeros((X.shape[0], FEEDBACK_KEYS))
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

    def _cap_identity(self, aux: sp.csr_matrix) -> sp.csr_matrix:
        """``aux`` with each row's reputation entries scaled so that sender identity
        adds at most ``rep_cap`` log-odds either way (0: no bound).

        Who sent a message is weak evidence on its own: addresses are forged, and one
        domain sends newsletters users keep and ones they report. The held-out corpus
        of issue 9 had its most confident false positives (0.998-0.9999) driven by
        this block. On the dev corpus the block's contributions sit within about +-2
        (docs/experiments.md, "A bound on what identity alone can add"), where the
        bound changes nothing measurable; what users said about a sender (the
        feedback term) is not bounded by it.
        """
        cap = self.rep_cap
        if isinstance(cap, bool) or not isinstance(cap, int | float) or not cap >= 0:
            raise ValueError(f"rep_cap must be a number >= 0, got {cap!r}")
        if not cap or not aux.nnz or not self.block_weights()[1]:
            return aux  # no bound, or no identity to bound (a model for any site)
        n_struct = self.bin_edges_.shape[0] * self.n_bins
        rep = aux.indices >= n_struct
        a0 = self.layout.n_tokens
        cols = a0 + aux.indices[rep]
        rows = np.repeat(np.arange(aux.shape[0]), np.diff(aux.indptr))[rep]
        value = aux.data[rep] * (self.coef_binary_[cols] + self.coef_normalized_[cols]
                                 + self.binary_offset_)
        total = np.abs(np.bincount(rows, weights=value, minlength=aux.shape[0]))
        over = total > cap
        if not over.any():
            return aux
        scale = np.ones(aux.shape[0])
        scale[over] = cap / total[over]
        aux = aux.copy()
        aux.data[rep] *= scale[rows]
        return aux

    def terms(self, X: sp.csr_matrix) -> Terms:
        """What rows ``X`` (featurizer output) add to the logit beyond their token and
        byte columns, block by block: what scoring and explaining both read."""
        check_fitted(self, "coef_binary_")
        X = _as_csr(X)
        entries = csr_entries(X)
        structure, aux = self._aux(X, entries)
        aux = self._cap_identity(aux)
        return Terms(X, entries, structure, aux, self._interactions(structure),
                     self._feedback_terms(X, entries))

    def conflict_scaled(self, z: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
        """The logits ``z`` of rows whose clues sum to ``pos`` and ``-neg``, under the
        conflict scale and its calibration (models/classifier.py's docstring)."""
        a, b = getattr(self, "conflict_calibration_", (1.0, 0.0))
        return a * z * _agreement(pos, neg) ** getattr(self, "conflict_gamma_", 0.0) + b

    def decision_function(self, X: sp.csr_matrix) -> np.ndarray:
        """The logit, computed from X's own sparse structure.

        Equal to ``E.coef_binary_ + offset * rowsum(E) + N.coef_normalized_ + b`` over the
        expanded matrices, without building them: stacking two matrices of a million
        columns costs ~5 ms even for one message, the sums below ~0.1 ms.
        """
        return self.decide(self.terms(X))

    def decide(self, t: Terms) -> np.ndarray:
        """:meth:`decision_function` of the rows whose :meth:`terms` are ``t`` (a caller
        that also explains them, :meth:`SpamModel.classify`, reads the terms once)."""
        X, aux, fb = t.X, t.aux, t.feedback
        n = X.shape[0]
        lay = self.layout
        rows = t.entries.rows
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
        z = (binary + margin + np.asarray(aux @ aux_w).ravel()
             + self.binary_offset_ * (count + np.asarray(aux.sum(axis=1)).ravel())
             + self.intercept_ + fb.sum(axis=1))
        inter = None
        if self.n_interactions:
            inter = t.interactions * self.coef_normalized_[a1:a1 + self.n_interactions]
            z += inter.sum(axis=1)
        gram = X.indices >= lay.bytes.start  # the byte n-gram block, unit rows already
        rg = rows[gram]
        gw = X.data[gram] * self.coef_bytes_[X.indices[gram] - lay.bytes.start]
        z += np.bincount(rg, weights=gw, minlength=n)
        if getattr(self, "conflict_gamma_", 0.0):
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
            z = self.conflict_scaled(z, pos, neg)
        return z

    def token_weights(self, cols: np.ndarray) -> np.ndarray:
        """``coef_binary_`` of token columns ``cols``, with the prior evidence of
        :mod:`spamsift.models.priors` added (unless ``priors`` is off): published default
        weights for signals the training rows (and feedback) carry too rarely to have
        weighed themselves."""
        w = self.coef_binary_[cols]
        if not self.priors:
            return w
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

def _as_csr(X: sp.spmatrix | np.ndarray) -> sp.csr_matrix:
    # csr_matrix(X) of a CSR matrix re-checks it: ~20 us a call, for nothing.
    return X if isinstance(X, sp.csr_matrix) else sp.csr_matrix(X)


def _agreement(pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """|P - N| / (P + N): 1 when every clue points one way, 0 when they cancel."""
    return np.abs(pos - neg) / np.maximum(pos + neg, 1e-12)


def _margin_log_of(keys: np.ndarray, counts: np.ndarray, steps: np.ndarray
                   ) -> dict[bytes, list[float]]:
    """The margin log as :meth:`SpamScorer.margin_log` lays it out, as a dict again."""
    keys = np.asarray(keys, dtype=np.uint8).reshape(-1, 16)
    counts = np.asarray(counts, dtype=np.int64)
    steps = np.asarray(steps, dtype=np.float64)
    if len(counts) != len(keys) or counts.sum() != len(steps) or (counts < 1).any():
        raise ValueError("margin log: keys, counts and steps do not agree")
    ends = np.cumsum(counts)
    return {bytes(k): steps[e - c:e].tolist() for k, c, e in zip(keys, counts, ends, strict=True)}
