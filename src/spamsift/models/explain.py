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
from spamsift.features.hashing import token_columns
from spamsift.features.structure import structure_names
from spamsift.features.tokens import tokenize
from spamsift.models.scorer import FEEDBACK_KEYS, SpamScorer, Terms

if TYPE_CHECKING:
    from spamsift.models.spam_model import SpamModel
    from spamsift.parse import ParsedMessage

__all__ = ["contributions", "column_label", "name_clues"]

# Structural numbers that are yes/no: their bins read "html_only: yes".
_YES_NO = frozenset({"html_only", "has_html"})


def contributions(clf: SpamScorer, X: sp.csr_matrix, top: int | None = None,
                  terms: Terms | None = None) -> list[list[tuple[int, float]]]:
    """Per row of ``X``, (column, contribution to the logit) of every active feature,
    largest first; they sum to the logit less the intercept.

    Columns count the expanded features (:attr:`SpamScorer.n_expanded`), then the
    feedback keys, the conflict scale and the byte n-grams (:func:`column_label` names
    each). ``top``: only the ``top`` largest (ties in column-block order). ``terms``:
    ``clf.terms(X)``, when the caller has it already.

    Every row's clues are computed at once, as entries (row, column, value) in each
    row's block order; a row at a time cost ~0.1 ms a message in batches of 8, more
    than the logit itself.
    """
    t = clf.terms(X) if terms is None else terms
    X, aux, inter, fb = t.X, t.aux, t.interactions, t.feedback
    n = X.shape[0]
    lay = clf.layout
    a0 = lay.n_tokens
    a1 = a0 + aux.shape[1]
    n_exp = a1 + clf.n_interactions
    cb, cn, off = clf.coef_binary_, clf.coef_normalized_, clf.binary_offset_
    rows = t.entries.rows
    tok = X.indices < lay.n_tokens
    tr, tc = rows[tok], X.indices[tok].astype(np.int64)
    count = np.bincount(tr, minlength=n).astype(np.float64)
    ar = np.repeat(np.arange(n, dtype=np.int64), np.diff(aux.indptr))
    ac = a0 + aux.indices.astype(np.int64)
    ir, im = np.nonzero(inter)
    fr, fk = np.nonzero(fb)
    g = X.indices >= lay.bytes.start
    gcols = X.indices[g].astype(np.int64) - lay.bytes.start
    gw = X.data[g] * clf.coef_bytes_[gcols]
    live = gw != 0
    # Each block's entries are in row order; a stable sort by row puts a row's blocks
    # side by side in this order: tokens, aux, products, feedback, byte n-grams.
    r = np.concatenate([tr, ar, ir, fr, rows[g][live]])
    cols = np.concatenate([tc, ac, a1 + im, n_exp + fk, _bytes_base(clf) + gcols[live]])
    vals = np.concatenate([clf.token_weights(tc) + off + cn[tc] / np.sqrt(np.maximum(count[tr],
                                                                                        1.0)),
                           0.0 + aux.data * (cb[ac] + off + cn[ac]),
                           inter[ir, im] * cn[a1 + im], fb[fr, fk], gw[live]])
    order = np.argsort(r, kind="stable")
    r, cols, vals = r[order], cols[order], vals[order]
    if getattr(clf, "conflict_gamma_", 0.0):
        r, cols, vals = _with_conflict(clf, r, cols, vals, n, n_exp + FEEDBACK_KEYS)
    # Largest first within each row, ties in block order (a stable sort), then the
    # first ``top`` of each row.
    order = np.lexsort((-np.abs(vals), r))
    r = r[order]
    starts = np.searchsorted(r, np.arange(n + 1))
    if top is not None:
        rank = np.arange(len(r)) - starts[r]
        keep = rank < max(top, 0)
        order, r = order[keep], r[keep]
        starts = np.searchsorted(r, np.arange(n + 1))
    pairs = list(zip(cols[order].tolist(), vals[order].tolist(), strict=True))
    bounds = starts.tolist()
    return [pairs[bounds[i]:bounds[i + 1]] for i in range(n)]


def _with_conflict(clf: SpamScorer, r: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                   n: int, col: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The conflict scale as a clue, last of each row whose logit it moves: what it
    takes from (or adds to) the sum. Row by row, so each sum is NumPy's over that row's
    clues, as the scorer's own."""
    starts = np.searchsorted(r, np.arange(n + 1))
    extra_r, extra_v = [], []
    for i in range(n):
        v = vals[starts[i]:starts[i + 1]]
        pos, neg = v[v > 0].sum(), -v[v < 0].sum()
        linear = pos - neg + clf.intercept_
        shrunk = float(clf.conflict_scaled(np.array([linear]), np.array([pos]),
                                           np.array([neg]))[0])
        if shrunk != linear:
            extra_r.append(i)
            extra_v.append(shrunk - linear)
    if not extra_r:
        return r, cols, vals
    r = np.concatenate([r, extra_r])
    order = np.argsort(r, kind="stable")  # each row's conflict clue after its others
    return (r[order], np.concatenate([cols, np.full(len(extra_r), col)])[order],
            np.concatenate([vals, extra_v])[order])


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
    # Hashed columns carry no names: the message's tokens that hash to a clue's column,
    # each once, in order of first sight. Only those are looked at: a dict of every
    # token's column cost ~0.06 ms a message.
    featurizer, clf = model.featurizer, model.classifier
    if tokens is None:
        tokens = tokenize(msg, site=featurizer.site_evidence)
    n_tokens = clf.layout.n_tokens
    wanted = [j for j, _ in contrib if j < n_tokens]
    names: dict[int, list[str]] = {}
    if wanted and tokens:
        cols = token_columns(tokens, n_tokens)
        hit = cols == wanted[0]
        for j in wanted[1:]:
            hit |= cols == j
        for i in np.flatnonzero(hit).tolist():
            seen = names.setdefault(int(cols[i]), [])
            if tokens[i] not in seen:
                seen.append(tokens[i])
    labels = [("token", f"#{j}") if j < n_tokens else column_label(clf, j) for j, _ in contrib]
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
