"""ARC chains sealed with dkimpy's arc_sign and verified against the loopback DNS."""

from __future__ import annotations

from mailauth.conftest import Key, Signer, make_message
from mailauth.loopback_dns import LoopbackDns, SilentDns
from spamsift.mailauth import Resolver
from spamsift.mailauth.arc import verify_arc


def seal(message: bytes, key: Key, dns: LoopbackDns, domain: str = "list.example") -> bytes:
    """``message`` as a forwarder (a mailing list) passes it on: its verdict recorded and
    sealed (ARC set i=N+1)."""
    import dkim

    dns.records[(f"arc._domainkey.{domain}", "TXT")] = [key.record]
    ar = f"Authentication-Results: mx.{domain}; dkim=pass header.d=example.org\n".encode()
    lines = dkim.arc_sign(ar + message, b"arc", domain.encode(), key.private_pem,
                          f"mx.{domain}".encode(), linesep=b"\n")
    return b"".join(lines) + ar + message


def test_sealed_chain_passes(sign: Signer, key: Key, dns: LoopbackDns,
                             resolver: Resolver) -> None:
    sealed = seal(sign(make_message()), key, dns)
    assert verify_arc(sealed, resolver) == "pass"
    assert verify_arc(seal(sealed, key, dns, domain="relay.example"), resolver) == "pass"


def test_changed_after_sealing_fails(sign: Signer, key: Key, dns: LoopbackDns,
                                     resolver: Resolver) -> None:
    sealed = seal(sign(make_message()), key, dns)
    assert verify_arc(sealed.replace(b"Lunch", b"Wire money"), resolver) == "fail"


def test_no_chain_is_none(resolver: Resolver) -> None:
    assert verify_arc(make_message(), resolver) == "none"


def test_forged_arc_headers_fail(resolver: Resolver) -> None:
    forged = make_message(extra="ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=a; b=AAAA\n"
                                "ARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=a;"
                                " h=from; bh=AAAA; b=AAAA\n"
                                "ARC-Authentication-Results: i=1; x.example; dkim=pass\n")
    assert verify_arc(forged, resolver) == "fail"


def test_unanswered_lookup_is_a_temperror(sign: Signer, key: Key, dns: LoopbackDns,
                                          silent_dns: SilentDns) -> None:
    sealed = seal(sign(make_message()), key, dns)
    assert verify_arc(sealed, Resolver([("127.0.0.1", silent_dns.port)], timeout=0.3)) \
        == "temperror"
