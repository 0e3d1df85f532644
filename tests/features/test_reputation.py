"""SenderReputation: counts, out-of-fold encoding, exact add and remove, labels."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold

from spamsift.features.reputation import SenderReputation

KINDS = ("from_addr", "from_domain", "relay_net")
WIDTH = 8  # buckets per kind in these tests
PER_KIND = SenderReputation(n_kinds=3).n_output // 3


def _keys(rows: list[tuple[int | None, ...]], n_kinds: int = 3) -> sp.csr_matrix:
    """One-hot key matrix: row i has bucket rows[i][k] (or none) in kind block k."""
    r, c = [], []
    for i, row in enumerate(rows):
        for k, bucket in enumerate(row):
            if bucket is not None:
                r.append(i)
                c.append(k * WIDTH + bucket)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(rows), n_kinds * WIDTH))


def _cols(Xt: sp.csr_matrix) -> np.ndarray:
    """The active column of each row within each kind block (each row has exactly one)."""
    Xt = Xt.tocsr()
    assert (np.diff(Xt.indptr) == Xt.shape[1] // PER_KIND).all()
    return Xt.indices.reshape(Xt.shape[0], -1) - np.arange(Xt.shape[1] // PER_KIND) * PER_KIND


# Four messages: sender 0 twice (spam, spam), sender 1 once (ham), one with no sender.
ROWS = [(0, 0, None), (0, 0, 3), (1, 0, 3), (None, 2, None)]
Y = np.array([1, 1, 0, 1])


def test_counts_and_prior():
    rep = SenderReputation(n_kinds=3).fit(_keys(ROWS), Y)
    spam, ham = rep.spam_.reshape(3, WIDTH), rep.ham_.reshape(3, WIDTH)
    assert spam[0].tolist() == [2, 0, 0, 0, 0, 0, 0, 0]
    assert ham[0].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert spam[1].tolist() == [2, 0, 1, 0, 0, 0, 0, 0]
    assert ham[1].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert (spam[2, 3], ham[2, 3]) == (1, 1)
    assert rep.prior_ == 0.75
    assert rep.n_features_in_ == 3 * WIDTH


def test_transform_by_hand():
    rep = SenderReputation(n_kinds=3, smoothing=2.0).fit(_keys(ROWS), Y)
    cols = _cols(rep.transform(_keys(ROWS + [(5, 5, 5)])))
    # Sender 0: (2 + 2 * 0.75) / (2 + 2) = 0.875, rate bin 4 (0.70-0.90), seen 2-5.
    assert rep.column_label(cols[0, 0], KINDS) == "rep:from_addr:spam_rate 0.70-0.90 seen 2-5"
    # Sender 1: (0 + 1.5) / (1 + 2) = 0.5, rate bin 3 (0.30-0.70), seen once.
    assert rep.column_label(cols[2, 0], KINDS) == "rep:from_addr:spam_rate 0.30-0.70 seen once"
    # Domain 0 seen 3 times, 2 spam: (2 + 1.5) / 5 = 0.7 sits on an edge: lower bin.
    assert rep.column_label(PER_KIND + cols[0, 1], KINDS) == (
        "rep:from_domain:spam_rate 0.30-0.70 seen 2-5")
    # No key, or a key never seen: column 0 of the kind's block.
    assert cols[3, 0] == 0 and cols[0, 2] == 0
    assert cols[4].tolist() == [0, 0, 0]


def _population(n: int = 40, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    """Half spam; senders 0-2 spread over many rows, sender 7 only in row 0."""
    rng = np.random.default_rng(seed)
    y = np.array([0, 1] * (n // 2))
    rows = [(7, 7, 7)] + [tuple(int(b) for b in rng.integers(0, 3, size=3))
                          for _ in range(n - 1)]
    return _keys(rows), y


def test_fit_transform_is_out_of_fold():
    X, y = _population()
    rep = SenderReputation(n_kinds=3)
    oof = _cols(rep.fit_transform(X, y))
    in_sample = _cols(rep.transform(X))
    # Row 0's keys appear nowhere else: unknown out of fold, known in sample.
    assert oof[0].tolist() == [0, 0, 0]
    assert (in_sample[0] > 0).all()
    assert rep.column_label(in_sample[0, 0], KINDS).endswith("seen once")


def test_fit_transform_equals_fitting_on_the_other_folds():
    """The oracle: each fold encoded by an estimator fitted on the rest alone."""
    X, y = _population(n=60, seed=3)
    rep = SenderReputation(n_kinds=3, cv=4, random_state=11)
    got = rep.fit_transform(X, y).toarray()
    expected = np.zeros_like(got)
    folds = StratifiedKFold(4, shuffle=True, random_state=11)
    for tr, te in folds.split(np.zeros(len(y)), y):
        expected[te] = SenderReputation(n_kinds=3).fit(X[tr], y[tr]).transform(X[te]).toarray()
    np.testing.assert_array_equal(got, expected)
    # And the fitted state is that of all rows.
    full = SenderReputation(n_kinds=3).fit(X, y)
    np.testing.assert_array_equal(rep.spam_, full.spam_)
    assert rep.prior_ == full.prior_


@pytest.mark.parametrize(
    ("rows", "y"),
    [
        pytest.param([(0, 0, 0), (1, 1, 1), (2, 2, 2)], [1, 1, 0], id="too-few-to-stratify"),
        pytest.param([(0, 0, 0), (1, 1, 1), (2, 2, 2)], [1, 1, 1], id="one-class"),
        pytest.param([(0, 0, 0)], [1], id="one-row"),
    ],
)
def test_small_data_still_keeps_own_label_out(rows: list[tuple[int, ...]], y: list[int]):
    # Each sender appears once, so out of fold every key is unknown.
    X = _keys(rows)
    rep = SenderReputation(n_kinds=3, cv=5)
    assert (_cols(rep.fit_transform(X, np.array(y))) == 0).all()
    assert (_cols(rep.transform(X)) > 0).all()


def test_small_data_uses_the_other_rows():
    # One sender in three rows: each row sees the other two.
    X = _keys([(0, None, None)] * 3)
    rep = SenderReputation(n_kinds=3, cv=5)
    cols = _cols(rep.fit_transform(X, np.array([1, 1, 0])))
    labels = [rep.column_label(c, KINDS) for c in cols[:, 0]]
    assert all(label.endswith("seen 2-5") for label in labels)


def test_partial_fit_adds_and_removes_exactly():
    X, y = _population(n=40, seed=5)
    A, B = slice(0, 25), slice(25, 40)
    batch = SenderReputation(n_kinds=3).fit(X, y)
    rep = SenderReputation(n_kinds=3).fit(X[A], y[A])
    before = (rep.spam_.copy(), rep.ham_.copy(), rep.prior_)
    rep.partial_fit(X[B], y[B])
    np.testing.assert_array_equal(rep.spam_, batch.spam_)
    np.testing.assert_array_equal(rep.ham_, batch.ham_)
    rep.partial_fit(X[B], y[B], sample_weight=-1)
    np.testing.assert_array_equal(rep.spam_, before[0])
    np.testing.assert_array_equal(rep.ham_, before[1])
    # The prior stays the rate of the data fit saw.
    assert rep.prior_ == before[2]


def test_partial_fit_one_message_at_a_time_equals_batch():
    X, y = _population(n=20, seed=6)
    rep = SenderReputation(n_kinds=3).fit(X[:2], y[:2])
    for i in range(2, 20):
        rep.partial_fit(X[i], y[i: i + 1])
    batch = SenderReputation(n_kinds=3).fit(X, y)
    np.testing.assert_array_equal(rep.spam_, batch.spam_)
    np.testing.assert_array_equal(rep.ham_, batch.ham_)


def test_removing_what_was_never_added_stops_at_zero():
    rep = SenderReputation(n_kinds=3).fit(_keys([(0, 0, 0)]), np.array([1]))
    rep.partial_fit(_keys([(0, 0, 0), (1, 1, 1)]), np.array([1, 1]), sample_weight=-1)
    assert rep.spam_.min() == 0 and rep.spam_.sum() == 0


@pytest.mark.parametrize(
    ("params", "X", "y", "match"),
    [
        pytest.param({"smoothing": 0.0}, _keys(ROWS), Y, "smoothing must be > 0", id="smoothing"),
        pytest.param({"n_kinds": 0}, _keys(ROWS), Y, "n_kinds must be", id="n-kinds"),
        pytest.param({"n_kinds": 5}, _keys(ROWS), Y, "do not split into 5 kinds",
                     id="columns-not-divisible"),
        pytest.param({}, _keys(ROWS), Y[:3], "3 labels for 4 rows", id="label-count"),
        pytest.param({}, _keys(ROWS), np.array([0, 1, 2, 1]), "must hold 0", id="label-values"),
    ],
)
def test_fit_rejects(params: dict[str, object], X: sp.csr_matrix, y: np.ndarray, match: str):
    with pytest.raises(ValueError, match=match):
        SenderReputation(**params).fit(X, y)  # type: ignore[arg-type]


def test_fit_transform_needs_labels_and_folds():
    with pytest.raises(ValueError, match="needs labels"):
        SenderReputation().fit_transform(_keys(ROWS))
    with pytest.raises(ValueError, match="cv must be an int >= 2"):
        SenderReputation(cv=1).fit_transform(_keys(ROWS), Y)


def test_transform_and_partial_fit_check_width_and_fit():
    with pytest.raises(NotFittedError):
        SenderReputation().transform(_keys(ROWS))
    with pytest.raises(NotFittedError):
        SenderReputation().partial_fit(_keys(ROWS), Y)
    rep = SenderReputation(n_kinds=3).fit(_keys(ROWS), Y)
    narrow = sp.csr_matrix((1, 3 * WIDTH - 3))
    with pytest.raises(ValueError, match="expected 24"):
        rep.transform(narrow)
    with pytest.raises(ValueError, match="expected 24"):
        rep.partial_fit(narrow, np.array([1]))


@pytest.mark.parametrize(
    ("j", "label"),
    [
        pytest.param(0, "rep:from_addr:unknown", id="unknown"),
        pytest.param(1, "rep:from_addr:spam_rate 0.00-0.02 seen once", id="first"),
        pytest.param(3, "rep:from_addr:spam_rate 0.00-0.02 seen 6+", id="often"),
        pytest.param(PER_KIND - 1, "rep:from_addr:spam_rate 0.98-1.00 seen 6+", id="last"),
        pytest.param(PER_KIND, "rep:from_domain:unknown", id="second-kind"),
        pytest.param(2 * PER_KIND + 5, "rep:relay_net:spam_rate 0.02-0.10 seen 2-5",
                     id="third-kind"),
    ],
)
def test_column_label(j: int, label: str):
    assert SenderReputation(n_kinds=3).column_label(j, KINDS) == label


def test_column_labels_are_unique_and_fall_back_to_numbers():
    rep = SenderReputation(n_kinds=3)
    labels = [rep.column_label(j, KINDS) for j in range(rep.n_output)]
    assert len(set(labels)) == rep.n_output
    assert rep.column_label(PER_KIND, ("from_addr",)) == "rep:1:unknown"
