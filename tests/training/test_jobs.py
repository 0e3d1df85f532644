"""The jobs behind train, evaluate and score: datasets, splits without leaks, reports."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from spamsift.config import Settings
from spamsift.exceptions import TrainingError
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import IngestReport, RawMessage
from spamsift.models.spam_model import SpamModel
from spamsift.training import trainer as trainer_module
from spamsift.training.jobs import (
    Dataset,
    evaluate_job,
    load_dataset,
    most_confident,
    score_rows,
    split_dataset,
    train_job,
)
from spamsift.training.trainer import TrainOptions, token_bits_for

Mail = list[tuple[bytes, str]]


def _relayed(data: bytes) -> bytes:
    """The same mail with other headers: another recipient and Message-ID, a trace line."""
    head, _, body = data.partition(b"\n\n")
    head = head.replace(b"To: someone@example.org", b"To: list@lists.example.com")
    head = head.replace(b"Message-ID: <", b"Message-ID: <relayed.")
    return b"Received: from relay.example.net\n" + head + b"\n\n" + body


def _split_of(i: int) -> str:
    return "test" if i // 2 % 4 == 0 else "train"  # every fourth ham-spam pair


@pytest.fixture(scope="module")
def column_messages(mail_set: Mail) -> list[RawMessage]:
    """The small set split by a column, plus duplicates planted across the split.

    Rows 80.. are: 80 a train copy of test row 0 (exact), 81 a train relay of test row 1
    (same content), 82 a test copy of test row 8, 83 a train copy of train row 2, 84 a
    row with no split value.
    """
    msgs = [RawMessage(f"m{i}", data, label, _split_of(i))
            for i, (data, label) in enumerate(mail_set)]
    planted = [
        RawMessage("dup-exact", mail_set[0][0], mail_set[0][1], "train"),
        RawMessage("dup-relayed", _relayed(mail_set[1][0]), mail_set[1][1], "train"),
        RawMessage("dup-test", mail_set[8][0], mail_set[8][1], "test"),
        RawMessage("dup-train", mail_set[2][0], mail_set[2][1], "train"),
        RawMessage("no-split", mail_set[3][0], mail_set[3][1], None),
    ]
    return msgs + planted


@pytest.fixture(scope="module")
def column_ds(column_messages: list[RawMessage], small_featurizer: MessageFeaturizer) -> Dataset:
    return load_dataset(column_messages, small_featurizer, n_jobs=1)


def test_load_dataset_keeps_order_labels_and_splits(column_ds: Dataset,
                                                    column_messages: list[RawMessage]) -> None:
    assert column_ds.sources == [m.source for m in column_messages]
    assert column_ds.y.tolist() == [int(m.label == "spam") for m in column_messages]
    assert column_ds.split == [m.split for m in column_messages]
    assert column_ds.X.shape == (len(column_messages),
                                 column_ds.featurizer.layout.n_features)
    assert len(column_ds.meta) == len(column_messages)
    assert len(column_ds.datas_fingerprint) == 64


def test_load_dataset_skips_unlabelled_only_when_labelled(
        small_featurizer: MessageFeaturizer, mail_set: Mail) -> None:
    msgs = [RawMessage("a", mail_set[0][0], "ham"), RawMessage("b", mail_set[1][0], None)]
    report = IngestReport()
    ds = load_dataset(msgs, small_featurizer, n_jobs=1, report=report)
    assert ds.sources == ["a"]
    assert report.reasons["no label"] == 1
    ds = load_dataset(msgs, small_featurizer, n_jobs=1, labelled=False)
    assert ds.sources == ["a", "b"]
    assert ds.y.tolist() == [0, -1]
    assert ds.X.shape[0] == 2


def test_column_split_keeps_every_test_row_and_drops_leaking_training_rows(
        column_ds: Dataset) -> None:
    tr, te, dropped = split_dataset(column_ds, "column")
    src = column_ds.sources
    test_rows = [i for i, s in enumerate(column_ds.split) if s == "test"]
    assert te.tolist() == test_rows  # duplicates among test rows stay too
    assert "dup-test" in {src[i] for i in te}
    train_sources = {src[i] for i in tr}
    assert not train_sources & {"dup-exact", "dup-relayed", "dup-train", "no-split"}
    assert "m2" in train_sources  # the first of a training duplicate pair stays
    assert dropped == 3
    expected = [i for i, s in enumerate(column_ds.split) if s == "train"
                and src[i] not in {"dup-exact", "dup-relayed", "dup-train"}]
    assert tr.tolist() == expected


@pytest.mark.parametrize("how", ["random", "time"])
def test_own_split_removes_duplicates_before_splitting(column_ds: Dataset, how: str) -> None:
    tr, te, dropped = split_dataset(column_ds, how, seed=0)
    assert dropped == 5  # the five planted copies ("no-split" copies m3)
    assert not set(tr.tolist()) & set(te.tolist())
    kept = [column_ds.sources[i] for i in np.concatenate([tr, te])]
    assert not {"dup-exact", "dup-relayed", "dup-test", "dup-train", "no-split"} & set(kept)
    assert len(tr) + len(te) == len(column_ds.sources) - dropped
    assert len(te) == round(0.2 * (len(tr) + len(te)))


def test_time_split_tests_on_the_newest(column_ds: Dataset) -> None:
    tr, te, _ = split_dataset(column_ds, "time")
    stamps = [m.timestamp for m in column_ds.meta]
    assert max(stamps[i] for i in tr) < min(stamps[i] for i in te)


def test_random_split_is_stratified(column_ds: Dataset) -> None:
    tr, te, _ = split_dataset(column_ds, "random", seed=0)
    assert column_ds.y[te].mean() == pytest.approx(column_ds.y[tr].mean(), abs=0.05)


def test_unknown_split(column_ds: Dataset) -> None:
    with pytest.raises(ValueError, match="'column', 'random' or 'time'"):
        split_dataset(column_ds, "by-size")


def test_train_job_on_a_column_split(column_ds: Dataset, small_settings: Settings) -> None:
    model, details, te = train_job(column_ds, "column", small_settings,
                                   TrainOptions(learning_curve=False))
    assert te.tolist() == [i for i, s in enumerate(column_ds.split) if s == "test"]
    td = model.info["training_data"]
    assert td == {"fingerprint": column_ds.datas_fingerprint, "split": "column",
                  "n_train": len(column_ds.sources) - len(te) - 4, "n_test": len(te),
                  "duplicates_dropped": 3}
    assert details["duplicates_dropped"] == 3
    test = column_ds.rows(te)
    scores = model.classifier.predict_proba(test.X)[:, 1]
    assert np.all((scores >= model.spam_cutoff) == (test.y == 1))


def test_train_job_without_training_rows(column_ds: Dataset, small_settings: Settings) -> None:
    only_test = dataclasses.replace(column_ds, split=["test"] * len(column_ds.split))
    with pytest.raises(TrainingError, match="no training rows"):
        train_job(only_test, "column", small_settings, TrainOptions(learning_curve=False))


def test_score_rows(small_model: SpamModel, column_ds: Dataset) -> None:
    rows = score_rows(small_model, column_ds.X[:6], column_ds.sources[:6])
    assert [r.source for r in rows] == column_ds.sources[:6]
    assert all(r.label is None and 0 <= r.score <= 1 for r in rows)
    assert all(r.verdict == small_model.verdict(r.score) for r in rows)
    np.testing.assert_allclose([r.score for r in rows],
                               small_model.classifier.predict_proba(column_ds.X[:6])[:, 1])
    labelled = score_rows(small_model, column_ds.X[:2], column_ds.sources[:2], column_ds.y[:2])
    assert [r.label for r in labelled] == column_ds.y[:2].tolist()
    assert score_rows(small_model, column_ds.X[:0], []) == []


def test_evaluate_job_metrics_only(small_model: SpamModel, column_ds: Dataset) -> None:
    test = column_ds.rows(np.arange(20))
    metrics = evaluate_job(small_model, test, None)
    assert metrics["n"] == 20 and metrics["n_spam"] == 10
    assert metrics["roc_auc"] == 1.0


@pytest.mark.parametrize("with_datas", [True, False], ids=["reparsed-clues", "column-clues"])
def test_evaluate_job_writes_metrics_and_report(small_model: SpamModel, column_ds: Dataset,
                                                column_messages: list[RawMessage],
                                                tmp_path: Path, with_datas: bool) -> None:
    # Everything called spam: every ham is an error the report must list with its clues.
    model = dataclasses.replace(small_model, spam_cutoff=0.0, unsure_cutoff=0.0)
    test = column_ds.rows(np.arange(10))
    datas = {m.source: m.data for m in column_messages} if with_datas else None
    metrics = evaluate_job(model, test, tmp_path / "report", datas=datas, top=3)
    assert metrics["fp"] == 5
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text(encoding="utf-8"))
    assert saved["metrics"]["fp"] == 5
    assert saved["cutoffs"] == {"spam": 0.0, "unsure": 0.0}
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "m0" in html  # a misclassified ham is listed by its source


def test_most_confident_ignores_the_cut_off():
    y = np.array([0, 0, 1, 0, 1, 1, 0])
    s = np.array([0.2, 0.9, 0.1, 0.5, 0.95, 0.3, 0.9])
    ham, spam = most_confident(y, s, 2)
    assert ham.tolist() == [1, 6]  # the two 0.9 ham, in row order
    assert spam.tolist() == [2, 5]  # 0.1 then 0.3
    ham, spam = most_confident(y, s, 10)
    assert ham.tolist() == [1, 6, 3, 0] and spam.tolist() == [2, 5, 4]


def _section(page: str, sid: str) -> str:
    start = page.index(f'<section id="{sid}">')
    return page[start : page.index("</section>", start)]


def test_report_lists_the_highest_scored_ham_below_the_cut_off(
        small_model: SpamModel, column_ds: Dataset, tmp_path: Path) -> None:
    # Cut-offs no ham reaches: no false positive at the cut-off, yet the report still
    # names the ham the model was most sure of, with their clues.
    model = dataclasses.replace(small_model, spam_cutoff=1.0, unsure_cutoff=1.0)
    test = column_ds.rows(np.arange(40))
    metrics = evaluate_job(model, test, tmp_path, top=3, confident=4)
    assert metrics["fp"] == 0
    scores = np.array([r.score for r in score_rows(model, test.X, test.sources)])
    top_ham, low_spam = most_confident(test.y, scores, 4)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<td>m" not in _section(page, "false-positives")
    sure = _section(page, "confident-ham")
    where = [sure.index(f">{test.sources[i]}<") for i in top_ham]
    assert where == sorted(where)  # highest score first
    assert sure.count("<tr><td>") == 4 and sure.count('class="clue"') == 4 * 3
    other_ham = set(np.flatnonzero(test.y == 0)) - set(top_ham)
    assert not any(f">{test.sources[i]}<" in sure for i in other_ham)
    low = _section(page, "confident-spam")
    assert all(f">{test.sources[i]}<" in low for i in low_spam)
    saved = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert saved["over_time"]["n_dated"] == 40  # the test mail carries Date headers


@pytest.mark.parametrize("load", [0.5, 1e9])
def test_a_wide_dataset_is_narrowed_to_its_training_vocabulary(
        load: float, column_messages: list[RawMessage], small_settings: Settings,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """At scale: 2^20..2^22 columns; here 2^6..2^16, the same rule."""
    monkeypatch.setattr(trainer_module, "TOKEN_BITS", 6)
    monkeypatch.setattr(trainer_module, "MAX_TOKEN_BITS", 16)
    monkeypatch.setattr(trainer_module, "VOCABULARY_LOAD", load)
    ds = load_dataset(column_messages, MessageFeaturizer(token_bits=16, reputation_bits=8),
                      n_jobs=1)
    tr, _, _ = split_dataset(ds, "column")
    vocabulary = int(np.count_nonzero(ds.X[tr][:, :2**16].getnnz(axis=0)))
    assert vocabulary > 0.5 * 2**6  # enough words to need more than the narrowest
    model, _, _ = train_job(ds, "column", small_settings, TrainOptions(learning_curve=False))
    bits = model.featurizer.token_bits
    assert bits == ds.featurizer.token_bits == token_bits_for(vocabulary)
    if load == 0.5:  # the narrowest width that holds the vocabulary at that load
        assert 6 < bits < 16 and load * 2**(bits - 1) < vocabulary <= load * 2**bits
    else:
        assert bits == 6
    raw = [m.data for m in column_messages[:10]]
    np.testing.assert_allclose(
        model.classifier.decision_function(model.featurizer.transform(raw)),
        model.classifier.decision_function(ds.X[:10]), rtol=0, atol=1e-9)
