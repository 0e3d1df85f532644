"""Duplicates: exact copies and the same mail with other headers share a group."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from spamsift.features.dedup import content_key, duplicate_of, exact_key
from spamsift.parse import parse_message

BODY = (b"Earn $5000 per week working from home. No experience needed, guaranteed income.\n"
        b"Visit http://win-big.info/join to start your business today.\n")
ORIGINAL = (b"From: Winner <promo1@win-big.info>\nTo: alice@example.org\n"
            b"Subject: Make $5000 a week\nMessage-ID: <a1@win-big.info>\n\n" + BODY)
# The same mail relayed to another list: other recipient, id, trace headers.
RESENT = (b"Received: from relay.example.net (relay.example.net [203.0.113.9])\n"
          b"From: Winner <promo1@win-big.info>\nTo: bob@lists.example.com\n"
          b"Subject: Make  $5000 a week\nMessage-ID: <b2@relay.example.net>\n"
          b"X-Mailing-List: deals\n\n" + BODY.replace(b"per week", b"per   week"))
OTHER = (b"From: Carol <carol@example.org>\nTo: bob@example.org\nSubject: Kernel meeting\n\n"
         b"The kernel meeting moved to Friday afternoon; please bring the quarterly figures.\n")


def test_exact_key_ignores_the_mbox_separator_line() -> None:
    framed = b"From promo1@win-big.info Mon Mar  4 10:00:00 2002\n" + ORIGINAL
    assert exact_key(framed) == exact_key(ORIGINAL)
    assert exact_key(ORIGINAL + b"\n") != exact_key(ORIGINAL)


def test_a_from_header_is_not_an_mbox_separator() -> None:
    # "From:" (a header) is part of the message; only "From " starts a separator.
    assert exact_key(b"From: a@example.com\n\nhi") != exact_key(b"\nhi")


def test_content_key_matches_the_same_mail_with_other_headers() -> None:
    assert content_key(parse_message(ORIGINAL)) == content_key(parse_message(RESENT))
    assert content_key(parse_message(ORIGINAL)) != content_key(parse_message(OTHER))


def test_content_key_depends_on_the_subject() -> None:
    other_subject = ORIGINAL.replace(b"Subject: Make $5000 a week", b"Subject: Last chance")
    assert content_key(parse_message(other_subject)) != content_key(parse_message(ORIGINAL))


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"Subject: hi\n\nthanks!", id="short-body"),
    pytest.param(b"Subject: a long subject that says nothing\n\n \n\t\n", id="blank-body"),
])
def test_near_empty_bodies_have_no_content_key(data: bytes) -> None:
    assert content_key(parse_message(data)) is None


@dataclass
class Keys:
    exact_key: str
    content_key: str | None


def _keys(data: bytes) -> Keys:
    return Keys(exact_key(data), content_key(parse_message(data)))


def test_duplicate_of_groups_exact_and_content_duplicates() -> None:
    framed = b"From promo1@win-big.info Mon Mar  4 10:00:00 2002\n" + ORIGINAL
    meta = [_keys(d) for d in (OTHER, ORIGINAL, framed, RESENT, OTHER)]
    assert duplicate_of(meta) == [0, 1, 1, 1, 0]


def test_duplicate_of_without_duplicates_is_the_identity() -> None:
    meta = [_keys(d) for d in (OTHER, ORIGINAL)]
    assert duplicate_of(meta) == [0, 1]
    assert duplicate_of([]) == []


def test_duplicate_of_chains_through_a_shared_key() -> None:
    # b shares a's content, c shares b's bytes: all three are one group.
    meta = [Keys("e1", "c1"), Keys("e2", "c1"), Keys("e2", None), Keys("e3", None)]
    assert duplicate_of(meta) == [0, 0, 0, 3]
