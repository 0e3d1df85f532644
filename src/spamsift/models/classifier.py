"""SpamClassifier: Naive Bayes, logistic regression and a linear SVM, stacked.

Every member is linear in the features, and so is their stack: each member's
decision values are calibrated together by a logistic regression fitted on
out-of-fold decisions (Platt scaling for one member, stacking for several). The
fitted model therefore collapses to two weight vectors and a bias:

    logit(P(spam)) = E(x) . coef_binary_ + N(x) . coef_normalized_ + intercept_

where E is the binary expanded features (what Naive Bayes reads) and N the same
with the token block scaled to unit length (what the margin models read). That
makes the model file plain arrays, every score a sum of per-feature clues, and
feedback an update of counts or weights.

One step is not linear: evidence that conflicts is not trusted at face value. With
P the sum of a message's positive clues and N that of its negative ones, the logit
is scaled by ``(|P - N| / (P + N)) ** conflict_gamma`` (then recalibrated by one
logistic fit on the out-of-fold logits, so probabilities stay honest): where strong clues point both
ways (a newsletter from a domain users called both spam and ham), the score moves
toward the middle, as chi-square combining does in bogofilter and SpamBayes, instead
of trusting whichever side is a little larger. The scale is a clue of its own
(``conflict``), so clues still sum to the logit.

Scoring, explaining and learning from feedback need NumPy and SciPy's sparse matrices
only; scikit-learn, which fits the members, is imported inside the methods that fit
(its import costs 0.6 s, most of a one-message ``spamsift classify``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from spamsift.estimator import Estimator, check_fitted
from spamsift.exceptions import TrainingError
from spamsift.features.bins import bin_columns, one_hot_bins
from spamsift.features.entries import Entries, csr_entries
from spamsift.features.featurizer import REPUTATION_KEYS, Layout
from spamsift.features.reputation import SenderReputation
from spamsift.features.structure import structure_names

__all__ = ["SpamClassifier", "MEMBERS", "LINEAR_SOLVERS", "CONFLICT_GAMMAS", "model_members"]

MEMBERS = ("nb", "lr", "svm", "bytes")
LINEAR_SOLVERS = ("liblinear", "lbfgs")
# conflict_gamma="auto" picks the exponent from these by out-of-fold ROC AUC on the
# training data. On the SpamAssassin corpus, the newest 20 % of each split's training
# rows held out (1-ROCA)%, gamma 0 / 0.5 / 1 / 2: random 0.025 / 0.024 / 0.028 / 0.026,
# temporal (time-ordered) 0.047 / 0.037 / 0.037 / 0.028, temporal (random)
# 0.040 / 0.038 / 0.036 / 0.036.
CONFLICT_GAMMAS = (0.0, 0.5, 1.0, 2.0)
# Rows below which the stack's inner folds stay shuffled even when mail is dated: a
# block of time must hold enough of each class to stand for its stretch (not tuned:
# 1,000 rows make 4 blocks of ~250; the corpus's splits have 3,000-5,000).
MIN_ROWS_TIME_FOLDS = 1000
# Feedback on a sender counts for its address and its domain, not its relay: one
# ISP's relay carries many senders.
_FEEDBACK_KEYS = 2


def model_members(model: str, with_bytes: bool = True) -> tuple[str, ...]:
    """The members ``model`` names: ``"ensemble"`` is every member (``bytes`` only
    ``with_bytes``); otherwise members joined by ``+`` (``"nb+svm"``). A
    :class:`ValueError` for anything else."""
    every = MEMBERS if with_bytes else tuple(m for m in MEMBERS if m != "bytes")
    names = every if model == "ensemble" else tuple(model.split("+"))
    if not names or any(n not in MEMBERS for n in names) or len(set(names)) != len(names):
        raise ValueError(f"model must be 'ensemble' or members of {MEMBERS} joined by '+', "
                         f"got {model!r}")
    return names


@dataclass(frozen=True)
class _Expanded:
    binary: sp.csr_matrix      # E(x)
    normalized: sp.csr_matrix  # N(x)
    grams: sp.csr_matrix       # the byte n-gram block as the featurizer gives it (unit rows)

    def rows(self, idx: np.ndarray) -> _Expanded:
        return _Expanded(self.binary[idx], self.normalized[idx], self.grams[idx])


class SpamClassifier(Estimator):
    """Stacked linear spam classifier over :class:`MessageFeaturizer` output.

    Parameters
    ----------
    model : str
        Which members to stack: ``"ensemble"`` (all of them) or names joined by ``+``
        such as ``"nb+svm"``, ``"lr"`` or ``"nb+svm+bytes"``. ``bytes`` is a linear SVM
        on the byte n-gram block alone (it needs ``byte_bits``); the stack weighs it
        against the token members on the training data's out-of-fold decisions, so
        each site's model finds out which evidence its mail rewards.
    C_lr, C_svm, C_bytes : float
        Inverse regularisation of logistic regression, the linear SVM and the byte
        n-gram SVM.
    alpha_nb : float
        Additive smoothing of multinomial Naive Bayes.
    aux_weight : float
        Value given to the one-hot structure and reputation features, relative to a
        unit-length token vector.
    rep_weight : float or None
        The same for the reputation block alone; None: ``aux_weight``.
    n_bins : int
        Quantile bins per structural number.
    rep_smoothing : float
        m-estimate strength of sender reputation.
    interaction_weight : float
        Value scale of the pairwise products of the standardised structural numbers,
        read by the margin members only (0: none). 5-fold CV (1-ROCA)% of the SVM on
        the training parts, random / temporal: without 0.038 / 0.023; the numbers
        themselves added 0.037 / 0.021; products only 0.026 / 0.024; both 0.028 / 0.022.
        In the deployed nb+svm stack: 0 -> 0.0331 / 0.0170, 0.01 -> 0.0303 / 0.0169
        (but FNR at 0.1 % FPR 6.99 -> 7.59 % on random), 0.03 -> 0.0349 / 0.0253. Off by
        default: a small, mixed gain for 630 dense columns a message.
    feedback_weight : float
        Log-odds per unit of ``log((spam + 1) / (ham + 1))`` of the feedback given on
        a sender's address and domain: what users said about a sender, applied
        directly, as a personal block or allow list would. Chosen by a replay inside the
        temporal split's training part (oldest half trains, newest half replayed,
        (1-ROCA)%): 0 -> 0.0405; address only 0.25 / 0.5 / 1 -> 0.0041 / 0.0029 / 0.0029;
        address and domain 0.25 / 0.5 / 1 -> 0.0025 / 0.0021 / 0.0021. Kept 0.5, both.
    inner_cv : int
        Folds for the out-of-fold decisions the stack is calibrated on.
    token_bits, n_structure, reputation_bits, byte_bits : int
        The featurizer's layout (must match it; ``byte_bits`` 0: no byte block).
    time_folds : bool
        Stack on contiguous blocks of time when ``fit`` is given dates (:meth:`fit`).
        Off by default: it keeps the byte member from a campaign-memorising weight,
        but also cuts Naive Bayes' weight, through which feedback teaches the live
        model (docs/experiments.md).
    byte_learning_rate : float
        Step of the byte member's weights per feedback message: ``rate x (+1 spam,
        -1 ham) x`` its unit-length n-gram row, added to the stacked weights. Every
        step is a fixed function of the message and its label, so steps commute and
        forgetting a label subtracts exactly what learning it added, as with counts.
        Off (0) by default: replaying the newest half of the temporal split's
        training rows on a model of the oldest half, (1-ROCA)% for 0 / 0.001 / 0.003 /
        0.01 / 0.1 was 0.0058 / 0.0062 / 0.0087 / 0.0128 / 4.48. Until a retrain, the
        byte member's say on fed-back mail comes through the Naive Bayes and sender
        counts that feedback moves; a retrain refits it on the effective labels.
    random_state : int
        Seed of every fold split and of the linear SVM's solver.
    conflict_gamma : float or "auto"
        Exponent of the conflict scale (module docstring); 0 (the default) turns it
        off. ``"auto"`` picks one of :data:`CONFLICT_GAMMAS` by out-of-fold ROC AUC in
        ``fit``. Off by default: on the bundled model "auto" chose 2 and the
        recalibration a slope of 42 (agreement is small for most mail, so the scaled
        logits are small and the fit stretches them back), which leaves the additive
        terms tuned on the linear scale, users' feedback on a sender above all, with
        a fortieth of their say: 20 spam reports on one sender no longer turned its
        next messages. The rows of docs/experiments.md ("Conflict scale") measure it.
    linear_solver : {"liblinear", "lbfgs"}
        How the SVM and logistic-regression members are fitted: liblinear (sklearn's
        LinearSVC and LogisticRegression), or L-BFGS on the same objectives with the
        loss and gradient summed over row blocks, on a Dask cluster's workers inside
        :func:`spamsift.models.parallel_linear.dask_client`
        (:class:`~spamsift.models.parallel_linear.BlockLinearClassifier`).
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
                 time_folds: bool = False):
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

    def _expand(self, X: sp.csr_matrix, y: np.ndarray | None = None) -> _Expanded:
        self._check_width(X)
        lay = self.layout
        tokens = X[:, lay.tokens].tocsr(copy=True)
        tokens.data[:] = 1.0
        structure = X[:, lay.structure].toarray()
        rep = self._rep_block(X)
        if y is not None:
            from spamsift.features.binning import QuantileBinner  # fitting only

            self.bin_edges_ = QuantileBinner(self.n_bins).fit(structure).edges_
            self.reputation_ = SenderReputation(len(REPUTATION_KEYS), self.rep_smoothing,
                                                random_state=self.random_state)
            rep_x = self.reputation_.fit_transform(rep, y)
        else:
            rep_x = self.reputation_.transform(rep)
        struct_x = one_hot_bins(self.bin_edges_, self.n_bins, structure)
        struct_x.data *= self.aux_weight
        rep_x = sp.csr_matrix(rep_x, copy=True)
        rep_x.data *= self.aux_weight if self.rep_weight is None else self.rep_weight
        aux = sp.hstack([struct_x, rep_x], format="csr")
        if y is not None:
            self.structure_mean_ = structure.mean(axis=0)
            self.structure_scale_ = np.where(structure.std(axis=0) > 0, structure.std(axis=0),
                                             1.0)
        inter = self._interactions(structure)
        from sklearn.preprocessing import normalize  # fitting only

        # Naive Bayes reads counts: the (signed) products are zero columns for it.
        binary = sp.hstack([tokens, aux, sp.csr_matrix(inter.shape)], format="csr")
        normalized = sp.hstack([normalize(tokens), aux, sp.csr_matrix(inter)], format="csr")
        return _Expanded(binary, normalized, X[:, lay.bytes].tocsr())

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

    # -- members ------------------------------------------------------------------
    def _member(self, name: str) -> Any:
        # Fitting only: scikit-learn is not imported to score (module docstring).
        from sklearn.linear_model import LogisticRegression
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.svm import LinearSVC

        from spamsift.models.parallel_linear import BlockLinearClassifier

        if name == "nb":
            return MultinomialNB(alpha=self.alpha_nb)
        C = {"lr": self.C_lr, "svm": self.C_svm, "bytes": self.C_bytes}[name]
        if self.linear_solver == "lbfgs":
            return BlockLinearClassifier(loss="log" if name == "lr" else "squared_hinge", C=C)
        if name == "lr":
            return LogisticRegression(C=C, solver="liblinear", max_iter=5000)
        return LinearSVC(C=C, max_iter=20000, random_state=self.random_state)

    @staticmethod
    def _linear(name: str, est: Any) -> tuple[np.ndarray, float]:
        if name == "nb":
            flp = est.feature_log_prob_
            prior = est.class_log_prior_
            return flp[1] - flp[0], float(prior[1] - prior[0])
        return est.coef_.ravel().astype(np.float64), float(est.intercept_[0])

    def _fit_members(self, E: _Expanded, y: np.ndarray, names: tuple[str, ...],
                     keep_nb: bool = False) -> dict[str, tuple[np.ndarray, float]]:
        out = {}
        for name in names:
            est = self._member(name).fit(_member_input(E, name), y)
            out[name] = self._linear(name, est)
            if keep_nb and name == "nb":
                self.nb_count_ = est.feature_count_.copy()
                self.nb_class_count_ = est.class_count_.copy()
        return out

    @staticmethod
    def _decide(E: _Expanded, name: str, wb: tuple[np.ndarray, float]) -> np.ndarray:
        return np.asarray(_member_input(E, name) @ wb[0]).ravel() + wb[1]

    # -- estimator API ------------------------------------------------------------
    def fit(self, X: sp.csr_matrix, y: np.ndarray, sample_time: np.ndarray | None = None
            ) -> SpamClassifier:
        """Fit every member, stack them on out-of-fold decisions, collapse the weights.

        ``sample_time`` (seconds, NaN where unknown): with ``time_folds`` and most
        rows dated, the inner folds the stack is weighed on are contiguous blocks of
        time rather than shuffled rows. Mail comes in campaigns; shuffled folds put a campaign's
        messages on both sides, which rewards a member for remembering them. Blocks
        of time ask each member to judge mail from a stretch it did not see, so the
        stack trusts what carries over time (on the SpamAssassin corpus the byte
        n-gram member then gets no weight; with shuffled folds it got as much as the
        token SVM, and the temporal split's (1-ROCA)% went 0.079 -> 0.133).
        """
        names = model_members(self.model, with_bytes=bool(self.byte_bits))
        if "bytes" in names and not self.byte_bits:
            raise ValueError("model: the 'bytes' member needs a byte n-gram block "
                             f"(byte_bits > 0), got byte_bits={self.byte_bits!r}")
        if not self.byte_learning_rate >= 0:
            raise ValueError(f"byte_learning_rate must be >= 0, got {self.byte_learning_rate!r}")
        for p in ("C_lr", "C_svm", "C_bytes", "alpha_nb", "aux_weight", "rep_smoothing"):
            if not getattr(self, p) > 0:
                raise ValueError(f"{p} must be > 0, got {getattr(self, p)!r}")
        if self.linear_solver not in LINEAR_SOLVERS:
            raise ValueError(f"linear_solver must be one of {LINEAR_SOLVERS}, "
                             f"got {self.linear_solver!r}")
        X = sp.csr_matrix(X)
        y = np.asarray(y).astype(int)
        classes = np.unique(y)
        if not np.array_equal(classes, [0, 1]):
            raise TrainingError(f"training needs both classes (0=ham, 1=spam), got {classes}")
        if np.bincount(y).min() < self.inner_cv:
            raise TrainingError(f"each class needs at least {self.inner_cv} messages, "
                                f"got {np.bincount(y).tolist()} (ham, spam)")
        gamma = self.conflict_gamma
        if not (gamma == "auto" or (isinstance(gamma, int | float) and gamma >= 0)):
            raise ValueError(f"conflict_gamma must be a number >= 0 or 'auto', got {gamma!r}")
        E = self._expand(X, y)
        # Out-of-fold decisions of each member: what the stack is calibrated on.
        oof = np.zeros((len(y), len(names)))
        fold_fits = []  # each fold's member weights, kept only for the conflict scale
        for tr, te in self._inner_folds(y, sample_time):
            Etr, Ete = E.rows(tr), E.rows(te)
            fitted = self._fit_members(Etr, y[tr], names)
            if self.conflict_gamma:
                fold_fits.append((te, fitted))
            for m, name in enumerate(names):
                oof[te, m] = self._decide(Ete, name, fitted[name])
        # NB log-odds run to hundreds: scale before the stacker so its
        # regularisation treats members alike.
        self.member_scale_ = np.maximum(oof.std(axis=0), 1e-9)
        v, b0 = _stack(oof / self.member_scale_, y)
        v = v / self.member_scale_
        members = self._fit_members(E, y, names, keep_nb=True)
        n = E.binary.shape[1]
        self.coef_binary_ = np.zeros(n)
        self.coef_normalized_ = np.zeros(n)
        self.coef_bytes_ = np.zeros(self.layout.n_bytes)
        self.binary_offset_ = 0.0
        # The intercept without Naive Bayes' class prior, which feedback moves.
        self.intercept_base_ = b0
        for m, name in enumerate(names):
            w, b = members[name]
            if name == "nb":
                continue
            if name == "bytes":
                self.coef_bytes_ += v[m] * w
            else:
                self.coef_normalized_ += v[m] * w
            self.intercept_base_ += v[m] * b
        self.member_names_ = names
        self.member_weights_ = v
        if "nb" not in names:
            self.nb_count_ = np.zeros((2, n))
            self.nb_class_count_ = np.zeros(2)
        self.feedback_count_ = np.zeros((2, self._rep_block(X).shape[1]))
        self._refresh_nb(slice(None))
        linear_oof = oof @ v + b0
        # The conflict scale's agreement, out of fold; without the scale (the default)
        # every message agrees with itself and nothing needs computing.
        agreement = (self._oof_agreement(E, names, v, fold_fits) if self.conflict_gamma
                     else np.ones(len(y)))
        self.conflict_gamma_ = self._choose_gamma(y, linear_oof, agreement)
        scaled = linear_oof * agreement ** self.conflict_gamma_
        # Scaling moves logits off the stack's calibration: one logistic fit on the
        # scaled out-of-fold logits puts them back (the bundled model with gamma 2: ECE
        # 0.21 -> 0.003), and keeps their order.
        self.conflict_calibration_ = (_platt(scaled, y) if self.conflict_gamma_
                                      else (1.0, 0.0))
        a, b = self.conflict_calibration_
        self.oof_decision_ = a * scaled + b
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    @staticmethod
    def _oof_agreement(E: _Expanded, names: tuple[str, ...], v: np.ndarray,
                       fold_fits: list[tuple[np.ndarray, dict[str, tuple[np.ndarray, float]]]]
                       ) -> np.ndarray:
        """|P - N| / (P + N) of each row's clues under the stacked model of the fold that
        held it out."""
        n = E.binary.shape[1]
        agreement = np.ones(E.binary.shape[0])
        for te, fitted in fold_fits:
            def weights(which: tuple[str, ...], size: int) -> np.ndarray:
                return sum((v[m] * fitted[nm][0] for m, nm in enumerate(names)  # noqa: B023
                            if nm in which), np.zeros(size))
            c = (E.binary[te].multiply(weights(("nb",), n))
                 + E.normalized[te].multiply(weights(("lr", "svm"), n)))
            pos, neg = _pos_neg(sp.csr_matrix(c))
            if "bytes" in names:
                pb, nb_ = _pos_neg(sp.csr_matrix(
                    E.grams[te].multiply(weights(("bytes",), E.grams.shape[1]))))
                pos, neg = pos + pb, neg + nb_
            agreement[te] = _agreement(pos, neg)
        return agreement

    def _inner_folds(self, y: np.ndarray, sample_time: np.ndarray | None
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Contiguous blocks of time when there are enough rows and most are dated
        (each training side holding both classes), else stratified shuffled folds;
        records which."""
        n = len(y)
        if sample_time is not None and self.time_folds:
            t = np.asarray(sample_time, dtype=np.float64)
            if len(t) != n:
                raise ValueError(f"sample_time has {len(t)} values for {n} rows")
            if n >= MIN_ROWS_TIME_FOLDS and np.isfinite(t).mean() >= 0.5:
                # Undated rows sit in the middle of time: no block is made of them alone.
                t = np.where(np.isfinite(t), t, np.nanmedian(t))
                order = np.argsort(t, kind="stable")
                folds = [(np.setdiff1d(order, b), np.sort(b))
                         for b in np.array_split(order, self.inner_cv)]
                if all(np.bincount(y[tr], minlength=2).min() > 0 for tr, _ in folds):
                    self.inner_folds_ = "time"
                    return folds
        self.inner_folds_ = "stratified"
        from sklearn.model_selection import StratifiedKFold  # fitting only

        split = StratifiedKFold(self.inner_cv, shuffle=True, random_state=self.random_state)
        return list(split.split(np.zeros(n), y))

    def _choose_gamma(self, y: np.ndarray, z: np.ndarray, agreement: np.ndarray) -> float:
        if self.conflict_gamma != "auto":
            return float(self.conflict_gamma)
        from sklearn.metrics import roc_auc_score  # fitting only

        best, best_auc = 0.0, -1.0
        for g in CONFLICT_GAMMAS:  # ties keep the smaller exponent
            auc = roc_auc_score(y, z * agreement ** g)
            if auc > best_auc + 1e-12:
                best, best_auc = g, auc
        return best

    @classmethod
    def empty(cls, **params: object) -> SpamClassifier:
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

    def partial_fit(self, X: sp.csr_matrix, y: np.ndarray, sample_weight: float = 1.0
                    ) -> SpamClassifier:
        """Learn (or with ``sample_weight=-1`` unlearn, exactly) labelled messages.

        Naive Bayes' counts move for token and structure columns, sender reputation's
        counts for the senders, the byte member's weights by a fixed step
        (``byte_learning_rate``: exactly reversible, as counts are); the token SVM and
        LR keep their weights until the next full retrain. Reputation columns are left
        out of the Naive Bayes counts because a key's bin moves as its counts do, which
        would make unlearning inexact.
        """
        check_fitted(self, "coef_binary_")
        X = sp.csr_matrix(X)
        y = np.asarray(y).astype(int)
        if X.shape[0] != len(y) or not set(np.unique(y)) <= {0, 1}:
            raise ValueError(f"expected labels 0/1 for {X.shape[0]} rows, got {y!r}")
        if sample_weight not in (1.0, -1.0):
            raise ValueError(f"sample_weight must be 1 (learn) or -1 (unlearn), "
                             f"got {sample_weight!r}")
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
        return self

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

    def count_feedback(self, X: sp.csr_matrix, y: np.ndarray) -> SpamClassifier:
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
        weights = np.concatenate([
            np.full(struct_cols.shape[1], self.aux_weight),
            np.full(rep_cols.shape[1], self.aux_weight if self.rep_weight is None
                    else self.rep_weight)])
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
        binary = np.bincount(r, weights=self.coef_binary_[cols], minlength=n)
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
            tw = (self.coef_binary_[cols] + self.binary_offset_
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

    def predict_proba(self, X: sp.csr_matrix) -> np.ndarray:
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: sp.csr_matrix) -> np.ndarray:
        return (self.decision_function(X) > 0).astype(int)

    def score(self, X: sp.csr_matrix, y: np.ndarray,
              sample_weight: np.ndarray | None = None) -> float:
        """Accuracy, as scikit-learn's ``ClassifierMixin`` scores a classifier."""
        return float(np.average(self.predict(X) == np.asarray(y), weights=sample_weight))

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
            vals = np.concatenate([cb[tk] + off + cn[tk] / np.sqrt(max(len(tk), 1)),
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


def _stack(D: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights and intercept of the logistic regression that stacks member decisions
    ``D``, no weight negative: a member whose evidence points the wrong way out of
    fold is left out (weight 0) and the rest refitted, rather than read backwards."""
    from sklearn.linear_model import LogisticRegression  # fitting only

    keep = np.arange(D.shape[1])
    while True:
        stack = LogisticRegression(C=1.0).fit(D[:, keep], y)
        w = stack.coef_.ravel()
        if (w >= 0).all() or len(keep) == 1:
            out = np.zeros(D.shape[1])
            out[keep] = np.maximum(w, 0)
            return out, float(stack.intercept_[0])
        keep = keep[w > 0] if (w > 0).any() else keep[[int(np.argmax(w))]]


def _member_input(E: _Expanded, name: str) -> sp.csr_matrix:
    """What each member reads: counts for Naive Bayes, the unit token rows with the
    weighted aux block for the margin members, the byte n-grams for ``bytes``."""
    return {"nb": E.binary, "bytes": E.grams}.get(name, E.normalized)


def _pos_neg(C: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a matrix of clue values: the sum of the positive ones, of the negative
    ones' magnitudes."""
    return (np.asarray(C.maximum(0).sum(axis=1)).ravel(),
            np.asarray((-C).maximum(0).sum(axis=1)).ravel())


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the logistic regression of ``y`` on the logits ``z``."""
    from sklearn.linear_model import LogisticRegression  # fitting only

    lr = LogisticRegression(C=1e4).fit(z.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


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


