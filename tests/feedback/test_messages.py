"""Message ids, the stored form and the subject kept for audit listings."""

from __future__ import annotations

import hashlib

import pytest

from spamsift.feedback.messages import (
    compress,
    decompress,
    message_id,
    sender_of,
    subject_of,
)

RAW = b"Subject: hello\nFrom: a@example.org\n\nbody\n"


def test_id_is_sha256_of_the_bytes() -> None:
    assert message_id(RAW) == hashlib.sha256(RAW).hexdigest()


def test_mbox_from_line_is_not_part_of_the_message() -> None:
    assert message_id(b"From a@example.org Mon Jan  1 00:00:00 2024\n" + RAW) == message_id(RAW)


def test_any_other_byte_makes_another_message() -> None:
    assert message_id(RAW + b"\n") != message_id(RAW)


def test_compress_round_trip() -> None:
    assert decompress(compress(RAW * 100)) == RAW * 100
    assert len(compress(RAW * 100)) < len(RAW * 10)


@pytest.mark.parametrize(
    ("raw", "subject"),
    [
        pytest.param(RAW, "hello", id="plain"),
        pytest.param(b"subject:   folded\n\tline\n\nbody", "folded line", id="folded-any-case"),
        pytest.param(b"Subject: =?utf-8?q?caf=C3=A9?=\n\n", "café", id="encoded-word"),
        pytest.param("Subject: Grüße\n\n".encode(), "Grüße", id="raw-utf8"),
        pytest.param(b"From: a@b\n\nSubject: in the body\n", "", id="body-is-not-header"),
        pytest.param(b"From x@y Mon Jan  1 00:00:00 2024\nSubject: mbox\n\n", "mbox", id="mbox"),
        pytest.param(b"Subject: " + b"x" * 5000 + b"\n\n", "x" * 200, id="cut-to-200"),
        pytest.param(b"", "", id="empty"),
    ],
)
def test_subject(raw: bytes, subject: str) -> None:
    assert subject_of(raw) == subject


@pytest.mark.parametrize(
    ("raw", "sender"),
    [
        pytest.param(RAW, "a@example.org", id="plain"),
        pytest.param(b"from: Ann Lee <Ann.Lee@Example.ORG>\n\n", "ann.lee@example.org",
                     id="name-and-case"),
        pytest.param(b"From: =?utf-8?q?M=C3=BCller=2C_Hans?= <h@example.de>\n\n",
                     "h@example.de", id="encoded-name-with-comma"),
        pytest.param(b"From x@y Mon Jan  1 00:00:00 2024\nFrom: mbox@example.org\n\n",
                     "mbox@example.org", id="mbox-line-is-not-the-sender"),
        pytest.param(b"Subject: hi\n\nFrom: in@body.example\n", "", id="body-is-not-header"),
        pytest.param(b"From: not an address\n\n", "", id="no-address"),
        pytest.param(b"", "", id="empty"),
    ],
)
def test_sender(raw: bytes, sender: str) -> None:
    assert sender_of(raw) == sender
