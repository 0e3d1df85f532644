"""Tests for spamsift.ingest.report."""

from __future__ import annotations

import logging

import pytest

from spamsift.ingest import IngestReport, RawMessage, Skipped, read_directory


def test_counts_and_summary() -> None:
    report = IngestReport()
    report.record(RawMessage("a", b"x"))
    report.record(RawMessage("b", b"y", meta={"truncated": "1"}))
    report.skip("c", "missing file", "no such file")
    report.skip("d", "unknown label", "'maybe'")
    report.skip("e", "missing file")
    report.filtered += 3

    assert (report.read, report.truncated, report.filtered, report.skipped_count) == (2, 1, 3, 3)
    assert report.skipped[0] == Skipped("c", "missing file", "no such file")
    assert report.summary() == (
        "read 2 messages, truncated 1 at the size cap, filtered out 3, "
        "skipped 3 (2 missing file, 1 unknown label)"
    )


def test_empty_summary() -> None:
    assert IngestReport().summary() == "read 0 messages, skipped 0"


def test_record_returns_the_message() -> None:
    message = RawMessage("a", b"x")
    assert IngestReport().record(message) is message


def test_keeps_only_the_first_examples_but_counts_all() -> None:
    report = IngestReport(keep=2)
    for n in range(5):
        report.skip(str(n), "missing file")
    assert report.skipped_count == 5
    assert [s.source for s in report.skipped] == ["0", "1"]


def test_a_reader_without_a_report_logs_its_skips(
    tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "linked").symlink_to(tmp_path / "gone")
    with caplog.at_level(logging.WARNING, logger="spamsift.ingest"):
        assert list(read_directory(tmp_path)) == []
    assert "skipped linked: missing file (broken symlink)" in caplog.text


def test_a_callers_report_does_not_log(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "linked").symlink_to(tmp_path / "gone")
    report = IngestReport()
    with caplog.at_level(logging.WARNING, logger="spamsift.ingest"):
        list(read_directory(tmp_path, report=report))
    assert caplog.text == ""
    assert report.reasons == {"missing file": 1}
