"""Fetch the Apache SpamAssassin public corpus and index it like the shared copy.

:func:`download_corpus` downloads the 2003-02-28 release (the five tarballs that
hold exactly the 6,046 messages of the shared corpus: 2,500 easy_ham, 1,400
easy_ham_2, 250 hard_ham, 500 spam, 1,396 spam_2), extracts it safely into
``dest/<folder>/`` without the date prefix, verifies every message and writes
``dest/index.csv``. :func:`build_index` writes that index for a folder already
extracted by hand.

Verification. Each message is named ``NNNNN.<md5 of its bytes>``: a message whose
bytes do not hash to its name is reported in :attr:`CorpusSummary.rejected` and
left out (in the shared copy 6,045 of 6,046 names match; the odd one is in
hard_ham, so a faithful download may well report one rejection there). When the
caller knows a tarball's sha256 it is checked too, and a mismatch raises.

The index (``path,label,era,random_split,temporal_split``), as in the shared copy:

- label: ``ham`` for folders with "ham" in the name, ``spam`` for ``spam*``;
- era: the month the folder was first published (easy_ham, hard_ham and spam in
  the 2002-10-10 release; easy_ham_2 and spam_2 in 2003-02-28), *not* the Date
  header: easy_ham_2 holds mail dated August to December 2002, yet the shared
  index puts all of it in 2003-02;
- temporal_split: eras before 2003 train, the rest test;
- random_split: per folder, ceil(20%) test and the rest train, which gives the
  shared per-folder counts exactly. Which rows are test is decided by a seeded
  hash of the path; the shared index used some other rule (not sklearn's
  ``train_test_split``, seeded shuffles or hashes of the name for the seeds tried),
  so the rows differ from the shared index's even though the counts agree.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from spamsift.exceptions import CorpusError

__all__ = [
    "OFFICIAL_URL",
    "Archive",
    "DEFAULT_ARCHIVES",
    "CorpusSummary",
    "download_corpus",
    "build_index",
]

OFFICIAL_URL = "https://spamassassin.apache.org/old/publiccorpus/"
INDEX_HEADER = ("path", "label", "era", "random_split", "temporal_split")
#: Eras from this month on are the temporal split's test set.
TEMPORAL_TEST_FROM = "2003-01"
TEST_FRACTION = 0.2

# Caps well above the real release (each tarball is a few MB, the largest holds
# 2,500 messages) and low enough that a hostile server cannot fill the disk.
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024
MAX_EXTRACTED_BYTES = 512 * 1024 * 1024
MAX_MEMBERS = 20_000

MESSAGE_NAME = re.compile(r"^\d{5}\.([0-9a-f]{32})$")
_DATE_PREFIX = re.compile(r"^\d{8}_")
_STATE_DIR = ".downloads"
_CHUNK = 64 * 1024

#: Called as ``progress(archive_name, bytes_done, bytes_total_or_None)`` while downloading.
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class Archive:
    """One tarball of the release and where its messages go.

    Parameters
    ----------
    name : str
        File name under the base URL, e.g. ``20030228_spam.tar.bz2``.
    folder : str
        Folder under the destination, the name without its date prefix.
    era : str
        ``YYYY-MM`` the folder was first published, copied into the index.
    count : int or None
        Messages the folder should hold once verified; None when unknown.
    """

    name: str
    folder: str
    era: str
    count: int | None = None


DEFAULT_ARCHIVES: tuple[Archive, ...] = (
    Archive("20030228_easy_ham.tar.bz2", "easy_ham", "2002-10", 2500),
    Archive("20030228_easy_ham_2.tar.bz2", "easy_ham_2", "2003-02", 1400),
    Archive("20030228_hard_ham.tar.bz2", "hard_ham", "2002-10", 250),
    Archive("20030228_spam.tar.bz2", "spam", "2002-10", 500),
    Archive("20030228_spam_2.tar.bz2", "spam_2", "2003-02", 1396),
)


@dataclass(slots=True)
class CorpusSummary:
    """What :func:`download_corpus` left in ``root``.

    ``counts`` holds verified messages per folder, ``expected`` the counts the
    archives promise, ``rejected`` one ``"folder/name: reason"`` line per message
    left out, ``fetched`` and ``reused`` the archive names downloaded this run or
    kept from an earlier one.
    """

    root: Path
    index: Path
    counts: dict[str, int] = field(default_factory=dict)
    expected: dict[str, int | None] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every folder holds as many verified messages as expected."""
        return all(n is None or self.counts.get(f) == n for f, n in self.expected.items())


def download_corpus(
    dest: Path,
    *,
    base_url: str = OFFICIAL_URL,
    archives: Iterable[Archive] = DEFAULT_ARCHIVES,
    timeout: float = 60,
    expected_sha256: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> CorpusSummary:
    """Download, verify and index the corpus under ``dest``.

    Archives verified by an earlier run (same tarball sha256, folder intact) are
    not fetched again.

    Parameters
    ----------
    dest : Path
        Folder to fill; created if missing.
    expected_sha256 : mapping, optional
        Archive name to hex sha256; a tarball that does not match raises.

    Raises
    ------
    CorpusError
        A tarball cannot be fetched, is too big, fails its checksum, holds an
        unsafe member, or a destination folder exists that this function did not make.

    Examples
    --------
    >>> summary = download_corpus(Path("data/spamassassin"))  # doctest: +SKIP
    >>> summary.complete, summary.rejected                   # doctest: +SKIP
    """
    archives = tuple(archives)
    folders = [a.folder for a in archives]
    if len(set(folders)) != len(folders):
        raise CorpusError(f"expected one archive per folder, got folders {folders}")
    expected = {k: v.lower() for k, v in (expected_sha256 or {}).items()}
    unknown = sorted(set(expected) - {a.name for a in archives})
    if unknown:
        raise CorpusError(f"expected sha256 keys among the archive names, got {unknown}")
    dest = Path(dest)
    state_dir = dest / _STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    summary = CorpusSummary(root=dest, index=dest / "index.csv")
    for archive in archives:
        state = _reusable_state(dest, archive, expected.get(archive.name))
        if state is not None:
            summary.reused.append(archive.name)
        else:
            url = urllib.parse.urljoin(
                base_url if base_url.endswith("/") else base_url + "/", archive.name
            )
            tar_path = state_dir / archive.name
            digest = _fetch(url, tar_path, timeout=timeout, progress=progress, name=archive.name)
            want = expected.get(archive.name)
            if want is not None and digest != want:
                tar_path.unlink()
                raise CorpusError(f"expected sha256 {want} for {archive.name}, got {digest}")
            try:
                state = _extract(tar_path, dest, archive)
            finally:
                tar_path.unlink()
            state["sha256"] = digest
            _state_path(dest, archive).write_text(json.dumps(state, indent=1), encoding="utf-8")
            summary.fetched.append(archive.name)
        summary.counts[archive.folder] = state["messages"]
        summary.expected[archive.folder] = archive.count
        summary.rejected.extend(state["rejected"])
    build_index(dest, archives=archives)
    return summary


def build_index(
    root: Path,
    *,
    archives: Iterable[Archive] = DEFAULT_ARCHIVES,
    out: Path | None = None,
    seed: int = 0,
) -> Path:
    """Write ``index.csv`` for the archive folders present under ``root``.

    Files named ``NNNNN.<32 hex>`` are indexed; others (the release's ``cmds``
    files) are not. Rows are sorted by path, as in the shared index.

    Parameters
    ----------
    out : Path, optional
        Where to write; ``root / "index.csv"`` by default.
    seed : int
        Chooses which rows of each folder form the random test fifth.

    Raises
    ------
    CorpusError
        None of the archives' folders is under ``root``, or a folder name gives no label.
    """
    root = Path(root)
    rows: list[tuple[str, str, str, str, str]] = []
    found = []
    for archive in archives:
        folder = root / archive.folder
        if not folder.is_dir():
            continue
        found.append(archive.folder)
        label = _label(archive.folder)
        temporal = "train" if archive.era < TEMPORAL_TEST_FROM else "test"
        paths = sorted(
            f"{archive.folder}/{p.name}"
            for p in folder.iterdir()
            if p.is_file() and MESSAGE_NAME.match(p.name)
        )
        n_test = math.ceil(TEST_FRACTION * len(paths))
        test = set(
            sorted(paths, key=lambda p: hashlib.sha256(f"{seed}/{p}".encode()).digest())[:n_test]
        )
        for p in paths:
            rows.append((p, label, archive.era, "test" if p in test else "train", temporal))
    if not found:
        raise CorpusError(
            f"expected corpus folders under {root}, found none of {[a.folder for a in archives]}"
        )
    rows.sort()
    out = root / "index.csv" if out is None else Path(out)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(INDEX_HEADER)
        writer.writerows(rows)
    tmp.replace(out)
    return out


def _label(folder: str) -> str:
    if "ham" in folder:
        return "ham"
    if folder.startswith("spam"):
        return "spam"
    raise CorpusError(f"expected a folder name containing 'ham' or starting 'spam', got {folder!r}")


def _state_path(dest: Path, archive: Archive) -> Path:
    return dest / _STATE_DIR / f"{archive.name}.json"


def _reusable_state(dest: Path, archive: Archive, want_sha256: str | None) -> dict | None:
    """The record of an earlier verified extraction, if it still holds."""
    path = _state_path(dest, archive)
    folder = dest / archive.folder
    if not path.is_file():
        if folder.exists():
            raise CorpusError(
                f"{folder} exists but was not made by download_corpus; "
                "remove it, pick another dest, or use build_index on it"
            )
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        present = sum(1 for p in folder.iterdir() if MESSAGE_NAME.match(p.name))
        ok = want_sha256 in (None, state["sha256"]) and present == state["messages"]
    except (OSError, ValueError, KeyError, TypeError):
        ok = False
    return state if ok else None


def _fetch(url: str, path: Path, *, timeout: float, progress: Progress | None, name: str) -> str:
    """Stream ``url`` to ``path`` under the size cap; return the sha256 hex."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise CorpusError(f"expected an http(s) URL, got {url}")
    part = path.with_name(path.name + ".part")
    sha = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, part.open("wb") as fh:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > MAX_ARCHIVE_BYTES:
                raise CorpusError(
                    f"expected at most {MAX_ARCHIVE_BYTES} bytes from {url}, "
                    f"server announces {total}"
                )
            done = 0
            while chunk := resp.read(_CHUNK):
                done += len(chunk)
                if done > MAX_ARCHIVE_BYTES:
                    raise CorpusError(
                        f"expected at most {MAX_ARCHIVE_BYTES} bytes from {url}, got more"
                    )
                sha.update(chunk)
                fh.write(chunk)
                if progress is not None:
                    progress(name, done, total)
    except urllib.error.HTTPError as exc:
        exc.close()
        part.unlink(missing_ok=True)
        raise CorpusError(f"could not fetch {url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        raise CorpusError(f"could not fetch {url}: {exc}") from exc
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(path)
    return sha.hexdigest()


def _extract(tar_path: Path, dest: Path, archive: Archive) -> dict:
    """Check every member, keep the messages whose MD5 matches, then swap the folder in."""
    staging = dest / _STATE_DIR / (archive.folder + ".staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    rejected: list[str] = []
    kept = members = total = 0
    try:
        with tarfile.open(tar_path, mode="r:*") as tar:
            for member in tar:
                members += 1
                total += max(member.size, 0)
                if members > MAX_MEMBERS or total > MAX_EXTRACTED_BYTES:
                    raise CorpusError(
                        f"expected at most {MAX_MEMBERS} members and "
                        f"{MAX_EXTRACTED_BYTES} bytes in {archive.name}, got more"
                    )
                rel = _checked_member(member, archive, staging)
                if rel is None:
                    continue
                match = MESSAGE_NAME.match(rel.name)
                if match is None:  # the release's `cmds` file and the like
                    continue
                src = tar.extractfile(member)
                data = src.read() if src is not None else b""
                if hashlib.md5(data, usedforsecurity=False).hexdigest() != match.group(1):
                    rejected.append(
                        f"{archive.folder}/{rel.name}: MD5 of the bytes does not match the name"
                    )
                    continue
                (staging / rel.name).write_bytes(data)
                kept += 1
    except (tarfile.TarError, EOFError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise CorpusError(f"expected a readable tar archive in {archive.name}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    folder = dest / archive.folder
    if folder.exists():  # ours, from an earlier run: _reusable_state refuses anything else
        shutil.rmtree(folder)
    staging.replace(folder)
    return {"archive": archive.name, "messages": kept, "rejected": rejected}


def _checked_member(
    member: tarfile.TarInfo, archive: Archive, staging: Path
) -> PurePosixPath | None:
    """Refuse unsafe members; return a regular file's path, None for directories."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or ".." in name.parts:
        raise CorpusError(f"expected relative member paths in {archive.name}, got {member.name!r}")
    if not (member.isfile() or member.isdir()):
        raise CorpusError(
            f"expected only files and folders in {archive.name}, got "
            f"{member.name!r} (a link or device)"
        )
    try:
        tarfile.data_filter(member, str(staging))
    except tarfile.FilterError as exc:
        raise CorpusError(f"unsafe member in {archive.name}: {exc}") from exc
    if member.isdir():
        return None
    parts = [p for p in name.parts if p != "."]
    if len(parts) != 2 or _DATE_PREFIX.sub("", parts[0]) != archive.folder:
        raise CorpusError(
            f"expected members under {archive.folder}/ in {archive.name}, got {member.name!r}"
        )
    return PurePosixPath(*parts)
