"""The hand-written phishing and controls the quality benchmark scores (tests/phishing.py):
each message carries its payload where its kind says, and the body alone is innocuous.

If a kind's payload stopped being read (a QR code too small to decode, text cut off
the edge of its picture), the benchmark would measure messages without their
phishing; these tests say so first.
"""

from __future__ import annotations

from collections import Counter

import pytest

import phishing
from spamsift.features.tokens import tokenize
from spamsift.mailauth import Authenticator
from spamsift.parse import ParsedMessage, parse_message

# The source of the part that carries each kind's payload (None: in the headers).
_PAYLOAD = {"pdf": "pdf", "qr": "qr", "image-text": "ocr", "forged-auth": None,
            "docx": "docx", "html-attachment": "html-attachment", "invoice-pdf": "pdf",
            "newsletter-image": "ocr", "event-qr": "qr", "brand-receipt": None,
            "docx-notes": "docx", "list-dmarc-fail": None, "itinerary-html": "html-attachment"}
_PHISHY = ("sign in", "password", "verify", "log in", "login", "account", "suspen", "card")


@pytest.fixture(scope="module")
def parsed() -> list[tuple[phishing.Sample, ParsedMessage]]:
    auth = Authenticator(trusted_ids=[phishing.SITE_AUTHSERV])
    return [(s, auth.apply(parse_message(s.data), s.data)) for s in phishing.samples()]


def test_every_kind_has_several_variants_and_controls_of_each_shape() -> None:
    kinds = Counter((s.kind, s.label) for s in phishing.samples())
    assert {k for k, label in kinds if label == "spam"} == set(phishing.PHISH_KINDS)
    assert {k for k, label in kinds if label == "ham"} == set(phishing.CONTROL_KINDS)
    assert min(kinds.values()) >= 3
    assert len({s.data for s in phishing.samples()}) == len(phishing.samples())


def test_the_set_is_the_same_on_every_run() -> None:
    assert [s.data for s in phishing.samples()] == [s.data for s in phishing.samples()]


def test_each_payload_is_read_where_its_kind_says(parsed: list) -> None:
    for s, msg in parsed:
        source = _PAYLOAD[s.kind]
        if source is None:
            continue
        parts = [p for p in msg.parts if p.source == source]
        assert parts and all(p.text.strip() for p in parts), s.name
        if source == "qr":
            assert parts[0].urls and parts[0].urls[0].startswith("http"), s.name


def test_phishing_bodies_are_innocuous_and_payloads_are_not(parsed: list) -> None:
    for s, msg in parsed:
        if s.label != "spam" or s.kind == "forged-auth":
            continue
        assert not any(w in msg.text_plain.lower() for w in _PHISHY), s.name
        payload = " ".join(p.text for p in msg.parts if p.source == _PAYLOAD[s.kind]).lower()
        payload += " ".join(u for p in msg.parts for u in p.urls)
        assert any(w in payload for w in _PHISHY + ("http",)), s.name


def test_authentication_is_what_the_site_recorded(parsed: list) -> None:
    for s, msg in parsed:
        tokens = set(tokenize(msg))
        assert msg.auth.dmarc is not None, s.name
        if s.kind == "forged-auth":
            assert "auth:dmarc=fail" in tokens and "auth:untrusted_ar" in tokens, s.name
            assert msg.auth.dkim is not None and msg.auth.dkim.result == "fail"
        elif s.kind == "list-dmarc-fail":
            assert {"auth:dmarc_fail_policy=reject", "auth:arc=pass"} <= tokens
        elif s.label == "ham":
            assert "auth:dmarc=pass" in tokens, s.name
