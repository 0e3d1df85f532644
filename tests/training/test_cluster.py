"""Scoring and training on a real Dask cluster: a scheduler and two worker processes on
loopback, started once for the module; results equal the single-machine run's."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask
import distributed
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from spamsift.cli import app
from spamsift.ingest import read_index
from spamsift.models.classifier import SpamClassifier
from spamsift.models.parallel_linear import LOSSES, BlockLinearClassifier, dask_client
from spamsift.models.persistence import load_model, save_model
from spamsift.models.spam_model import SpamModel
from spamsift.training.cluster import (
    CountTables,
    connect,
    count_tables,
    install_tables,
    load_dataset_on_cluster,
    score_on_cluster,
    train_job_on_cluster,
)
from spamsift.training.jobs import load_dataset, split_dataset, train_job
from spamsift.training.scoring import score_stream
from spamsift.training.trainer import TrainOptions

Mail = list[tuple[bytes, str]]
runner = CliRunner()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    scratch = str(tmp_path_factory.mktemp("dask"))  # not the shared temp folder
    with dask.config.set({"temporary-directory": scratch}), \
            distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                     host="127.0.0.1", dashboard_address=None,
                                     local_directory=scratch, silence_logs=50) as c:
        yield c


@pytest.fixture(scope="module")
def client(cluster: Any) -> Iterator[Any]:
    with connect(cluster.scheduler_address) as c:
        yield c


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, mail_factory: Callable[..., Mail],
           index_writer: Callable[..., Path]) -> Path:
    """400 hand-made messages (a quarter test rows), so a few partitions of 64."""
    root = tmp_path_factory.mktemp("cluster-corpus")
    index_writer(root, mail_factory(n_ham=200, n_spam=200, seed=5), test_every=4,
                 column="split")
    return root


def rows_of(corpus: Path, only: str | None = None) -> Iterator[Any]:
    return read_index(corpus / "index.csv", root=corpus, split_column="split",
                      only_split=only)


def test_cluster_scores_equal_local_scores_in_order(client: Any, small_model: SpamModel,
                                                    corpus: Path) -> None:
    local = [(r.source, r.score, r.verdict)
             for r in score_stream(small_model, rows_of(corpus), n_jobs=1)]
    remote = [(r.source, r.score, r.verdict)
              for r in score_on_cluster(client, small_model, rows_of(corpus), chunk_size=37)]
    assert remote == local
    assert len(remote) == 400


def test_score_command_with_dask_writes_what_the_local_command_writes(
        cluster: Any, small_model: SpamModel, corpus: Path, tmp_path: Path) -> None:
    save_model(small_model, tmp_path / "model")
    base = ["score", "--index", str(corpus / "index.csv"), "--root", str(corpus),
            "--split-column", "split", "--model", str(tmp_path / "model")]
    local = runner.invoke(app, [*base, "--n-jobs", "1"])
    remote = runner.invoke(app, [*base, "--dask", cluster.scheduler_address])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    assert remote.stdout == local.stdout
    assert len(list(csv.reader(io.StringIO(remote.stdout)))) == 101


@pytest.fixture(scope="module")
def both_trained(client: Any, corpus: Path, small_featurizer: Any, small_settings: Any
                 ) -> dict[str, Any]:
    opts = TrainOptions(learning_curve=False,
                        params={"model": "nb+svm", "aux_weight": 0.5, "rep_weight": None})
    ds_local = load_dataset(rows_of(corpus), small_featurizer, n_jobs=1)
    local = train_job(ds_local, "column", small_settings, opts)
    ds_remote, parts = load_dataset_on_cluster(client, rows_of(corpus), small_featurizer,
                                               chunk_size=64)
    remote = train_job_on_cluster(client, ds_remote, parts, "column", small_settings, opts)
    return {"local": local, "remote": remote, "ds_local": ds_local, "ds_remote": ds_remote,
            "parts": parts}


def test_cluster_dataset_equals_the_local_one(both_trained: dict[str, Any]) -> None:
    a, b = both_trained["ds_local"], both_trained["ds_remote"]
    assert b.sources == a.sources and b.split == a.split
    assert np.array_equal(b.y, a.y)
    assert (b.X != a.X).nnz == 0 and b.X.shape == a.X.shape
    assert b.meta == a.meta and b.datas_fingerprint == a.datas_fingerprint
    assert len(both_trained["parts"].futures) == 7  # 400 rows in partitions of 64


def test_reduced_count_tables_equal_the_local_model_exactly(both_trained: dict[str, Any]
                                                            ) -> None:
    lc = both_trained["local"][0].classifier
    rc = both_trained["remote"][0].classifier
    n_tokens = lc.layout.n_tokens
    assert np.array_equal(rc.nb_count_[:, :n_tokens], lc.nb_count_[:, :n_tokens])
    assert np.array_equal(rc.nb_class_count_, lc.nb_class_count_)
    assert np.array_equal(rc.reputation_.spam_, lc.reputation_.spam_)
    assert np.array_equal(rc.reputation_.ham_, lc.reputation_.ham_)
    assert both_trained["remote"][1]["reduced_tables"]["messages"] == lc.nb_class_count_.sum()
    assert lc.nb_class_count_.sum() > 0


def test_cluster_trained_model_scores_like_the_local_one(both_trained: dict[str, Any],
                                                         corpus: Path) -> None:
    local, remote = both_trained["local"][0], both_trained["remote"][0]
    test = [m.data for m in rows_of(corpus, "test")]
    y = [m.label == "spam" for m in rows_of(corpus, "test")]
    s_local, s_remote = local.score(test), remote.score(test)
    # Same data, same solvers, same seeds: equal (to rounding, should a BLAS differ).
    np.testing.assert_allclose(s_remote, s_local, rtol=0, atol=1e-12)
    assert roc_auc_score(y, s_remote) == roc_auc_score(y, s_local)
    assert (remote.spam_cutoff, remote.unsure_cutoff) == (local.spam_cutoff,
                                                          local.unsure_cutoff)


def test_a_lost_partition_is_a_training_error(client: Any, both_trained: dict[str, Any]
                                              ) -> None:
    from spamsift.exceptions import TrainingError
    from spamsift.training.cluster import Partitions

    ds, parts = both_trained["ds_remote"], both_trained["parts"]
    model = both_trained["remote"][0]
    tr, _, _ = split_dataset(ds, "column")
    short = Partitions(parts.futures[1:], [o - parts.offsets[1] for o in parts.offsets[1:]])
    keep = tr[tr >= parts.offsets[1]] - parts.offsets[1]
    tables = count_tables(client, short, ds.y[parts.offsets[1]:], keep,
                          model.classifier.layout)
    assert isinstance(tables, CountTables)
    with pytest.raises(TrainingError, match="partition was lost"):
        install_tables(model.classifier, tables)


def test_search_runs_on_the_cluster_and_picks_what_the_local_search_picks(
        client: Any, both_trained: dict[str, Any], small_settings: Any) -> None:
    from spamsift.training.search import search as local_search

    grid = {"C_svm": [1.0, 3.0]}
    ds = both_trained["ds_local"]
    tr, _, _ = split_dataset(ds, "column")
    base = both_trained["local"][0].classifier
    X, y = ds.X[tr], ds.y[tr]
    _, local = local_search(base, X, y, "grid", grid=grid, cv=2)
    import joblib

    with joblib.parallel_backend("dask"):
        _, remote = local_search(base, X, y, "grid", grid=grid, cv=2, n_jobs=-1)
    assert remote["candidates"] == local["candidates"]


@pytest.mark.parametrize("loss", LOSSES)
def test_lbfgs_fit_on_the_cluster_equals_the_local_block_fit(
        client: Any, small_xy: tuple[Any, np.ndarray], small_layout: dict[str, int],
        loss: str) -> None:
    X, y = small_xy
    E = SpamClassifier(model="svm", **small_layout)._expand(X, y).normalized
    local = BlockLinearClassifier(loss=loss, C=1.0, block_rows=16).fit(E, y)
    with distributed.get_task_stream(client) as ts, dask_client(client):
        remote = BlockLinearClassifier(loss=loss, C=1.0, block_rows=16).fit(E, y)
    ran = [t for t in ts.data if "block_loss_grad" in str(t["key"])]
    assert len({t["worker"] for t in ran}) == 2  # both workers held blocks
    assert remote.n_iter_ == local.n_iter_
    np.testing.assert_allclose(remote.coef_, local.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(remote.intercept_, local.intercept_, rtol=0, atol=1e-8)


def test_train_command_with_dask_saves_the_local_model(cluster: Any, corpus: Path,
                                                       tmp_path: Path) -> None:
    base = ["train", "--index", str(corpus / "index.csv"), "--root", str(corpus),
            "--split-column", "split", "--model", "nb+svm"]
    local = runner.invoke(app, [*base, "--model-out", str(tmp_path / "a"), "--n-jobs", "1"])
    remote = runner.invoke(app, [*base, "--model-out", str(tmp_path / "b"),
                                 "--dask", cluster.scheduler_address])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    a, b = load_model(tmp_path / "a"), load_model(tmp_path / "b")
    assert np.array_equal(a.classifier.coef_binary_, b.classifier.coef_binary_)
    assert np.array_equal(a.classifier.coef_normalized_, b.classifier.coef_normalized_)
    assert a.spam_cutoff == b.spam_cutoff


def test_train_job_on_cluster_fits_lbfgs_members_on_the_workers(
        client: Any, both_trained: dict[str, Any], small_settings: Any) -> None:
    # C_svm 0.05: few L-BFGS iterations, each a round trip to the workers (~20 ms here).
    opts = TrainOptions(learning_curve=False,
                        params={"model": "nb+svm", "aux_weight": 0.5, "rep_weight": None,
                                "C_svm": 0.05, "linear_solver": "lbfgs"})
    local, _, _ = train_job(both_trained["ds_local"], "column", small_settings, opts)
    with distributed.get_task_stream(client) as ts:
        remote, _, _ = train_job_on_cluster(client, both_trained["ds_remote"],
                                            both_trained["parts"], "column", small_settings,
                                            opts)
    assert any("block_loss_grad" in str(t["key"]) for t in ts.data)
    a, b = local.classifier, remote.classifier
    assert np.array_equal(a.coef_binary_, b.coef_binary_)
    np.testing.assert_allclose(b.coef_normalized_, a.coef_normalized_, rtol=0, atol=1e-8)
    assert b.intercept_ == pytest.approx(a.intercept_, abs=1e-8)


def test_train_command_linear_solver_lbfgs_without_dask_runs_locally(corpus: Path,
                                                                     tmp_path: Path) -> None:
    base = ["train", "--index", str(corpus / "index.csv"), "--root", str(corpus),
            "--split-column", "split", "--model", "nb+svm", "--n-jobs", "1"]
    lib = runner.invoke(app, [*base, "--model-out", str(tmp_path / "a")])
    lb = runner.invoke(app, [*base, "--model-out", str(tmp_path / "b"),
                             "--linear-solver", "lbfgs"])
    assert lib.exit_code == 0 and lb.exit_code == 0, lb.output
    a, b = load_model(tmp_path / "a").classifier, load_model(tmp_path / "b").classifier
    assert (a.linear_solver, b.linear_solver) == ("liblinear", "lbfgs")
    w = np.linalg.norm(b.coef_normalized_ - a.coef_normalized_)
    assert w < 1e-3 * np.linalg.norm(a.coef_normalized_)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("command", ["score", "train"])
def test_an_unreachable_scheduler_is_a_configuration_error(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    monkeypatch.setenv("SPAMSIFT_DASK_TIMEOUT", "1")
    args = ["--index", str(corpus / "index.csv"), "--root", str(corpus),
            "--dask", f"tcp://127.0.0.1:{_free_port()}"]
    out = tmp_path / "m"
    extra = ["--model-out", str(out)] if command == "train" else ["--out", str(out)]
    result = runner.invoke(app, [command, *args, *extra])
    assert result.exit_code == 6, result.output
    assert "no Dask scheduler answered within 1 s" in " ".join(result.output.split())
    assert not out.exists()
