"""Tests for spamsift.ingest.index: labelled index CSVs and the rows they refuse."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, RawMessage, Skipped, read_index

HAM = b"Subject: build\n\nThe nightly build is green again.\n"
SPAM = b"Subject: Re: your account\n\nVerify your password here.\n"

#: The shared corpus, beside the repository (never copied into it).
CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "spamassassin"


def _corpus(root: Path, index: str, files: dict[str, bytes] | None = None) -> Path:
    for name, data in (files or {"ham/1": HAM, "spam/1": SPAM}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "index.csv").write_text(index)
    return root / "index.csv"


INDEX = """path,label,era,random_split,temporal_split
ham/1,ham,2002-10,train,train
spam/1,spam,2003-02,test,test
"""


def test_rows_become_labelled_messages(tmp_path: Path) -> None:
    report = IngestReport()
    messages = list(read_index(_corpus(tmp_path, INDEX), report=report))
    assert messages == [
        RawMessage(
            "ham/1",
            HAM,
            "ham",
            None,
            {"era": "2002-10", "random_split": "train", "temporal_split": "train"},
        ),
        RawMessage(
            "spam/1",
            SPAM,
            "spam",
            None,
            {"era": "2003-02", "random_split": "test", "temporal_split": "test"},
        ),
    ]
    assert report.summary() == "read 2 messages, skipped 0"


def test_split_column_fills_split(tmp_path: Path) -> None:
    messages = read_index(_corpus(tmp_path, INDEX), split_column="random_split")
    assert [(m.source, m.split) for m in messages] == [("ham/1", "train"), ("spam/1", "test")]


def test_only_split_filters_and_counts(tmp_path: Path) -> None:
    report = IngestReport()
    messages = read_index(
        _corpus(tmp_path, INDEX), split_column="temporal_split", only_split="test", report=report
    )
    assert [m.source for m in messages] == ["spam/1"]
    assert (report.read, report.filtered, report.skipped_count) == (1, 1, 0)


def test_only_the_required_columns(tmp_path: Path) -> None:
    index = _corpus(tmp_path, "path,label\nham/1,HAM\nspam/1,1\n\n")
    assert [(m.label, m.meta) for m in read_index(index)] == [("ham", {}), ("spam", {})]


def test_root_elsewhere(tmp_path: Path) -> None:
    _corpus(tmp_path / "mail", INDEX)
    index = tmp_path / "lists" / "index.csv"
    index.parent.mkdir()
    index.write_text(INDEX)
    assert len(list(read_index(index, root=tmp_path / "mail"))) == 2


def test_bad_rows_are_reported_and_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside.eml"
    outside.write_bytes(SPAM)
    root = tmp_path / "corpus"
    (root / "ham").mkdir(parents=True)
    (root / "ham" / "out").symlink_to(outside)
    index = _corpus(
        root,
        "path,label,note\n"
        "ham/1,ham,ok\n"
        "ham/2,ham,missing\n"
        "spam/1,junk,bad label\n"
        ",spam,empty path\n"
        f"{outside.as_posix()},spam,absolute\n"
        "../outside.eml,spam,dot-dot\n"
        "ham/../../outside.eml,spam,dot-dot inside\n"
        "ham/out,spam,symlink out\n"
        "ham,ham,a directory\n"
        "ham/1,ham\n"
        "spam/1,spam,ok\n",
    )
    report = IngestReport()
    assert [m.source for m in read_index(index, report=report)] == ["ham/1", "spam/1"]
    line = f"{index.as_posix()}#"
    assert [(s.source, s.reason) for s in report.skipped] == [
        ("ham/2", "missing file"),
        ("spam/1", "unknown label"),
        (f"{line}5", "empty path"),
        (outside.as_posix(), "absolute path"),
        ("../outside.eml", "escapes root"),
        ("ham/../../outside.eml", "escapes root"),
        ("ham/out", "escapes root"),
        ("ham", "not a file"),
        (f"{line}11", "malformed row"),
    ]
    assert report.skipped[1].detail == "'junk' is not spam, ham, 1 or 0"
    assert report.skipped[-1].detail == "2 fields where the header has 3"
    assert report.summary() == (
        "read 2 messages, skipped 9 (3 escapes root, 1 missing file, 1 unknown label, "
        "1 empty path, 1 absolute path, 1 not a file, 1 malformed row)"
    )


def test_a_dot_dot_that_stays_inside_is_fine(tmp_path: Path) -> None:
    index = _corpus(tmp_path, "path,label\nspam/../ham/1,ham\n")
    assert [m.data for m in read_index(index)] == [HAM]


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = _corpus(tmp_path, "path,label\nham/1,ham\nspam/1,spam\n")
    real_open = os.open

    def refuse_ham(path: os.PathLike[str], flags: int) -> int:
        if Path(path).parent.name == "ham":
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags)

    monkeypatch.setattr(os, "open", refuse_ham)  # works as root too, unlike chmod
    report = IngestReport()
    assert [m.source for m in read_index(index, report=report)] == ["spam/1"]
    assert report.skipped[0] == Skipped("ham/1", "unreadable", "Permission denied")


def test_truncates(tmp_path: Path) -> None:
    report = IngestReport()
    messages = list(read_index(_corpus(tmp_path, INDEX), max_bytes=10, report=report))
    assert [m.meta["truncated"] for m in messages] == ["1", "1"]
    assert report.truncated == 2


def test_a_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    index = tmp_path / "index.csv"
    _corpus(tmp_path, "")
    index.write_bytes(b"\xef\xbb\xbfpath,label\r\nham/1,ham\r\n")
    assert [m.source for m in read_index(index)] == ["ham/1"]


@pytest.mark.parametrize(
    ("header", "kwargs", "message"),
    [
        pytest.param("file,label", {}, "missing path; found file, label", id="no-path"),
        pytest.param("path,class", {}, "missing label; found path, class", id="no-label"),
        pytest.param(
            "path,label",
            {"split_column": "fold"},
            "'fold' is not a column",
            id="unknown-split-column",
        ),
        pytest.param(
            "path,label", {"only_split": "train"}, "needs split_column", id="only-split-alone"
        ),
    ],
)
def test_refuses_at_once(tmp_path: Path, header: str, kwargs: dict[str, str], message: str) -> None:
    index = _corpus(tmp_path, header + "\n")
    with pytest.raises(IngestError, match=message):
        read_index(index, **kwargs)


def test_empty_index_file(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="expected a header line"):
        read_index(_corpus(tmp_path, ""))


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"expected an index CSV, but .*index\.csv does not"):
        read_index(tmp_path / "index.csv")


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="expected the index's root directory"):
        read_index(_corpus(tmp_path, INDEX), root=tmp_path / "nope")


@pytest.mark.corpus
def test_the_shared_corpus_streams_whole() -> None:
    if not (CORPUS / "index.csv").is_file():
        pytest.skip("the shared SpamAssassin corpus is not beside the repository")
    report = IngestReport()
    counts: Counter[str] = Counter()
    for message in read_index(CORPUS / "index.csv", split_column="random_split", report=report):
        counts.update(
            [message.label, f"random={message.split}", f"temporal={message.meta['temporal_split']}"]
        )
    assert report.summary() == "read 6046 messages, skipped 0"
    assert counts == {
        "ham": 4150,
        "spam": 1896,
        "random=train": 4836,
        "random=test": 1210,
        "temporal=train": 3250,
        "temporal=test": 2796,
    }
    only_train = IngestReport()
    train = read_index(
        CORPUS / "index.csv",
        split_column="random_split",
        only_split="train",
        max_bytes=64,
        report=only_train,
    )
    assert sum(1 for _ in train) == 4836
    assert (only_train.filtered, only_train.skipped_count) == (1210, 0)
