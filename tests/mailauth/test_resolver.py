"""The resolver: the servers it is told, its cache, its timeouts."""

from __future__ import annotations

import time

import pytest

from mailauth.loopback_dns import LoopbackDns, SilentDns
from spamsift.config import load_settings
from spamsift.exceptions import ConfigError
from spamsift.mailauth import Authenticator, DnsTempError, Resolver, parse_servers


def test_spamsift_dns_servers_is_honoured(dns: LoopbackDns,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    dns.records[("_dmarc.example.org", "TXT")] = ["v=DMARC1; p=reject"]
    monkeypatch.setenv("SPAMSIFT_DNS_SERVERS", dns.address)
    auth = Authenticator.from_settings(load_settings(), door=True)
    assert auth.resolver.txt("_dmarc.example.org") == [b"v=DMARC1; p=reject"]
    assert dns.queries == [("_dmarc.example.org", "TXT")]


@pytest.mark.parametrize("value", ["example.org:53", "127.0.0.1:0", "127.0.0.1:x", "[::1]:99999"])
def test_bad_dns_servers_name_the_setting(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_DNS_SERVERS", value)
    with pytest.raises(ConfigError, match="dns_servers"):
        load_settings()


def test_parse_servers_forms() -> None:
    assert parse_servers("[2001:db8::1]:5353,10.0.0.1") == (("2001:db8::1", 5353),
                                                             ("10.0.0.1", 53))


def test_answers_and_absences_are_cached(dns: LoopbackDns, resolver: Resolver) -> None:
    dns.records[("k._domainkey.example.org", "TXT")] = ["v=DKIM1; p=abc"]
    for _ in range(3):
        assert resolver.txt("k._domainkey.example.org") == [b"v=DKIM1; p=abc"]
        assert resolver.txt("nothing.example.org") == []
    assert sorted(dns.queries) == [("k._domainkey.example.org", "TXT"),
                                   ("nothing.example.org", "TXT")]


def test_ttl_zero_is_asked_again(dns: LoopbackDns, resolver: Resolver) -> None:
    dns.ttl = 0
    dns.records[("a.example.org", "TXT")] = ["one"]
    assert resolver.txt("a.example.org") == [b"one"]
    dns.records[("a.example.org", "TXT")] = ["two"]
    assert resolver.txt("a.example.org") == [b"two"]


def test_cache_is_bounded(dns: LoopbackDns) -> None:
    r = Resolver([("127.0.0.1", dns.port)], cache_size=3)
    for i in range(10):
        r.txt(f"n{i}.example.org")
    assert len(r._cache) == 3


def test_silent_server_gives_temperror_within_the_timeout(silent_dns: SilentDns) -> None:
    r = Resolver([("127.0.0.1", silent_dns.port)], timeout=0.3)
    t0 = time.monotonic()
    with pytest.raises(DnsTempError):
        r.txt("a.example.org")
    assert time.monotonic() - t0 < 8  # the timeout held (not the 10 s or a hang)


def test_deadline_caps_the_timeout(silent_dns: SilentDns) -> None:
    r = Resolver([("127.0.0.1", silent_dns.port)], timeout=10)
    t0 = time.monotonic()
    with pytest.raises(DnsTempError):
        r.txt("a.example.org", deadline=time.monotonic() + 0.3)
    assert time.monotonic() - t0 < 8  # the timeout held (not the 10 s or a hang)
    with pytest.raises(DnsTempError, match="budget"):
        r.txt("b.example.org", deadline=time.monotonic() - 1)


def test_servers_down_fail_fast(silent_dns: SilentDns) -> None:
    r = Resolver([("127.0.0.1", silent_dns.port)], timeout=0.2)
    for i in range(3):
        with pytest.raises(DnsTempError):
            r.txt(f"n{i}.example.org")
    t0 = time.monotonic()
    with pytest.raises(DnsTempError, match="not answering"):
        r.txt("another.example.org")
    assert time.monotonic() - t0 < 0.1
    assert r.lookups == 3


def test_names_dns_cannot_hold_have_no_records(resolver: Resolver) -> None:
    assert resolver.txt("a" * 70 + ".example.org") == []
    assert resolver.txt("a..b") == []
