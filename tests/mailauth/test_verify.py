"""Which results a message gets: trusted headers first, our own checks for the rest."""

from __future__ import annotations

import pickle
import time

import pytest

from mailauth.conftest import Signer, make_message
from mailauth.loopback_dns import LoopbackDns, SilentDns
from spamsift.config import load_settings
from spamsift.mailauth import Authenticator, Envelope, Resolver
from spamsift.parse import parse_message


def check(raw: bytes, auth: Authenticator, envelope: Envelope | None = None) -> dict:
    msg = auth.apply(parse_message(raw), raw, envelope)
    return {"dict": msg.auth.as_dict(), "tokens": msg.auth.tokens()}


def test_signed_and_aligned_passes_dmarc(sign: Signer, dns: LoopbackDns,
                                         resolver: Resolver) -> None:
    dns.records[("_dmarc.example.org", "TXT")] = ["v=DMARC1; p=reject"]
    out = check(sign(make_message(), domain="mail.example.org"),
                Authenticator(verify=True, resolver=resolver))
    assert out["dict"]["dkim"] == {"result": "pass", "source": "verified",
                                   "domain": "mail.example.org"}
    assert out["dict"]["dmarc"] == {"result": "pass", "source": "verified",
                                    "domain": "example.org", "policy": "reject"}
    assert out["dict"]["arc"] == {"result": "none", "source": "verified"}
    assert out["dict"]["spf"] == {"result": "none", "source": None}  # no envelope: unchecked
    assert set(out["tokens"]) == {"auth:dkim=pass", "auth:dmarc=pass", "auth:arc=none",
                                  "auth:dmarc_policy=reject", "auth:dkim_domain_aligned"}


def test_look_alike_sender_fails_dmarc(sign: Signer, dns: LoopbackDns,
                                       resolver: Resolver) -> None:
    # Signed, validly, by the phisher's own domain, but From: claims the bank's.
    dns.records[("_dmarc.bank.example", "TXT")] = ["v=DMARC1; p=reject"]
    raw = sign(make_message(from_addr="security@bank.example",
                            extra="Return-Path: <x@evil.example>\n"), domain="evil.example")
    out = check(raw, Authenticator(verify=True, resolver=resolver))
    assert out["dict"]["dkim"]["result"] == "pass"
    assert out["dict"]["dmarc"]["result"] == "fail"
    assert {"auth:dmarc=fail", "auth:dmarc_policy=reject",
            "auth:dkim_domain_unaligned"} <= set(out["tokens"])


def test_strict_dkim_alignment(sign: Signer, dns: LoopbackDns, resolver: Resolver) -> None:
    dns.records[("_dmarc.example.org", "TXT")] = ["v=DMARC1; p=quarantine; adkim=s"]
    raw = sign(make_message(extra="Return-Path: <b@bounces.esp.example>\n"),
               domain="mail.example.org")
    assert check(raw, Authenticator(verify=True, resolver=resolver))["dict"]["dmarc"][
        "result"] == "fail"


def test_spf_from_the_envelope_counts_for_dmarc(dns: LoopbackDns, resolver: Resolver) -> None:
    dns.records[("example.org", "TXT")] = ["v=spf1 ip4:192.0.2.0/24 -all"]
    dns.records[("_dmarc.example.org", "TXT")] = ["v=DMARC1; p=reject"]
    auth = Authenticator(verify=True, resolver=resolver)
    good = check(make_message(), auth, Envelope("192.0.2.7", "mx.example.org",
                                                "bounce@example.org"))
    assert good["dict"]["spf"] == {"result": "pass", "source": "verified",
                                   "domain": "example.org"}
    assert good["dict"]["dmarc"]["result"] == "pass"
    assert "auth:spf_domain_aligned" in good["tokens"]
    bad = check(make_message(), auth, Envelope("198.51.100.1", "h", "bounce@example.org"))
    assert bad["dict"]["spf"]["result"] == "fail" and bad["dict"]["dmarc"]["result"] == "fail"


def test_trusted_header_wins_and_checks_fill_in(sign: Signer, resolver: Resolver) -> None:
    raw = sign(make_message(extra="Authentication-Results: mx.example.net; dkim=fail"
                                  " header.d=example.org; spf=softfail"
                                  " smtp.mailfrom=example.org\n"))
    out = check(raw, Authenticator(["mx.example.net"], verify=True, resolver=resolver))
    assert out["dict"]["dkim"] == {"result": "fail", "source": "trusted-header",
                                   "domain": "example.org"}
    assert out["dict"]["spf"]["source"] == "trusted-header"
    assert out["dict"]["arc"]["source"] == "verified"
    assert out["dict"]["untrusted_authentication_results"] == 0


def test_forged_header_is_ignored_and_is_evidence(resolver: Resolver) -> None:
    raw = make_message(extra="Authentication-Results: mx.example.net; dkim=pass"
                             " header.d=example.org; dmarc=pass\n")
    out = check(raw, Authenticator(["mx.example.org"], verify=True, resolver=resolver))
    assert out["dict"]["dkim"] == {"result": "none", "source": "verified"}
    assert out["dict"]["untrusted_authentication_results"] == 1
    assert "auth:untrusted_ar" in out["tokens"] and "auth:dkim=pass" not in out["tokens"]


def test_without_verification_no_lookup_is_made(sign: Signer, dns: LoopbackDns,
                                                resolver: Resolver) -> None:
    out = check(sign(make_message()), Authenticator(["mx.example.org"], verify=False,
                                                    resolver=resolver))
    assert out["tokens"] == [] and dns.queries == []


def test_silent_dns_costs_at_most_the_budget(sign: Signer, silent_dns: SilentDns) -> None:
    auth = Authenticator(verify=True, budget=0.6,
                         resolver=Resolver([("127.0.0.1", silent_dns.port)], timeout=0.4))
    t0 = time.monotonic()
    out = check(sign(make_message()), auth)
    assert time.monotonic() - t0 < 2.0
    assert out["dict"]["dkim"]["result"] == "temperror"
    assert out["dict"]["dmarc"]["result"] == "temperror"


@pytest.mark.parametrize("where, door, batch", [("doors", True, False),
                                                ("always", True, True),
                                                ("never", False, False)])
def test_where_verification_runs(where: str, door: bool, batch: bool,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_AUTH_VERIFY", where)
    monkeypatch.setenv("SPAMSIFT_TRUSTED_AUTHSERV_IDS", "MX.example.org,mx2.example.org")
    s = load_settings()
    assert Authenticator.from_settings(s, door=True).verify is door
    assert Authenticator.from_settings(s, door=False).verify is batch
    assert Authenticator.from_settings(s, door=False).trusted_ids == {"mx.example.org",
                                                                     "mx2.example.org"}


def test_sent_to_workers_without_its_resolver(resolver: Resolver) -> None:
    auth = Authenticator(["mx.example.org"], verify=True, resolver=resolver)
    copy = pickle.loads(pickle.dumps(auth))
    assert copy.trusted_ids == auth.trusted_ids and copy._resolver is None
    assert copy.resolver is not resolver
