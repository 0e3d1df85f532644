"""Replay: score each message in date order, then learn it through feedback."""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spamsift.db.database import default_url
from spamsift.feedback import FeedbackStore
from spamsift.ingest import RawMessage
from spamsift.models.classifier import SpamClassifier
from spamsift.models.spam_model import SpamModel
from spamsift.training.online import LearningFeedback
from spamsift.training.replay import date_order, replay


def _raw(mail: list[tuple[bytes, str]]) -> list[RawMessage]:
    return [RawMessage(f"m{i}", data, label) for i, (data, label) in enumerate(mail)]


def test_date_order_sorts_by_date_and_keeps_undated_after_their_neighbour() -> None:
    msgs = [RawMessage("b", b"Date: Tue, 02 Jan 2024 00:00:00 +0000\n\nx"),
            RawMessage("undated", b"Subject: none\n\nx"),
            RawMessage("a", b"Date: Mon, 01 Jan 2024 00:00:00 +0000\n\nx")]
    assert [msgs[i].source for i in date_order(msgs)] == ["a", "b", "undated"]


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_replay_from_nothing_learns_every_message(mail_set: list[tuple[bytes, str]],
                                                  small_layout: dict[str, int],
                                                  small_featurizer, tmp_path: Path) -> None:
    model = SpamModel(small_featurizer, SpamClassifier.empty(**small_layout), 0.9, 0.5)
    with FeedbackStore(default_url(tmp_path)) as store:
        result = replay(model, _raw(mail_set), LearningFeedback(store, lambda: model))
        assert store.counts().events == len(mail_set)
    assert len(result.rows) == len(mail_set) and result.learned == len(mail_set)
    assert result.rows[0].score == 0.5  # it knew nothing at first
    y = np.array([r.label for r in result.rows])
    s = np.array([r.score for r in result.rows])
    late = slice(len(y) // 2, None)  # after learning half the set it separates the rest
    assert s[late][y[late] == 1].min() > s[late][y[late] == 0].max()
    assert result.metrics["n"] == len(mail_set) and result.curve


def test_replay_beats_the_same_model_without_feedback(small_model: SpamModel,
                                                      mail_factory, tmp_path: Path) -> None:
    mail = mail_factory(60, 60, seed=3)
    frozen = [float(v.score) for v in small_model.classify([d for d, _ in mail], top=0)]
    model = copy.deepcopy(small_model)
    with FeedbackStore(default_url(tmp_path)) as store:
        result = replay(model, _raw(mail), LearningFeedback(store, lambda: model))
    by_source = {r.source: r.score for r in result.rows}
    y = np.array([lab == "spam" for _, lab in mail])
    learned = np.array([by_source[f"m{i}"] for i in range(len(mail))])
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(y, learned) >= roc_auc_score(y, frozen)


def test_replay_command_exactly_as_written(mail_set: list[tuple[bytes, str]], index_writer,
                                           tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    index = index_writer(root, mail_set, column="split")
    out = tmp_path / "replay.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "spamsift.cli", "replay", "--index", str(index), "--root",
         str(root), "--split-column", "split", "--out", str(out)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = _csv(out)
    expected = {r["path"] for r in _csv(index) if r["split"] == "test"}
    assert {r["path"] for r in rows} == expected
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    assert {r["verdict"] for r in rows} <= {"spam", "unsure", "ham"}


@pytest.mark.parametrize("flag", [pytest.param([], id="empty-model"),
                                  pytest.param(["--from-bundled"], id="from-bundled")])
def test_replay_without_training_rows(mail_set: list[tuple[bytes, str]], index_writer,
                                      tmp_path: Path, flag: list[str]) -> None:
    root = tmp_path / "corpus"
    index = index_writer(root, mail_set[:20], column="split")
    out = tmp_path / "replay.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "spamsift.cli", "replay", "--index", str(index), "--root",
         str(root), "--out", str(out), "--json", *flag],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert len(_csv(out)) == 20


def test_index_messages_replay_as_the_rows_in_memory_do(
        mail_set: list[tuple[bytes, str]], index_writer, small_layout: dict[str, int],
        small_featurizer, tmp_path: Path) -> None:
    from spamsift.ingest import read_index
    from spamsift.training.replay import IndexMessages

    index = index_writer(tmp_path / "c", mail_set, test_every=1)
    lazy = IndexMessages(read_index(index), tmp_path / "c")
    assert all(r.data == b"" for r in lazy._rows)  # only where each message is
    in_memory = list(read_index(index))
    assert [(m.source, m.data, m.label) for m in lazy] == [(m.source, m.data, m.label)
                                                          for m in in_memory]
    results = []
    for i, msgs in enumerate((in_memory, lazy)):
        model = SpamModel(small_featurizer, SpamClassifier.empty(**small_layout), 0.9, 0.5)
        with FeedbackStore(default_url(tmp_path / f"s{i}")) as store:
            results.append(replay(model, msgs, LearningFeedback(store, lambda m=model: m)))
    assert results[0].rows == results[1].rows


def test_a_message_gone_before_its_replay_is_an_ingest_error(
        mail_set: list[tuple[bytes, str]], index_writer, tmp_path: Path) -> None:
    from spamsift.exceptions import IngestError
    from spamsift.ingest import read_index
    from spamsift.training.replay import IndexMessages

    index = index_writer(tmp_path / "c", mail_set[:4], test_every=1)
    lazy = IndexMessages(read_index(index), tmp_path / "c")
    (tmp_path / "c" / lazy._rows[2].source).unlink()
    with pytest.raises(IngestError, match="could be read once but not again"):
        lazy[2]
