"""SPF with pyspf against records of the loopback DNS server."""

from __future__ import annotations

import pytest

from mailauth.loopback_dns import LoopbackDns, SilentDns
from spamsift.mailauth import Resolver
from spamsift.mailauth.spf import check_spf


@pytest.mark.parametrize("record, ip, expected", [
    pytest.param("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.10", "pass", id="pass"),
    pytest.param("v=spf1 ip4:192.0.2.0/24 -all", "198.51.100.7", "fail", id="fail"),
    pytest.param("v=spf1 ip4:192.0.2.0/24 ~all", "198.51.100.7", "softfail", id="softfail"),
    pytest.param("v=spf1 ?all", "198.51.100.7", "neutral", id="neutral"),
    pytest.param("v=spf1 a:mail.example.org -all", "203.0.113.5", "pass", id="a-mechanism"),
    pytest.param("v=spf1 include:_spf.esp.example -all", "203.0.113.9", "pass", id="include"),
    pytest.param("v=spf1 ip4:192.0.2.0/24 moo -all", "192.0.2.10", "permerror", id="bad"),
])
def test_results_from_the_record(dns: LoopbackDns, resolver: Resolver, record: str, ip: str,
                                 expected: str) -> None:
    dns.records[("example.org", "TXT")] = [record]
    dns.records[("mail.example.org", "A")] = ["203.0.113.5"]
    dns.records[("_spf.esp.example", "TXT")] = ["v=spf1 ip4:203.0.113.9 -all"]
    assert check_spf(ip, "alice@example.org", "mail.example.org", resolver) == (
        expected, "example.org")


def test_no_record_is_none(resolver: Resolver) -> None:
    assert check_spf("192.0.2.1", "a@nospf.example", "h.example", resolver) == (
        "none", "nospf.example")


def test_null_sender_checks_the_helo_name(dns: LoopbackDns, resolver: Resolver) -> None:
    dns.records[("mx.example.org", "TXT")] = ["v=spf1 ip4:192.0.2.1 -all"]
    assert check_spf("192.0.2.1", "", "mx.example.org", resolver) == ("pass", "mx.example.org")


def test_silent_dns_is_a_temperror(silent_dns: SilentDns) -> None:
    r = Resolver([("127.0.0.1", silent_dns.port)], timeout=0.3)
    assert check_spf("192.0.2.1", "a@example.org", "h", r)[0] == "temperror"


def test_bad_client_address_is_a_permerror(resolver: Resolver) -> None:
    assert check_spf("not-an-ip", "a@example.org", "h", resolver)[0] == "permerror"
