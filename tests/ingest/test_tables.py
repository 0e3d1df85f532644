"""Tests for spamsift.ingest.tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest.tables import csv_header, open_csv


def test_header_is_stripped_and_bom_ignored(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbfpath , label\r\na,b\r\n")
    assert csv_header(path) == ["path", "label"]


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"")
    with pytest.raises(IngestError, match="expected a header line"):
        csv_header(path)


def test_undecodable_bytes_survive_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"caf\xe9\n")
    with open_csv(path) as stream:
        assert stream.read().encode("utf-8", "surrogateescape") == b"caf\xe9\n"
