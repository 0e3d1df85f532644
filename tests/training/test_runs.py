"""Runs from an index: what they report while they run, what they return and save."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from spamsift.config import Settings
from spamsift.models.persistence import load_model
from spamsift.training.runs import QUIET, TrainRun, evaluate_index, train_index
from spamsift.training.trainer import TrainOptions

FAST = TrainOptions(learning_curve=False, params={"model": "nb+svm", "tune": False})


class Recorder:
    """A Reporter that writes down what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []
        self.counted: dict[str, int] = {}

    @contextmanager
    def progress(self, what: str, total: int | None) -> Iterator[Callable[[int], None]]:
        self.events.append(("progress", what, str(total)))
        self.counted[what] = 0

        def advance(n: int) -> None:
            self.counted[what] += n
        yield advance

    @contextmanager
    def busy(self, what: str) -> Iterator[None]:
        self.events.append(("busy", what))
        yield

    def warn(self, text: str) -> None:
        self.events.append(("warn", text))


@pytest.fixture()
def index(mail_set: list[tuple[bytes, str]], index_writer: Any, tmp_path: Path) -> Path:
    path = index_writer(tmp_path / "corpus", mail_set)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("spam/gone.eml,spam,train\n")  # a row whose file is missing: skipped
    return path


def test_a_run_reports_its_stages_and_the_skipped_row(index: Path, small_settings: Settings,
                                                      mail_set: list[tuple[bytes, str]],
                                                      tmp_path: Path) -> None:
    seen = Recorder()
    run = TrainRun(index=index, model_out=tmp_path / "model", split_column="split",
                   how="column", options=FAST, report_dir=tmp_path / "report", n_jobs=1)
    summary = train_index(run, small_settings, seen)
    assert ("progress", "reading and featurising", str(len(mail_set))) in seen.events
    assert seen.counted["reading and featurising"] == len(mail_set)
    assert ("busy", "training") in seen.events
    (warning,) = [e[1] for e in seen.events if e[0] == "warn"]
    assert f"read {len(mail_set)} messages" in warning and "skipped 1" in warning
    # Saved, evaluated on the test rows, summarised.
    n_test = sum(1 for line in index.read_text().splitlines() if line.endswith(",test"))
    assert summary["test_metrics"]["n"] == n_test
    assert (tmp_path / "report" / "report.html").is_file()
    model = load_model(summary["model_out"])
    assert model.info["metrics"] == summary["test_metrics"]


def test_a_streamed_run_evaluates_the_test_rows_too(index: Path, small_settings: Settings,
                                                    tmp_path: Path) -> None:
    run = TrainRun(index=index, model_out=tmp_path / "model", split_column="split",
                   how="column", options=FAST, report_dir=tmp_path / "report", n_jobs=1,
                   stream=True, seed_size=30)
    summary = train_index(run, small_settings, QUIET)
    assert summary["n_seed"] == 30
    assert summary["test_metrics"]["n"] > 0
    assert summary["n_train"] == 30 + summary["n_streamed"]


def test_evaluate_index_scores_the_test_rows(index: Path, small_model: Any,
                                             tmp_path: Path) -> None:
    every = evaluate_index(small_model, index, tmp_path / "all", n_jobs=1)
    test = evaluate_index(small_model, index, tmp_path / "test", split_column="split",
                          n_jobs=1)
    assert 0 < test["n"] < every["n"]
    assert Path(test["report"]).is_file()
