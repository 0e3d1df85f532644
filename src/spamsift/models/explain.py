"""Explanation: the clues behind a score, and their names.

A fitted :class:`~spamsift.models.scorer.SpamScorer`'s logit is a sum of per-feature
terms (models/classifier.py's docstring). :func:`contributions` takes that sum apart,
row by row, largest terms first; :func:`column_label` names a term's column by its
block (a bin reads ``2 < n_urls <= 5``, a reputation column
``rep:from_addr:spam_rate 0.90-0.98 seen 6+``); :func:`name_clues` names hashed token
and byte n-gram columns by the message's own tokens and bytes, so a clue reads
``subj:free`` or ``bytes:hdr:Subject "FREE"`` rather than ``#81234``.

>>> contrib = contributions(model.classifier, X, top=8)        # doctest: +SKIP
>>> name_clues(model, message, contrib[0])                     # doctest: +SKIP
[('subj:free', 1.31), ('rep:from_addr:unknown', 1.0), ...]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from spamsift.features.featurizer import REPUTATION_KEYS
from spamsift.features.structure import structure_names
from spamsift.features.tokens import tokenize
from spamsift.models.scorer import FEEDBACK_KEYS, SpamScorer

if TYPE_CHECKING:
    from spamsift.models.spam_model import SpamModel
    from spamsift.parse import ParsedMessage

__all__ = ["contributions", "column_label", "name_clues"]

# Structural numbers that are yes/no: their bins read "html_only: yes".
_YES_NO = frozenset({"html_only", "has_html"})


def contributions(clf: SpamScorer, X: sp.csr_matrix, top: int | None = None
                  ) -> list[list[tuple[int, float]]]:
    """Per row of ``X``, (column, contribution to the logit) of every active feature,
    largest first; they sum to the logit less the intercept.

    Columns count the expanded features (:attr:`SpamScorer.n_expanded`), then the
    feedback keys, the conflict scale and the byte n-grams (:func:`column_label` names
    each). ``top``: only the ``top`` largest (found by a partial sort; ties in
    column-block order, as the full sort puts them).
    """
    t = clf.terms(X)
    X, aux, inter, fb = t.X, t.aux, t.interactions, t.feedback
    lay = clf.layout
    a0 = lay.n_tokens
    a1 = a0 + aux.shape[1]
    n_exp = a1 + clf.n_interactions
    gamma = getattr(clf, "conflict_gamma_", 0.0)
    bytes_base = _bytes_base(clf)
    cb, cn, off = clf.coef_binary_, clf.coef_normalized_, clf.binary_offset_
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
        gw = X.data[X.indptr[i]:X.indptr[i + 1]][g] * clf.coef_bytes_[gcols]
        # Every block's columns are its own, so the clues are these arrays side by side.
        cols = np.concatenate([tk, ac, a1 + im, n_exp + fk, bytes_base + gcols[gw != 0]])
        vals = np.concatenate([clf.token_weights(tk) + off + cn[tk] / np.sqrt(max(len(tk), 1)),
                               0.0 + av * (cb[ac] + off + cn[ac]),
                               inter[i, im] * cn[a1 + im], fb[i, fk], gw[gw != 0]])
        if gamma:
            # The conflict scale as a clue: what it takes from (or adds to) the sum.
            pos, neg = vals[vals > 0].sum(), -vals[vals < 0].sum()
            linear = pos - neg + clf.intercept_
            shrunk = float(clf.conflict_scaled(np.array([linear]), np.array([pos]),
                                               np.array([neg]))[0])
            if shrunk != linear:
                cols = np.append(cols, n_exp + FEEDBACK_KEYS)
                vals = np.append(vals, shrunk - linear)
        order = _largest(np.abs(vals), top)
        out.append(list(zip(cols[order].tolist(), vals[order].tolist(), strict=True)))
    return out


def _bytes_base(clf: SpamScorer) -> int:
    """Where the byte n-gram columns start among :func:`contributions`' columns: after
    the expanded block, the feedback keys and the conflict clue."""
    return clf.n_expanded + FEEDBACK_KEYS + 1


def column_label(clf: SpamScorer, j: int) -> tuple[str, str]:
    """(kind, readable name) of a column of :func:`contributions`.

    The kind is ``token``, ``structure``, ``reputation``, ``feedback``, ``conflict``
    or ``bytes``. Token and byte n-gram columns are hashed and named ``#column``
    (:func:`name_clues` names them by a message's tokens and bytes).
    """
    lay = clf.layout
    if j < lay.n_tokens:
        return "token", f"#{j}"
    base = _bytes_base(clf)
    if j >= base:
        return "bytes", f"#{j - base}"
    j -= lay.n_tokens
    n_struct = clf.bin_edges_.shape[0] * clf.n_bins
    n_rep = clf.reputation_.n_output
    names = structure_names()
    if j >= n_struct + n_rep + clf.n_interactions:
        k = j - n_struct - n_rep - clf.n_interactions
        if k >= FEEDBACK_KEYS:
            return "conflict", "conflict: clues point both ways"
        return "feedback", f"feedback:{REPUTATION_KEYS[k]}"
    if j >= n_struct + n_rep:
        a, b = np.triu_indices(clf.n_structure, 1)
        i = j - n_struct - n_rep
        return "structure", f"{names[a[i]]} x {names[b[i]]}"
    if j < n_struct:
        col, b = divmod(j, clf.n_bins)
        name = names[col] if col < len(names) else f"structure{col}"
        return "structure", _bin_text(name, clf.bin_edges_[col], b)
    return "reputation", clf.reputation_.column_label(j - n_struct, REPUTATION_KEYS)


def name_clues(model: SpamModel, msg: ParsedMessage, contrib: list[tuple[int, float]],
               tokens: list[str] | None = None) -> list[tuple[str, float]]:
    """``contrib`` (one row of :func:`contributions`) as (clue, weight), each column
    named: a token column by the message's tokens hashed to it (up to three), a byte
    n-gram column by the n-grams behind it and where they stand.

    ``tokens``: the message's tokens as the featurizer made them (else made again).
    """
    # Hashed columns carry no names: map each of the message's tokens to its column.
    featurizer, clf = model.featurizer, model.classifier
    if tokens is None:
        tokens = tokenize(msg, site=featurizer.site_evidence)
    names: dict[int, list[str]] = {}
    for tok, col in featurizer.token_index(tokens).items():
        names.setdefault(col, []).append(tok)
    labels = [column_label(clf, j) for j, _ in contrib]
    byte_cols = {j: int(label[1:]) for (j, _), (kind, label) in zip(contrib, labels, strict=True)
                 if kind == "bytes"}
    grams = featurizer.byte_ngrams
    found = grams.clues(msg.head, byte_cols.values()) if grams and byte_cols else {}
    out = []
    for (j, w), (kind, label) in zip(contrib, labels, strict=True):
        if kind == "token":
            label = " | ".join(names.get(j, [label])[:3])
        elif kind == "bytes":
            # The n-grams behind the column, by where they stand: 'bytes:hdr:Subject "FREE"'.
            label = " | ".join(f'bytes:{c.where} "{c.word}"'
                               for c in found.get(byte_cols[j], [])[:2]) or f"bytes:{label}"
        out.append((label, float(w)))
    return out


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
