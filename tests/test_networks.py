"""Trusted clients: network lists as operators write them, and who falls inside."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from spamsift.exceptions import ConfigError
from spamsift.networks import is_trusted, parse_networks


@pytest.mark.parametrize(("values", "expected"), [
    pytest.param("10.0.0.0/8", ["10.0.0.0/8"], id="one-network"),
    pytest.param("10.0.0.0/8, 192.0.2.7,", ["10.0.0.0/8", "192.0.2.7/32"],
                 id="commas-spaces-trailing-comma"),
    pytest.param(["10.0.0.0/8", "2001:db8::/32,::1"],
                 ["10.0.0.0/8", "2001:db8::/32", "::1/128"], id="repeated-and-ipv6"),
    pytest.param([ipaddress.ip_network("10.0.0.0/8"), "192.0.2.0/24"],
                 ["10.0.0.0/8", "192.0.2.0/24"], id="parsed-pass-through"),
    pytest.param("", [], id="empty"),
    pytest.param([], [], id="none"),
])
def test_parse_networks(values: Any, expected: list[str]) -> None:
    assert [str(n) for n in parse_networks(values, name="nets")] == expected


@pytest.mark.parametrize("bad", [
    pytest.param("10.0.0.300", id="not-an-address"),
    pytest.param("10.1.2.3/8", id="host-bits-set"),
    pytest.param("mail.example.org", id="a-name"),
    pytest.param("10.0.0.0/33", id="prefix-too-long"),
])
def test_a_bad_value_is_a_config_error_naming_it(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"^nets: .*" + bad.replace(".", r"\.")):
        parse_networks(f"192.0.2.0/24,{bad}", name="nets")


@pytest.mark.parametrize(("address", "trusted"), [
    pytest.param("127.0.0.1", True, id="loopback"),
    pytest.param("127.8.9.10", True, id="all-of-127/8"),
    pytest.param("::1", True, id="loopback-v6"),
    pytest.param("::ffff:127.0.0.1", True, id="loopback-v4-mapped"),
    pytest.param("10.1.2.3", True, id="in-a-network"),
    pytest.param("::ffff:10.1.2.3", True, id="in-a-network-v4-mapped"),
    pytest.param("2001:db8::25", True, id="in-a-v6-network"),
    pytest.param("11.0.0.1", False, id="outside"),
    pytest.param("192.0.2.1", False, id="outside-v4-in-v6-list"),
    pytest.param("testclient", False, id="not-an-address"),
    pytest.param(None, False, id="unknown"),
    pytest.param("", False, id="empty"),
])
def test_is_trusted(address: str | None, trusted: bool) -> None:
    networks = parse_networks("10.0.0.0/8,2001:db8::/32", name="nets")
    assert is_trusted(address, networks) is trusted


@pytest.mark.parametrize("bad", [pytest.param(8, id="a-number"),
                                 pytest.param([8], id="a-list-of-numbers")])
def test_a_value_of_another_type_is_a_config_error(bad: Any) -> None:
    with pytest.raises(ConfigError, match="^nets: expected IP addresses or networks, got "):
        parse_networks(bad, name="nets")


def test_only_loopback_without_networks() -> None:
    assert is_trusted("127.0.0.1") and not is_trusted("10.1.2.3")
