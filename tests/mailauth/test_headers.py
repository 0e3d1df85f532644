"""Authentication-Results parsing (RFC 8601) and the trusted authserv-id rule."""

from __future__ import annotations

import pytest

from spamsift.mailauth import parse_authentication_results, trusted_results
from spamsift.mailauth.results import TRUSTED_HEADER
from spamsift.parse import parse_message


@pytest.mark.parametrize("value, serv, expected", [
    pytest.param("mx.example.org; spf=pass smtp.mailfrom=a@b.example", "mx.example.org",
                 [("spf", "pass", {"smtp.mailfrom": "a@b.example"})], id="one"),
    pytest.param('"mx.example.org" 1; dkim=fail (bad; sig) header.d=b.example header.s=s1;'
                 ' dmarc=fail (p=reject dis=none) header.from=b.example', "mx.example.org",
                 [("dkim", "fail", {"header.d": "b.example", "header.s": "s1"}),
                  ("dmarc", "fail", {"header.from": "b.example"})],
                 id="quoted-id-version-comments-with-semicolons"),
    pytest.param("mx.example.org; none", "mx.example.org", [], id="no-result"),
    pytest.param("MX.Example.ORG;\n\tSPF=HardFail smtp.mailfrom=x.example", "mx.example.org",
                 [("spf", "fail", {"smtp.mailfrom": "x.example"})], id="case-and-old-name"),
    pytest.param("mx; dkim/1=pass header.i=@c.example; foo=bar; arc=pass", "mx",
                 [("dkim", "pass", {"header.i": "@c.example"}), ("arc", "pass", {})],
                 id="method-version-unknown-result-skipped"),
])
def test_parse(value: str, serv: str, expected: list[tuple[str, str, dict[str, str]]]) -> None:
    h = parse_authentication_results(value)
    assert h is not None
    assert h.authserv_id == serv
    assert [(r.method, r.result, r.props) for r in h.results] == expected


@pytest.mark.parametrize("value", ["", "   ", "(only a comment)", ";", "((((", '"' * 5000,
                                   "x; " + "dkim=pass; " * 10_000])
def test_parse_never_raises(value: str) -> None:
    h = parse_authentication_results(value)
    assert h is None or len(h.results) <= 50


FORGED = "Authentication-Results: mx.example.org; dkim=pass header.d=paypal.com; spf=pass\n"
REAL = ("Authentication-Results: mx.example.org; dkim=fail header.d=paypal.com;\n"
        " spf=softfail smtp.mailfrom=evil.example; dmarc=fail (p=reject) header.from=paypal.com\n")


def headers(text: str) -> list[tuple[str, str]]:
    return parse_message((text + "From: x@paypal.com\nSubject: s\n\nbody\n").encode()).headers


def test_only_listed_authserv_ids_count() -> None:
    hs = headers("Authentication-Results: evil.example; dkim=pass header.d=paypal.com\n" + REAL)
    auth = trusted_results(hs, ["mx.example.org"])
    assert auth.dkim is not None and auth.dkim.result == "fail"
    assert auth.dkim.source == TRUSTED_HEADER and auth.dkim.domain == "paypal.com"
    assert auth.spf is not None and (auth.spf.result, auth.spf.domain) == ("softfail",
                                                                           "evil.example")
    assert auth.dmarc is not None and auth.dmarc.policy == "reject"
    assert auth.untrusted_ar == 1
    assert "auth:untrusted_ar" in auth.tokens() and "auth:dkim=fail" in auth.tokens()


def test_without_trusted_ids_nothing_counts() -> None:
    auth = trusted_results(headers(REAL), [])
    assert auth.missing() == ["spf", "dkim", "dmarc", "arc"]
    assert auth.untrusted_ar == 1
    assert auth.tokens() == ["auth:untrusted_ar"]


def test_topmost_trusted_header_wins() -> None:
    # The site's MTA writes its header on top; a forged one with its id sits below.
    auth = trusted_results(headers(REAL + FORGED), ["mx.example.org"])
    assert auth.dkim is not None and auth.dkim.result == "fail"
    assert auth.spf is not None and auth.spf.result == "softfail"


def test_several_dkim_results_any_pass_stands() -> None:
    hs = headers("Authentication-Results: mx.example.org; dkim=fail header.d=a.example;"
                 " dkim=pass header.d=b.example\n")
    auth = trusted_results(hs, ["MX.example.org"])
    assert auth.dkim is not None and (auth.dkim.result, auth.dkim.domain) == ("pass",
                                                                              "b.example")
    assert auth.dkim_domains == [("fail", "a.example"), ("pass", "b.example")]


def test_arc_authentication_results_are_not_authentication_results() -> None:
    hs = headers("ARC-Authentication-Results: i=1; mx.example.org; dkim=pass\n")
    auth = trusted_results(hs, ["mx.example.org"])
    assert auth.empty


def test_dmarc_policy_property_form() -> None:
    hs = headers("Authentication-Results: mx.example.org; dmarc=fail reason=\"no valid\""
                 " header.from=paypal.com policy.dmarc=quarantine\n")
    auth = trusted_results(hs, ["mx.example.org"])
    assert auth.dmarc is not None and auth.dmarc.policy == "quarantine"
    assert "auth:dmarc_policy=quarantine" in auth.tokens()
