"""Explanation: clues that sum to the logit, the top ones, and their names."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from spamsift.features.structure import structure_names
from spamsift.models.classifier import SpamClassifier
from spamsift.models.explain import column_label, contributions
from spamsift.models.scorer import FEEDBACK_KEYS

Data = tuple[sp.csr_matrix, np.ndarray]


def test_contributions_of_a_row_sum_to_its_logit_minus_intercept(
        fitted_classifier: SpamClassifier, small_xy: Data) -> None:
    clf = fitted_classifier
    X = small_xy[0][:10]
    z = clf.decision_function(X)
    for zi, contrib in zip(z, contributions(clf, X), strict=True):
        assert contrib, "every message has some active feature"
        assert sum(w for _, w in contrib) == pytest.approx(zi - clf.intercept_, abs=1e-9)
        weights = [abs(w) for _, w in contrib]
        assert weights == sorted(weights, reverse=True)


def test_column_labels_name_each_block(fitted_classifier: SpamClassifier) -> None:
    clf = fitted_classifier
    n_tok = clf.layout.n_tokens
    assert column_label(clf, 5) == ("token", "#5")
    kind, label = column_label(clf, n_tok)
    assert kind == "structure"
    # The first bin of the first number: "log_size <= 7.9" style, not "(-inf, 7.9]".
    assert label.startswith(f"{structure_names()[0]} <= ")
    n_struct = clf.bin_edges_.shape[0] * clf.n_bins
    kind, label = column_label(clf, n_tok + n_struct)
    assert kind == "reputation"
    assert label.startswith("rep:")


def test_the_conflict_clue_keeps_clues_summing_to_the_logit(small_xy: Data,
                                                            small_layout: dict[str, int]) -> None:
    X, y = small_xy
    clf = SpamClassifier(model="nb+svm", conflict_gamma=1, **small_layout).fit(X, y)
    z = clf.decision_function(X[:20])
    kinds = set()
    for zi, contrib in zip(z, contributions(clf, X[:20]), strict=True):
        assert sum(w for _, w in contrib) == pytest.approx(zi - clf.intercept_, abs=1e-9)
        kinds |= {column_label(clf, j)[0] for j, _ in contrib}
    assert "conflict" in kinds


@pytest.mark.parametrize("top", [0, 1, 3, 8, 10_000])
def test_the_top_clues_are_the_head_of_all_of_them(fitted_classifier: SpamClassifier,
                                                   small_xy: Data, top: int) -> None:
    X, _ = small_xy
    every = contributions(fitted_classifier, X[:20])
    for row, head in zip(every, contributions(fitted_classifier, X[:20], top), strict=True):
        assert head == row[:top]


def _row_by_row(clf: SpamClassifier, X: sp.csr_matrix, top: int | None
                ) -> list[list[tuple[int, float]]]:
    """The oracle: contributions as they were computed before, one row at a time and
    ranked by a stable sort of that row's values alone."""
    t = clf.terms(X)
    X, aux, inter, fb = t.X, t.aux, t.interactions, t.feedback
    lay = clf.layout
    a0 = lay.n_tokens
    a1 = a0 + aux.shape[1]
    n_exp = a1 + clf.n_interactions
    cb, cn, off = clf.coef_binary_, clf.coef_normalized_, clf.binary_offset_
    out = []
    for i in range(X.shape[0]):
        idx = X.indices[X.indptr[i]:X.indptr[i + 1]]
        tk = idx[idx < lay.n_tokens]
        ac = a0 + aux.indices[aux.indptr[i]:aux.indptr[i + 1]]
        av = aux.data[aux.indptr[i]:aux.indptr[i + 1]]
        im = np.flatnonzero(inter[i])
        fk = np.flatnonzero(fb[i])
        g = idx >= lay.bytes.start
        gcols = idx[g] - lay.bytes.start
        gw = X.data[X.indptr[i]:X.indptr[i + 1]][g] * clf.coef_bytes_[gcols]
        cols = np.concatenate([tk, ac, a1 + im, n_exp + fk,
                               clf.n_expanded + FEEDBACK_KEYS + 1 + gcols[gw != 0]])
        vals = np.concatenate([clf.token_weights(tk) + off + cn[tk] / np.sqrt(max(len(tk), 1)),
                               0.0 + av * (cb[ac] + off + cn[ac]),
                               inter[i, im] * cn[a1 + im], fb[i, fk], gw[gw != 0]])
        if clf.conflict_gamma_:
            pos, neg = vals[vals > 0].sum(), -vals[vals < 0].sum()
            linear = pos - neg + clf.intercept_
            shrunk = float(clf.conflict_scaled(np.array([linear]), np.array([pos]),
                                               np.array([neg]))[0])
            if shrunk != linear:
                cols = np.append(cols, n_exp + FEEDBACK_KEYS)
                vals = np.append(vals, shrunk - linear)
        order = np.argsort(-np.abs(vals), kind="stable")[:top]
        out.append(list(zip(cols[order].tolist(), vals[order].tolist(), strict=True)))
    return out


def _with_bytes(X: sp.csr_matrix, bits: int) -> sp.csr_matrix:
    """``X`` with a byte n-gram block of unit rows appended (random counts)."""
    rng = np.random.default_rng(1)
    grams = sp.random(X.shape[0], 2**bits, density=0.2, random_state=rng, format="csr")
    grams = sp.diags(1.0 / np.maximum(sp.linalg.norm(grams, axis=1), 1e-12)) @ grams
    return sp.hstack([X, grams], format="csr")


@pytest.mark.parametrize("params", [
    pytest.param({}, id="default"),
    pytest.param({"conflict_gamma": 1}, id="conflict"),
    pytest.param({"interaction_weight": 0.05}, id="interactions"),
    pytest.param({"model": "nb+svm+bytes", "byte_bits": 6, "conflict_gamma": 1}, id="bytes"),
])
@pytest.mark.parametrize("top", [None, 0, 1, 8])
def test_all_rows_at_once_give_each_row_s_own_clues(small_xy: Data,
                                                    small_layout: dict[str, int],
                                                    params: dict[str, object],
                                                    top: int | None) -> None:
    X, y = small_xy
    if "byte_bits" in params:
        X = _with_bytes(X, int(params["byte_bits"]))  # type: ignore[call-overload]
    clf = SpamClassifier(**{"model": "nb+svm", **small_layout, **params}).fit(X, y)
    # Some rows with feedback on their senders, so that block has clues too.
    clf.feedback_count_[1, :50] = 3.0
    rows = X[:25]
    # Two of the first row's tokens made its largest clues, and equal: ties keep their
    # column order.
    c1, c2 = rows.indices[:2]
    clf.coef_binary_[[c1, c2]] = 50.0
    clf.coef_normalized_[[c1, c2]] = 0.0
    expected = _row_by_row(clf, rows, top)
    assert contributions(clf, rows, top) == expected
    assert contributions(clf, rows, top, clf.terms(rows)) == expected
    tied = [c for c, _ in expected[0] if c in (c1, c2)]
    assert tied == [c1, c2][:len(tied)] and (top in (0, 1) or len(tied) == 2)
