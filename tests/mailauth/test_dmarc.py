"""DMARC: organisational domains, alignment, policies and results."""

from __future__ import annotations

import pytest

from mailauth.loopback_dns import LoopbackDns
from spamsift.mailauth import Resolver
from spamsift.mailauth.dmarc import (
    DmarcPolicy,
    aligned,
    dmarc_result,
    lookup_policy,
    org_domain,
    parse_record,
)


@pytest.mark.parametrize("domain, org", [
    ("mail.example.org", "example.org"), ("a.b.example.co.uk", "example.co.uk"),
    ("example.org", "example.org"), ("co.uk", "co.uk"), ("", ""),
    ("user.github.io", "user.github.io"),
])
def test_org_domain(domain: str, org: str) -> None:
    assert org_domain(domain) == org


@pytest.mark.parametrize("a, b, strict, expected", [
    ("mail.example.org", "example.org", False, True),
    ("mail.example.org", "example.org", True, False),
    ("example.org", "EXAMPLE.org.", True, True),
    ("example.co.uk", "other.co.uk", False, False),
    ("", "example.org", False, False),
])
def test_alignment(a: str, b: str, strict: bool, expected: bool) -> None:
    assert aligned(a, b, strict) is expected


def test_parse_record() -> None:
    assert parse_record(b"v=DMARC1; p=reject; adkim=s")["adkim"] == "s"  # type: ignore[index]
    assert parse_record(b"v=spf1 -all") is None
    assert parse_record(b"p=reject; v=DMARC1") is None  # v= must come first


def test_policy_of_the_domain_then_of_its_organisation(dns: LoopbackDns,
                                                       resolver: Resolver) -> None:
    dns.records[("_dmarc.example.org", "TXT")] = ["v=DMARC1; p=reject; sp=quarantine; aspf=s"]
    assert lookup_policy("example.org", resolver) == DmarcPolicy("reject", False, True)
    assert lookup_policy("news.example.org", resolver) == DmarcPolicy("quarantine", False, True)
    assert lookup_policy("other.example", resolver) is None


def test_two_records_are_no_policy(dns: LoopbackDns, resolver: Resolver) -> None:
    dns.records[("_dmarc.example.org", "TXT")] = ["v=DMARC1; p=reject", "v=DMARC1; p=none"]
    assert lookup_policy("example.org", resolver) is None


RELAXED, STRICT = DmarcPolicy("reject"), DmarcPolicy("reject", True, True)


@pytest.mark.parametrize("policy, dkim, spf, mail_from, expected", [
    pytest.param(None, [], None, "", "none", id="no-policy"),
    pytest.param(RELAXED, [("pass", "mail.example.org")], None, "", "pass", id="dkim-relaxed"),
    pytest.param(STRICT, [("pass", "mail.example.org")], ("fail", "x.example"), "", "fail",
                 id="dkim-strict"),
    pytest.param(RELAXED, [("pass", "esp.example")], ("pass", "bounce.example.org"), "",
                 "pass", id="spf-relaxed"),
    pytest.param(STRICT, [], ("pass", "bounce.example.org"), "", "fail", id="spf-strict"),
    pytest.param(RELAXED, [("fail", "example.org")], ("pass", "evil.example"), "", "fail",
                 id="nothing-aligned"),
    pytest.param(RELAXED, [], None, "evil.example", "fail", id="spf-unchecked-cannot-align"),
    pytest.param(RELAXED, [], None, "example.org", None, id="spf-unchecked-could-align"),
])
def test_result(policy: DmarcPolicy | None, dkim: list[tuple[str, str]],
                spf: tuple[str, str] | None, mail_from: str, expected: str | None) -> None:
    assert dmarc_result(policy, "example.org", dkim, spf, mail_from) == expected
