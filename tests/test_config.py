"""Settings: the networks exempt from the rate limit, from each source, parsed once."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from spamsift.config import Settings, load_settings
from spamsift.exceptions import ConfigError


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPAMSIFT_RATE_LIMIT_EXEMPT_NETWORKS", raising=False)
    monkeypatch.delenv("SPAMSIFT_CONFIG", raising=False)


def test_no_exempt_networks_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean(monkeypatch)
    assert load_settings().rate_limit_exempt_networks == ()


def test_exempt_networks_from_the_environment_are_parsed_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _clean(monkeypatch)
    monkeypatch.setenv("SPAMSIFT_RATE_LIMIT_EXEMPT_NETWORKS", "10.0.0.0/8, 192.0.2.7,::1")
    assert load_settings().rate_limit_exempt_networks == (
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("::1/128"))


def test_exempt_networks_from_a_toml_list(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    _clean(monkeypatch)
    cfg = tmp_path / "spamsift.toml"
    cfg.write_text('rate_limit_exempt_networks = ["10.0.0.0/8", "2001:db8::/32"]\n')
    monkeypatch.setenv("SPAMSIFT_CONFIG", str(cfg))
    assert [str(n) for n in load_settings().rate_limit_exempt_networks] == [
        "10.0.0.0/8", "2001:db8::/32"]


@pytest.mark.parametrize("bad", ["10.0.0.300", "10.1.2.3/8", "mail.example.org"])
def test_a_bad_exempt_network_is_a_config_error_naming_it(
        monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    _clean(monkeypatch)
    monkeypatch.setenv("SPAMSIFT_RATE_LIMIT_EXEMPT_NETWORKS", f"10.0.0.0/8,{bad}")
    with pytest.raises(ConfigError, match="rate_limit_exempt_networks") as raised:
        load_settings()
    assert repr(bad) in str(raised.value)


def test_exempt_networks_survive_the_trip_to_server_workers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # `serve --workers N` hands settings to each worker as JSON.
    _clean(monkeypatch)
    settings = Settings(rate_limit_exempt_networks="10.0.0.0/8,2001:db8::/32")
    assert Settings(**settings.model_dump(mode="json")) == settings
