"""Tests for spamsift.ingest.corpus, offline: tarballs made here, served on loopback."""

from __future__ import annotations

import csv
import hashlib
import http.server
import io
import tarfile
import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from spamsift.config import default_corpus_root
from spamsift.exceptions import CorpusError
from spamsift.ingest import corpus
from spamsift.ingest.corpus import Archive, build_index, download_corpus

HAM_1 = b"""From: alice@example.org
To: bob@example.org
Subject: lunch on friday?
Date: Thu, 22 Aug 2002 18:26:25 +0700

Are we still on for lunch? I can book the usual place.
"""
HAM_2 = b"""From: carol@example.org
To: list@example.org
Subject: Re: patch for the build
Date: Fri, 23 Aug 2002 09:00:00 +0100

Applied, thanks. The tests pass here too.
"""
SPAM_1 = b"""From: winner@lottery.example
To: you@example.org
Subject: YOU HAVE WON $1,000,000
Date: Tue, 3 Dec 2002 13:19:58 -0800

Click here to claim your prize now!!!
"""
SPAM_2 = b"""From: pills@pharma.example
To: you@example.org
Subject: cheap meds, no prescription
Date: Wed, 4 Dec 2002 04:05:38 -0600

Best prices online. Order today.
"""
SPAM_3 = b"""From: offers@deals.example
To: you@example.org
Subject: limited offer
Date: Wed, 4 Dec 2002 05:00:00 -0600

Act now.
"""


def named(number: int, data: bytes) -> str:
    """The release's naming: a sequence number and the MD5 of the bytes."""
    return f"{number:05d}.{hashlib.md5(data, usedforsecurity=False).hexdigest()}"


WRONG_NAME = "00003." + "0" * 32  # SPAM_3 under a name that is not its MD5

ARCHIVES = (
    Archive("20030228_easy_ham.tar.bz2", "easy_ham", "2002-10", 2),
    Archive("20030228_spam_2.tar.bz2", "spam_2", "2003-02", 2),
)


def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def make_tar(path: Path, files: dict[str, bytes], extra: tuple[tarfile.TarInfo, ...] = ()) -> Path:
    with tarfile.open(path, "w:bz2") as tar:
        top = tarfile.TarInfo(next(iter(files)).split("/")[0])
        top.type = tarfile.DIRTYPE
        tar.addfile(top)
        for name, data in files.items():
            add_file(tar, name, data)
        for info in extra:
            tar.addfile(info)
    return path


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str, list]]:
    """A folder served over HTTP on 127.0.0.1, its base URL, and the request log."""
    for var in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(var, "*")  # never route the loopback test through a proxy
    root = tmp_path / "served"
    root.mkdir()
    handler = type("Handler", (_Handler,), {"requests": []})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(handler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}/", handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def release(served: tuple[Path, str, list]) -> tuple[str, list]:
    """A two-archive release: one top folder without date prefix, one with; cmds files."""
    root, url, requests = served
    make_tar(
        root / "20030228_easy_ham.tar.bz2",
        {
            f"easy_ham/{named(1, HAM_1)}": HAM_1,
            f"easy_ham/{named(2, HAM_2)}": HAM_2,
            "easy_ham/cmds": b"mv 00001.x 00001.y\n",
        },
    )
    make_tar(
        root / "20030228_spam_2.tar.bz2",
        {
            f"20030228_spam_2/{named(1, SPAM_1)}": SPAM_1,
            f"20030228_spam_2/{named(2, SPAM_2)}": SPAM_2,
            f"20030228_spam_2/{WRONG_NAME}": SPAM_3,
            "20030228_spam_2/cmds": b"",
        },
    )
    return url, requests


def read_index(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_download_lays_out_verifies_and_indexes(tmp_path: Path, release: tuple[str, list]) -> None:
    url, _ = release
    dest = tmp_path / "corpus"
    seen: list[tuple[str, int, int | None]] = []
    summary = download_corpus(
        dest, base_url=url, archives=ARCHIVES, progress=lambda *a: seen.append(a)
    )

    assert sorted(p.name for p in (dest / "easy_ham").iterdir()) == [
        named(1, HAM_1),
        named(2, HAM_2),
    ]
    assert sorted(p.name for p in (dest / "spam_2").iterdir()) == [
        named(1, SPAM_1),
        named(2, SPAM_2),
    ]
    assert (dest / "spam_2" / named(1, SPAM_1)).read_bytes() == SPAM_1
    assert summary.counts == {"easy_ham": 2, "spam_2": 2}
    assert summary.complete
    assert summary.rejected == [f"spam_2/{WRONG_NAME}: MD5 of the bytes does not match the name"]
    assert summary.fetched == [a.name for a in ARCHIVES] and summary.reused == []
    assert {name for name, _, _ in seen} == {a.name for a in ARCHIVES}

    rows = read_index(summary.index)
    assert summary.index == dest / "index.csv"
    assert summary.index.read_text(encoding="utf-8").splitlines()[0] == (
        "path,label,era,random_split,temporal_split"
    )
    assert [r["path"] for r in rows] == sorted(
        f"{f}/{n}" for f, n in [("easy_ham", named(1, HAM_1)), ("easy_ham", named(2, HAM_2)),
                                ("spam_2", named(1, SPAM_1)), ("spam_2", named(2, SPAM_2))]
    )  # fmt: skip
    for r in rows:
        ham = r["path"].startswith("easy_ham/")
        assert r["label"] == ("ham" if ham else "spam")
        assert r["era"] == ("2002-10" if ham else "2003-02")
        assert r["temporal_split"] == ("train" if ham else "test")
    # ceil(20%) of each folder is test: one of two.
    for folder in ("easy_ham", "spam_2"):
        splits = sorted(r["random_split"] for r in rows if r["path"].startswith(folder))
        assert splits == ["test", "train"]


def test_second_run_reuses_verified_archives(tmp_path: Path, release: tuple[str, list]) -> None:
    url, requests = release
    dest = tmp_path / "corpus"
    first = download_corpus(dest, base_url=url, archives=ARCHIVES)
    index_before = first.index.read_bytes()
    n_requests = len(requests)

    second = download_corpus(dest, base_url=url, archives=ARCHIVES)

    assert len(requests) == n_requests
    assert second.fetched == [] and second.reused == [a.name for a in ARCHIVES]
    assert second.counts == first.counts and second.rejected == first.rejected
    assert second.index.read_bytes() == index_before


def test_damaged_folder_is_fetched_again(tmp_path: Path, release: tuple[str, list]) -> None:
    url, _ = release
    dest = tmp_path / "corpus"
    download_corpus(dest, base_url=url, archives=ARCHIVES)
    (dest / "easy_ham" / named(1, HAM_1)).unlink()

    again = download_corpus(dest, base_url=url, archives=ARCHIVES)

    assert again.fetched == ["20030228_easy_ham.tar.bz2"]
    assert (dest / "easy_ham" / named(1, HAM_1)).read_bytes() == HAM_1


def test_known_sha256_is_checked(tmp_path: Path, release: tuple[str, list]) -> None:
    url, _ = release
    served_root = tmp_path / "served"
    good = {
        a.name: hashlib.sha256((served_root / a.name).read_bytes()).hexdigest() for a in ARCHIVES
    }
    assert download_corpus(
        tmp_path / "ok", base_url=url, archives=ARCHIVES, expected_sha256=good
    ).complete

    bad = dict(good, **{"20030228_spam_2.tar.bz2": "ab" * 32})
    with pytest.raises(CorpusError, match=r"expected sha256 (ab)+ for 20030228_spam_2\.tar\.bz2"):
        download_corpus(tmp_path / "bad", base_url=url, archives=ARCHIVES, expected_sha256=bad)
    assert not (tmp_path / "bad" / "spam_2").exists()
    with pytest.raises(CorpusError, match=r"got \['spam\.tar\.bz2'\]"):
        download_corpus(
            tmp_path / "typo", base_url=url, archives=ARCHIVES, expected_sha256={"spam.tar.bz2": ""}
        )


def test_missing_archive_names_the_url(tmp_path: Path, served: tuple[Path, str, list]) -> None:
    _, url, _ = served
    with pytest.raises(CorpusError, match="HTTP 404") as info:
        download_corpus(tmp_path / "corpus", base_url=url, archives=ARCHIVES)
    assert f"{url}20030228_easy_ham.tar.bz2" in str(info.value)


def _member(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _evil_file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = 0
    return info


@pytest.mark.parametrize(
    "member",
    [
        pytest.param(_evil_file("../evil"), id="dot-dot"),
        pytest.param(_evil_file("easy_ham/../../evil"), id="dot-dot-inside"),
        pytest.param(_evil_file("/evil"), id="absolute"),
        pytest.param(_member("easy_ham/link", tarfile.SYMTYPE, "../../evil"), id="symlink"),
        pytest.param(_member("easy_ham/hard", tarfile.LNKTYPE, "easy_ham/cmds"), id="hardlink"),
        pytest.param(_member("easy_ham/dev", tarfile.CHRTYPE), id="device"),
        pytest.param(_member("easy_ham/fifo", tarfile.FIFOTYPE), id="fifo"),
        pytest.param(_evil_file("elsewhere/00009." + "0" * 32), id="outside-folder"),
    ],
)
def test_unsafe_members_are_refused(
    tmp_path: Path, served: tuple[Path, str, list], member: tarfile.TarInfo
) -> None:
    root, url, _ = served
    make_tar(
        root / "20030228_easy_ham.tar.bz2",
        {f"easy_ham/{named(1, HAM_1)}": HAM_1, "easy_ham/cmds": b""},
        extra=(member,),
    )
    dest = tmp_path / "corpus"
    with pytest.raises(CorpusError, match="20030228_easy_ham.tar.bz2"):
        download_corpus(dest, base_url=url, archives=ARCHIVES[:1])
    assert not (dest / "easy_ham").exists()
    assert not (tmp_path / "evil").exists() and not (dest / "evil").exists()


def test_caps_on_size_and_members(
    tmp_path: Path, release: tuple[str, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = release
    monkeypatch.setattr(corpus, "MAX_MEMBERS", 2)
    with pytest.raises(CorpusError, match="at most 2 members"):
        download_corpus(tmp_path / "a", base_url=url, archives=ARCHIVES)
    monkeypatch.setattr(corpus, "MAX_ARCHIVE_BYTES", 10)
    with pytest.raises(CorpusError, match="at most 10 bytes"):
        download_corpus(tmp_path / "b", base_url=url, archives=ARCHIVES)


def test_not_a_tarball(tmp_path: Path, served: tuple[Path, str, list]) -> None:
    root, url, _ = served
    (root / "20030228_easy_ham.tar.bz2").write_bytes(b"<html>not found</html>")
    with pytest.raises(CorpusError, match="expected a readable tar archive"):
        download_corpus(tmp_path / "corpus", base_url=url, archives=ARCHIVES[:1])


@pytest.mark.parametrize(
    "base_url",
    [pytest.param("file:///", id="file"), pytest.param("ftp://127.0.0.1/", id="ftp")],
)
def test_only_http_urls(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(CorpusError, match="expected an http"):
        download_corpus(tmp_path / "corpus", base_url=base_url, archives=ARCHIVES)


def test_foreign_folder_is_left_alone(tmp_path: Path, release: tuple[str, list]) -> None:
    url, _ = release
    dest = tmp_path / "corpus"
    (dest / "easy_ham").mkdir(parents=True)
    (dest / "easy_ham" / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(CorpusError, match="not made by download_corpus"):
        download_corpus(dest, base_url=url, archives=ARCHIVES)
    assert (dest / "easy_ham" / "mine.txt").read_text(encoding="utf-8") == "keep me"


def test_build_index_on_a_folder_extracted_by_hand(tmp_path: Path) -> None:
    for i in range(1, 11):
        data = HAM_1 + str(i).encode()
        (tmp_path / "hard_ham").mkdir(exist_ok=True)
        (tmp_path / "hard_ham" / named(i, data)).write_bytes(data)
    (tmp_path / "hard_ham" / "cmds").write_bytes(b"")

    out = build_index(tmp_path)
    rows = read_index(out)

    assert out == tmp_path / "index.csv"
    assert len(rows) == 10
    assert {(r["label"], r["era"], r["temporal_split"]) for r in rows} == {
        ("ham", "2002-10", "train")
    }
    assert sum(r["random_split"] == "test" for r in rows) == 2
    assert read_index(build_index(tmp_path, out=tmp_path / "again.csv")) == rows
    other = read_index(build_index(tmp_path, out=tmp_path / "seed1.csv", seed=1))
    assert [r["path"] for r in other] == [r["path"] for r in rows]


def test_build_index_without_corpus_folders(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="found none of"):
        build_index(tmp_path)


@pytest.mark.corpus
def test_build_index_agrees_with_the_shared_index(tmp_path: Path) -> None:
    """Oracle: labels, eras and temporal split as the shared index; random split counts."""
    root = default_corpus_root()
    if root is None:
        pytest.skip("the shared SpamAssassin corpus is absent")
    shared = read_index(root / "index.csv")
    ours = read_index(build_index(root, out=tmp_path / "index.csv"))

    def drop_random(rows: list[dict[str, str]]) -> list[tuple[str, ...]]:
        return [(r["path"], r["label"], r["era"], r["temporal_split"]) for r in rows]

    assert drop_random(ours) == drop_random(shared)

    def test_counts(rows: list[dict[str, str]]) -> Counter[str]:
        return Counter(r["path"].split("/")[0] for r in rows if r["random_split"] == "test")

    assert test_counts(ours) == test_counts(shared)
