"""A message's identity: the mbox From line stripped alike by the parser, the feedback
store's ids and training's duplicate keys."""

from __future__ import annotations

import dataclasses
import doctest
import hashlib

import pytest

from spamsift.features.dedup import exact_key
from spamsift.feedback.messages import message_id
from spamsift.feedback.messages import strip_mbox_from as store_strip
from spamsift.parse import identity, parse_message
from spamsift.parse.identity import message_digest, strip_mbox_from

ENVELOPE = b"From ann@example.org Mon Jan  1 00:00:00 2024"
MAIL = b"Subject: lunch\nFrom: Ann <ann@example.org>\n\nSee you at noon.\n"

CASES = [
    pytest.param(ENVELOPE, b"", id="only-a-from-line-no-newline"),
    pytest.param(b"From x", b"", id="only-from-x"),
    pytest.param(ENVELOPE + b"\n", b"", id="only-a-from-line"),
    pytest.param(ENVELOPE + b"\r\n", b"", id="only-a-from-line-crlf"),
    pytest.param(ENVELOPE + b"\n" + MAIL, MAIL, id="mbox-framed"),
    pytest.param(ENVELOPE + b"\r\n" + MAIL.replace(b"\n", b"\r\n"),
                 MAIL.replace(b"\n", b"\r\n"), id="mbox-framed-crlf"),
    pytest.param(b">" + ENVELOPE + b"\n" + MAIL, b">" + ENVELOPE + b"\n" + MAIL,
                 id="quoted-from-is-mail"),
    pytest.param(b"From: ann@example.org\n\nhi\n", b"From: ann@example.org\n\nhi\n",
                 id="from-header-is-mail"),
    pytest.param(b"from ann@example.org\n\nhi\n", b"from ann@example.org\n\nhi\n",
                 id="lower-case-is-not-a-separator"),
    pytest.param(MAIL + ENVELOPE + b"\n", MAIL + ENVELOPE + b"\n", id="only-a-leading-line"),
    pytest.param(MAIL, MAIL, id="ordinary"),
    pytest.param(b"", b"", id="empty"),
]


@pytest.mark.parametrize(("raw", "kept"), CASES)
def test_strip_mbox_from(raw: bytes, kept: bytes) -> None:
    assert strip_mbox_from(raw) == kept


@pytest.mark.parametrize(("raw", "kept"), CASES)
def test_the_store_training_and_the_parser_agree(raw: bytes, kept: bytes) -> None:
    # The digest of what is kept: for ordinary mail, the ids stored feedback has today.
    assert message_id(raw) == exact_key(raw) == hashlib.sha256(kept).hexdigest()
    assert store_strip(raw) == kept
    # The parser reads what is kept: all but the size it was given is the same.
    assert (dataclasses.replace(parse_message(raw), size=0)
            == dataclasses.replace(parse_message(kept), size=0))


def test_ordinary_ids_are_pinned() -> None:
    # The feedback store keys messages by these: a change would orphan stored feedback.
    pinned = "d2427806dd2109e519413dbee31d1e25a234115795993bfc7a63a012a2d7d67f"
    assert message_digest(MAIL) == message_digest(ENVELOPE + b"\n" + MAIL) == pinned


def test_docstring_examples() -> None:
    result = doctest.testmod(identity)
    assert result.failed == 0 and result.attempted > 0
