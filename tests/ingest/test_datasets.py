"""Tests for spamsift.ingest.datasets: CSV and JSON Lines text datasets."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest

from spamsift.exceptions import IngestError
from spamsift.ingest import IngestReport, read_text_dataset, synthetic_message


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def _body(data: bytes) -> str:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    return parsed.get_content()


def test_synthetic_message_shape() -> None:
    data = synthetic_message("Win a prize\nnow", "Hello")
    head, body = data.split(b"\n\n", 1)
    assert head.splitlines() == [
        b"Subject: Hello",
        b"X-Spamsift-Synthetic: text-dataset",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit",
    ]
    assert body == b"Win a prize\nnow"


def test_synthetic_message_without_subject_still_parses() -> None:
    parsed = email.message_from_bytes(synthetic_message("hi"), policy=email.policy.default)
    assert (parsed["Subject"], parsed.get_content()) == ("", "hi")


def test_a_subject_cannot_inject_headers() -> None:
    data = synthetic_message("body", "Hi\nBcc: victim@example.org")
    assert data.startswith(b"Subject: Hi Bcc: victim@example.org\n")


def test_non_ascii_subject_and_text_round_trip() -> None:
    data = synthetic_message("Gratuit: 100 € pour vous", "Félicitations ✓")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "Félicitations ✓"
    assert parsed.get_content() == "Gratuit: 100 € pour vous"


def test_csv_dataset(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sms.csv",
        'label,text,lang\nham,"See you at 7",en\n'
        'spam,"WINNER!! Call now\nto claim",en\n'
        "1,Free entry,en\n",
    )
    report = IngestReport()
    messages = list(read_text_dataset(path, report=report))
    name = path.as_posix()
    assert [(m.source, m.label, m.meta) for m in messages] == [
        (f"{name}#2", "ham", {"lang": "en"}),
        (f"{name}#3", "spam", {"lang": "en"}),
        (f"{name}#5", "spam", {"lang": "en"}),  # the quoted text above spans two lines
    ]
    assert _body(messages[1].data) == "WINNER!! Call now\nto claim"
    assert report.summary() == "read 3 messages, skipped 0"


def test_csv_subject_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "mail.csv", "subject,text,label\nMeeting,At noon,ham\n")
    [message] = read_text_dataset(path)
    assert message.data.startswith(b"Subject: Meeting\n")
    assert message.meta == {}


def test_csv_bad_rows_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "text,label\nok,ham\nwhat,maybe\ntoo,many,fields\nfine,0\n")
    report = IngestReport()
    assert [m.label for m in read_text_dataset(path, report=report)] == ["ham", "ham"]
    name = path.as_posix()
    assert [(s.source, s.reason) for s in report.skipped] == [
        (f"{name}#3", "unknown label"),
        (f"{name}#4", "malformed row"),
    ]


def test_csv_keeps_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin.csv", b"text,label\ncaf\xe9 gratuit,spam\n")
    [message] = read_text_dataset(path)
    assert message.data.endswith(b"\n\ncaf\xe9 gratuit")


def test_csv_without_the_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.csv", "body,class\nx,spam\n")
    with pytest.raises(IngestError, match="missing text, label; found body, class"):
        read_text_dataset(path)


def test_csv_text_longer_than_the_csv_module_default(tmp_path: Path) -> None:
    text = "a" * 200_000  # the csv module refuses fields over 131072 unless told
    path = _write(tmp_path, "long.csv", f"text,label\n{text},spam\n")
    [message] = read_text_dataset(path)
    assert message.data.endswith(text.encode())


def test_jsonl_dataset(tmp_path: Path) -> None:
    rows = [
        {"text": "Lunch?", "label": "ham", "id": 7},
        {"text": "Cheap pills", "label": 1, "subject": "Offer", "tags": ["x"]},
    ]
    path = _write(tmp_path, "d.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    report = IngestReport()
    messages = list(read_text_dataset(path, report=report))
    name = path.as_posix()
    assert [(m.source, m.label, m.meta) for m in messages] == [
        (f"{name}#1", "ham", {"id": "7"}),
        (f"{name}#2", "spam", {"tags": '["x"]'}),
    ]
    assert b"Subject: Offer\n" in messages[1].data
    assert _body(messages[0].data) == "Lunch?"
    assert report.summary() == "read 2 messages, skipped 0"


def test_jsonl_bad_records_are_reported(tmp_path: Path) -> None:
    lines = [
        '{"text": "ok", "label": "spam"}',
        "{not json",
        '["a", "list"]',
        '{"label": "ham"}',
        '{"text": "x", "label": true}',
        '{"text": "lone \\ud800 surrogate", "label": "ham"}',
    ]
    path = _write(tmp_path, "d.jsonl", "\n".join(lines))
    report = IngestReport()
    messages = list(read_text_dataset(path, report=report))
    assert [m.source.rsplit("#", 1)[1] for m in messages] == ["1", "6"]
    assert messages[1].data.endswith(b"lone ? surrogate")
    assert [(s.source.rsplit("#", 1)[1], s.reason) for s in report.skipped] == [
        ("2", "invalid json"),
        ("3", "malformed row"),
        ("4", "missing text"),
        ("5", "unknown label"),
    ]


def test_jsonl_record_far_over_the_cap_is_skipped_unread(tmp_path: Path) -> None:
    huge = json.dumps({"text": "x" * 500, "label": "spam"})
    path = _write(tmp_path, "d.jsonl", f'{huge}\n{{"text": "small", "label": "ham"}}\n')
    report = IngestReport()
    [message] = read_text_dataset(path, max_bytes=100, report=report)
    assert message.source.endswith("#2")
    assert [(s.reason, s.detail) for s in report.skipped] == [("record too long", "over 400 bytes")]


def test_truncates_the_synthetic_message(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.jsonl", json.dumps({"text": "y" * 300, "label": "spam"}))
    report = IngestReport()
    [message] = read_text_dataset(path, max_bytes=200, report=report)
    assert (len(message.data), message.meta) == (200, {"truncated": "1"})
    assert report.truncated == 1


def test_format_by_argument(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.txt", '{"text": "hi", "label": "ham"}\n')
    assert len(list(read_text_dataset(path, file_format="jsonl"))) == 1


def test_format_unknown(tmp_path: Path) -> None:
    path = _write(tmp_path, "d.txt", "text,label\n")
    with pytest.raises(IngestError, match="expected file_format 'csv' or 'jsonl'"):
        read_text_dataset(path)


def test_missing_dataset(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"expected a text dataset, but .*d\.csv does not"):
        read_text_dataset(tmp_path / "d.csv")
