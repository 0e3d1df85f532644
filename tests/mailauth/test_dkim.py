"""DKIM verified with dkimpy against keys the loopback DNS server serves."""

from __future__ import annotations

import re
import time

from mailauth.conftest import Key, Signer, make_message
from mailauth.loopback_dns import LoopbackDns, SilentDns
from spamsift.mailauth import Resolver
from spamsift.mailauth.dkim import verify_dkim


def test_good_signature_passes(sign: Signer, resolver: Resolver) -> None:
    assert verify_dkim(sign(make_message()), resolver) == [("pass", "example.org")]


def test_crlf_and_an_mbox_line_still_pass(sign: Signer, resolver: Resolver) -> None:
    signed = sign(make_message())
    assert verify_dkim(b"From alice@example.org Mon Jun  2 10:00:00 2025\n" + signed,
                       resolver) == [("pass", "example.org")]
    crlf = re.sub(rb"\r?\n", b"\r\n", signed)
    assert verify_dkim(crlf, resolver) == [("pass", "example.org")]
    assert verify_dkim(crlf.replace(b"\r\n", b"\n"), resolver) == [("pass", "example.org")]


def test_tampered_body_fails(sign: Signer, resolver: Resolver) -> None:
    signed = sign(make_message(body="Lunch on Friday?\n"))
    tampered = signed.replace(b"Lunch on Friday?", b"Send me your password")
    assert verify_dkim(tampered, resolver) == [("fail", "example.org")]


def test_tampered_signed_header_fails(sign: Signer, resolver: Resolver) -> None:
    tampered = sign(make_message()).replace(b"Subject: lunch", b"Subject: invoice")
    assert verify_dkim(tampered, resolver) == [("fail", "example.org")]


def test_unknown_selector_is_a_permerror(sign: Signer, resolver: Resolver) -> None:
    # RFC 6376 6.1.2: no key record at the selector is a PERMFAIL.
    signed = sign(make_message(), selector="gone", serve=False)
    assert verify_dkim(signed, resolver) == [("permerror", "example.org")]


def test_revoked_key_is_a_permerror(sign: Signer, resolver: Resolver, dns: LoopbackDns
                                    ) -> None:
    signed = sign(make_message())
    dns.records[("sel._domainkey.example.org", "TXT")] = ["v=DKIM1; k=rsa; p="]
    assert verify_dkim(signed, resolver) == [("permerror", "example.org")]


def test_another_key_fails(sign: Signer, resolver: Resolver, dns: LoopbackDns) -> None:
    signed = sign(make_message())
    dns.records[("sel._domainkey.example.org", "TXT")] = [Key(1024).record]
    assert verify_dkim(signed, resolver) == [("fail", "example.org")]


def test_malformed_signature_is_a_permerror(resolver: Resolver) -> None:
    msg = make_message(extra="DKIM-Signature: v=1; a=rsa-sha256; d=example.org; b=@@@\n")
    assert verify_dkim(msg, resolver) == [("permerror", "")]


def test_unsigned_has_no_result(resolver: Resolver) -> None:
    assert verify_dkim(make_message(), resolver) == []
    assert verify_dkim(b"", resolver) == []
    assert verify_dkim(b"\xff\xfe garbage \x00", resolver) == []


def test_dns_that_does_not_answer_is_a_temperror_in_time(sign: Signer,
                                                         silent_dns: SilentDns) -> None:
    signed = sign(make_message())
    r = Resolver([("127.0.0.1", silent_dns.port)], timeout=0.3)
    t0 = time.monotonic()
    assert verify_dkim(signed, r) == [("temperror", "example.org")]
    assert time.monotonic() - t0 < 8  # the timeout held (not the 10 s or a hang)


def test_two_signatures_each_checked(sign: Signer, resolver: Resolver) -> None:
    both = sign(sign(make_message(), domain="esp.example"), domain="example.org")
    tampered = both.replace(b"Lunch", b"Brunch")
    assert sorted(verify_dkim(both, resolver)) == [("pass", "esp.example"),
                                                   ("pass", "example.org")]
    assert sorted(verify_dkim(tampered, resolver)) == [("fail", "esp.example"),
                                                       ("fail", "example.org")]


def test_signatures_checked_are_bounded(sign: Signer, resolver: Resolver) -> None:
    from spamsift.mailauth.dkim import MAX_SIGNATURES

    signed = sign(make_message())
    sig, _, rest = signed.partition(b"From: ")
    many = sig * 50 + b"From: " + rest
    assert verify_dkim(many, resolver) == [("pass", "example.org")] * MAX_SIGNATURES
    big = sign(make_message(body="x" * 80 + "\n") + b"y" * (17 * 1024 * 1024) + b"\n")
    assert len(verify_dkim(sig * 3 + big, resolver)) == 1
