"""Streaming batch scoring: the same scores as the in-memory path, in order, read lazily."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from parse.sandbox_parsers import misbehaving
from spamsift.cli import app
from spamsift.ingest import RawMessage
from spamsift.models.persistence import load_model, save_model
from spamsift.models.spam_model import SpamModel
from spamsift.parse.sandbox import ParseSandbox
from spamsift.training.jobs import load_dataset, score_rows
from spamsift.training.scoring import score_stream

Mail = list[tuple[bytes, str]]
runner = CliRunner()


def raw(mail: Mail) -> list[RawMessage]:
    return [RawMessage(f"m{i:03d}", data, label) for i, (data, label) in enumerate(mail)]


def in_memory(model: SpamModel, msgs: list[RawMessage]) -> list[tuple[str, float, str]]:
    """The path `score` took before it streamed: everything featurised into one matrix."""
    ds = load_dataset(msgs, model.featurizer, n_jobs=1, labelled=False)
    return [(r.source, r.score, r.verdict) for r in score_rows(model, ds.X, ds.sources)]


@pytest.mark.parametrize(("n_jobs", "chunk_size"), [
    pytest.param(1, 7, id="one-process-uneven-chunks"),
    pytest.param(2, 9, id="two-processes"),
    pytest.param(1, 1000, id="one-chunk"),
])
def test_stream_equals_the_in_memory_path_in_order(small_model: SpamModel, mail_set: Mail,
                                                   n_jobs: int, chunk_size: int) -> None:
    msgs = raw(mail_set)
    got = [(r.source, r.score, r.verdict)
           for r in score_stream(small_model, iter(msgs), n_jobs=n_jobs, chunk_size=chunk_size)]
    assert got == in_memory(small_model, msgs)
    assert {v for _, _, v in got} >= {"spam", "ham"}


def test_stream_reads_its_input_lazily(small_model: SpamModel, mail_set: Mail) -> None:
    pulled = 0

    def endless() -> Iterator[RawMessage]:
        nonlocal pulled
        while True:
            for m in raw(mail_set):
                pulled += 1
                yield m

    rows = score_stream(small_model, endless(), n_jobs=1, chunk_size=10)
    first = [next(rows) for _ in range(15)]
    assert [r.source for r in first] == [f"m{i:03d}" for i in range(15)]
    assert pulled == 20  # two chunks read, not the (endless) input


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_message_stuck_in_the_parser_is_scored_and_the_stream_goes_on(
        small_model: SpamModel, mail_set: Mail, n_jobs: int) -> None:
    stuck = RawMessage("stuck", b"Subject: stuck\nX-Test: spin\n\nwords", None)
    msgs = raw(mail_set[:20]) + [stuck] + raw(mail_set[20:40])
    # Every message through a worker; the stuck one is killed there and read in-process.
    box = ParseSandbox(min_bytes=0, timeout=1.0, parse=misbehaving)
    with box:
        rows = list(score_stream(small_model, msgs, n_jobs=n_jobs, chunk_size=16,
                                 sandbox=box))
    assert [r.source for r in rows] == [m.source for m in msgs]
    plain = {r.source: r.score for r in score_stream(small_model, msgs[:20])}
    assert all(r.score == plain[r.source] for r in rows[:20])  # the same parse, elsewhere


def test_empty_input_gives_no_rows(small_model: SpamModel) -> None:
    assert list(score_stream(small_model, iter([]), n_jobs=2)) == []


def test_a_bad_chunk_size_is_refused(small_model: SpamModel) -> None:
    with pytest.raises(ValueError, match="chunk_size must be >= 1, got 0"):
        list(score_stream(small_model, iter([]), chunk_size=0))


@pytest.fixture(scope="module")
def folder_and_model(tmp_path_factory: pytest.TempPathFactory, small_model: SpamModel,
                     mail_factory: Callable[..., Mail], index_writer: Callable[..., Path]
                     ) -> tuple[Path, Path, Mail]:
    root = tmp_path_factory.mktemp("score-stream")
    mail = mail_factory(n_ham=300, n_spam=300, seed=3)  # > one chunk of 256
    index_writer(root / "corpus", mail, test_every=2, column="split")
    save_model(small_model, root / "model")
    return root / "corpus", root / "model", mail


@pytest.mark.parametrize("n_jobs", ["1", "2"])
def test_score_command_matches_the_in_memory_path(folder_and_model: tuple[Path, Path, Mail],
                                                  n_jobs: str) -> None:
    corpus, model, _ = folder_and_model
    result = runner.invoke(app, ["score", "--index", str(corpus / "index.csv"), "--root",
                                 str(corpus), "--split-column", "split", "--model", str(model),
                                 "--n-jobs", n_jobs])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["path", "score", "verdict"]
    with open(corpus / "index.csv", newline="") as fh:
        test = [RawMessage(r["path"], (corpus / r["path"]).read_bytes())
                for r in csv.DictReader(fh) if r["split"] == "test"]
    assert len(rows) - 1 == len(test) == 300
    assert [(p, float(s), v) for p, s, v in rows[1:]] == in_memory(load_model(model), test)


def test_score_input_reports_unreadable_items_and_scores_the_rest(
        folder_and_model: tuple[Path, Path, Mail], tmp_path: Path) -> None:
    _, model, mail = folder_and_model
    mbox = tmp_path / "mail.mbox"
    mbox.write_bytes(b"".join(b"From x@example.org Mon Jan  1 00:00:00 2002\n" + d + b"\n"
                              for d, _ in mail[:5]))
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["score", "--input", str(mbox), "--model", str(model),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 6


def test_score_a_missing_input_is_exit_3_before_any_output(
        folder_and_model: tuple[Path, Path, Mail], tmp_path: Path) -> None:
    _, model, _ = folder_and_model
    out = tmp_path / "s.csv"
    result = runner.invoke(app, ["score", "--input", str(tmp_path / "nope"), "--model",
                                 str(model), "--out", str(out)])
    assert result.exit_code == 3
    assert not out.exists()
