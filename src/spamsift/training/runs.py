"""Runs from a labelled index, as ``spamsift train`` and ``evaluate`` ask for them.

A front end says where the rows are and how to fit; this module reads them (into
memory, as a stream, or on a Dask cluster's workers), fits, evaluates on the test
rows, saves the model and returns the summary the front end prints. What the user
sees while it runs goes through a :class:`Reporter`: the CLI's draws Rich progress
bars, :data:`QUIET` shows nothing. Nothing here prints::

    run = TrainRun(index=Path("index.csv"), model_out=Path("model"),
                   split_column="random_split")
    summary = train_index(run, load_settings())
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from spamsift.config import Settings
from spamsift.features.featurizer import MessageFeaturizer
from spamsift.ingest import IngestReport, RawMessage, read_index
from spamsift.models.persistence import save_model
from spamsift.models.spam_model import SpamModel
from spamsift.training.jobs import Dataset, evaluate_job, load_dataset, train_job
from spamsift.training.trainer import TrainOptions, featurizer_for

if TYPE_CHECKING:
    from spamsift.mailauth import Authenticator

__all__ = ["Reporter", "QUIET", "TrainRun", "train_index", "evaluate_index", "read_rows",
           "load_rows", "warn_skipped", "headline"]


class Reporter(Protocol):
    """How a long run shows what it is doing."""

    def progress(self, what: str, total: int | None
                 ) -> AbstractContextManager[Callable[[int], None]]:
        """A counted stage: the context gives the function to call with rows done."""

    def busy(self, what: str) -> AbstractContextManager[Any]:
        """A stage with nothing to count (fitting)."""

    def warn(self, text: str) -> None:
        """Something the user should know that does not stop the run (rows skipped)."""


class _Quiet:
    def progress(self, what: str, total: int | None
                 ) -> AbstractContextManager[Callable[[int], None]]:
        return nullcontext(lambda n: None)

    def busy(self, what: str) -> AbstractContextManager[Any]:
        return nullcontext()

    def warn(self, text: str) -> None:
        pass


#: A :class:`Reporter` that shows nothing.
QUIET: Reporter = _Quiet()


# The metrics a run's summary shows.
_HEADLINE = ("n", "one_minus_roca_pct", "roc_auc", "pr_auc", "accuracy", "precision", "recall",
             "f1", "fpr", "fnr", "fnr_at_fpr_1pct", "fnr_at_fpr_0_1pct", "brier", "ece", "tp",
             "fp", "tn", "fn")


def headline(metrics: dict[str, Any]) -> dict[str, Any]:
    """The metrics a summary shows, by name (None where not measured)."""
    return {k: metrics.get(k) for k in _HEADLINE}


def read_rows(index: Path, root: Path | None, split_column: str | None,
              only_split: str | None = None, reporter: Reporter = QUIET
              ) -> list[RawMessage]:
    """The rows of an index (those whose split is ``only_split``, when given), in
    memory; skipped rows are reported."""
    report = IngestReport()
    rows = list(read_index(index, root=root, split_column=split_column,
                           only_split=only_split, report=report))
    warn_skipped(report, reporter)
    return rows


def load_rows(rows: list[RawMessage], featurizer: MessageFeaturizer, *, n_jobs: int = -1,
              labelled: bool = True, auth: Authenticator | None = None,
              reporter: Reporter = QUIET) -> Dataset:
    """:func:`~spamsift.training.jobs.load_dataset` of rows in memory, with progress."""
    with reporter.progress("reading and featurising", len(rows)) as advance:
        return load_dataset(rows, featurizer, n_jobs=n_jobs, progress=advance,
                            labelled=labelled, auth=auth)


@dataclass
class TrainRun:
    """What ``spamsift train`` was asked for.

    Attributes
    ----------
    index, root, split_column
        The labelled index, the folder its paths are relative to (default: its own)
        and the column whose ``train`` rows are trained on (``test`` rows evaluated).
    model_out : Path
        Where the model is saved (replaced when ``overwrite``).
    how : {'column', 'random', 'time'}
        The split (:func:`~spamsift.training.jobs.split_dataset`); ``column`` with a
        split column.
    options : TrainOptions
        Search, learning curve, the classifier's parameters.
    report_dir : Path, optional
        Evaluate on the test rows and write ``metrics.json`` and ``report.html`` here.
    stream, seed_size
        Read the training rows once, lazily: the recipe on the first ``seed_size``
        distinct rows, counts learned from the rest (:mod:`.streaming`).
    dask : str, optional
        A Dask scheduler's address: featurise, count and search on its workers
        (:mod:`.cluster`).
    """

    index: Path
    model_out: Path
    root: Path | None = None
    split_column: str | None = None
    how: str = "random"
    options: TrainOptions = field(default_factory=TrainOptions)
    report_dir: Path | None = None
    overwrite: bool = True
    n_jobs: int = -1
    stream: bool = False
    seed_size: int | None = None
    dask: str | None = None
    auth: Authenticator | None = None


def train_index(run: TrainRun, settings: Settings, reporter: Reporter = QUIET
                ) -> dict[str, Any]:
    """Train as ``run`` says, evaluate on the test rows if asked, save the model.

    Returns the summary ``spamsift train`` prints (``--json``: these keys).

    Raises
    ------
    InputError, TrainingError, ConfigError, ModelError
        An unreadable index, no rows to train on, no cluster at ``dask``, a
        ``model_out`` that exists without ``overwrite``.
    """
    if run.stream:
        if run.split_column is None:
            raise ValueError("a streamed run needs a split column")
        fitted, details, te, ds = _streamed(run, settings, reporter)
    elif run.dask is None:
        rows = read_rows(run.index, run.root, run.split_column, reporter=reporter)
        ds = load_rows(rows, featurizer_for(settings, run.options.params, wide=True),
                       n_jobs=run.n_jobs,
                       auth=run.auth, reporter=reporter)
        with reporter.busy("training"):
            fitted, details, te = train_job(ds, run.how, settings, run.options)
    else:
        fitted, details, te, ds = _on_cluster(run, run.dask, settings, reporter)
    summary: dict[str, Any] = {"model_out": str(run.model_out), "n_train": details["n_train"],
                               "duplicates_dropped": details["duplicates_dropped"],
                               "cutoffs": details["cutoffs"],
                               "fit_diagnosis": details["fit_diagnosis"]}
    if run.stream:
        summary.update(n_seed=details["n_seed"], n_streamed=details["n_streamed"])
    if "search" in details:
        summary["search_best"] = details["search"]["best_params"]
    if "tuning" in details:
        summary["tuned"] = details["tuning"]["chosen"]
    if run.report_dir is not None and ds is not None and len(te):
        metrics = evaluate_job(fitted, ds.rows(te), run.report_dir, details)
        fitted.info["metrics"] = summary["test_metrics"] = headline(metrics)
        summary["report"] = str(run.report_dir / "report.html")
    save_model(fitted, run.model_out, overwrite=run.overwrite)
    return summary


def _on_cluster(run: TrainRun, address: str, settings: Settings, reporter: Reporter
                ) -> tuple[SpamModel, dict[str, Any], np.ndarray, Dataset]:
    from spamsift.training.cluster import connect, load_dataset_on_cluster, train_job_on_cluster

    report = IngestReport()
    rows = read_index(run.index, root=run.root, split_column=run.split_column, report=report)
    with connect(address, settings.dask_timeout) as client:
        with reporter.progress("featurising on the cluster", None) as advance:
            ds, parts = load_dataset_on_cluster(
                client, rows, featurizer_for(settings, run.options.params), report,
                progress=advance, auth=run.auth)
        warn_skipped(report, reporter)
        with reporter.busy("training"):
            fitted, details, te = train_job_on_cluster(client, ds, parts, run.how, settings,
                                                       run.options)
    return fitted, details, te, ds


def _streamed(run: TrainRun, settings: Settings, reporter: Reporter
              ) -> tuple[SpamModel, dict[str, Any], np.ndarray, Dataset | None]:
    """``train --stream``: the test rows' duplicate keys first (so no training row repeats
    one, as without a stream), then the training rows read once, lazily."""
    from spamsift.training.streaming import SEED_SIZE, SeenKeys, train_stream

    featurizer = featurizer_for(settings, run.options.params)
    seen = SeenKeys()
    n_test = 0
    for m in read_index(run.index, root=run.root, split_column=run.split_column,
                        only_split="test", report=IngestReport()):
        seen.add_message(featurizer, m.data)
        n_test += 1
    report = IngestReport()
    rows = read_index(run.index, root=run.root, split_column=run.split_column,
                      only_split="train", report=report)
    info = {"training_data": {"split": "column", "n_test": n_test}}
    with reporter.progress("training on the stream", None) as advance:
        fitted, details = train_stream(rows, featurizer, settings, run.options,
                                       seed_size=run.seed_size or SEED_SIZE,
                                       n_jobs=run.n_jobs, seen=seen, report=report, info=info,
                                       progress=advance, auth=run.auth)
    warn_skipped(report, reporter)
    if run.report_dir is None:
        return fitted, details, np.arange(0), None
    # The report needs the test rows' matrix: the test split, in memory.
    test_rows = read_rows(run.index, run.root, run.split_column, only_split="test",
                          reporter=reporter)
    ds = load_rows(test_rows, fitted.featurizer, n_jobs=run.n_jobs, auth=run.auth,
                   reporter=reporter)
    return fitted, details, np.arange(n_test), ds


def evaluate_index(model: SpamModel, index: Path, report_dir: Path, *,
                   root: Path | None = None, split_column: str | None = None,
                   n_jobs: int = -1, auth: Authenticator | None = None,
                   reporter: Reporter = QUIET) -> dict[str, Any]:
    """``spamsift evaluate``: ``model`` on an index's test rows (every row without a
    split column); writes the report and returns its headline metrics."""
    rows = read_rows(index, root, split_column, only_split="test" if split_column else None,
                     reporter=reporter)
    ds = load_rows(rows, model.featurizer, n_jobs=n_jobs, auth=auth, reporter=reporter)
    metrics = evaluate_job(model, ds, report_dir, datas={r.source: r.data for r in rows})
    return {"report": str(report_dir / "report.html"), **headline(metrics)}


def warn_skipped(report: IngestReport, reporter: Reporter) -> None:
    """Tell the user what was read and skipped, when anything was."""
    if report.skipped_count:
        reporter.warn(report.summary())
