"""Settings: which source wins, errors that name the key, and the networks exempt from the
rate limit, from each source, parsed once."""

from __future__ import annotations

import inspect
import ipaddress
import os
from pathlib import Path

import pytest

from spamsift.config import (
    MAX_MESSAGE_BYTES,
    ParseLimits,
    Settings,
    load_settings,
    settings_sources,
)
from spamsift.exceptions import ConfigError


def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SPAMSIFT_"):
            monkeypatch.delenv(name)


def _config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / "spamsift.toml"
    cfg.write_text(text)
    monkeypatch.setenv("SPAMSIFT_CONFIG", str(cfg))
    return cfg


# -- which source wins: overrides, then environment, then the file, then defaults ---------


def test_the_environment_beats_the_file_and_the_file_beats_the_default(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path, "target_fpr = 0.002\nseed = 7\n")
    monkeypatch.setenv("SPAMSIFT_TARGET_FPR", "0.005")
    settings = load_settings()
    assert settings.target_fpr == 0.005  # environment over file
    assert settings.seed == 7            # file over default
    assert settings.top_clues == 8       # default


def test_overrides_beat_the_environment(monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path, "target_fpr = 0.002\n")
    monkeypatch.setenv("SPAMSIFT_TARGET_FPR", "0.005")
    assert load_settings(target_fpr=0.007).target_fpr == 0.007
    # An option left out (None) is no override: the environment stands.
    assert load_settings(target_fpr=None).target_fpr == 0.005


def test_the_file_is_read_when_settings_are_loaded_not_at_import(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean(monkeypatch)
    assert load_settings().seed == 0
    cfg = _config_file(monkeypatch, tmp_path, "seed = 1\n")
    assert load_settings().seed == 1
    cfg.write_text("seed = 2\n")
    assert load_settings().seed == 2


def test_a_nested_limits_table_in_the_file(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path, "[limits]\nmax_parts = 7\nmax_depth = 5\n")
    monkeypatch.setenv("SPAMSIFT_LIMITS", '{"max_depth": 3}')
    limits = load_settings().limits
    # The environment's limits are merged with the file's, key by key.
    assert (limits.max_parts, limits.max_depth, limits.max_urls) == (7, 3, 500)


def test_an_unknown_key_in_the_file_is_an_error_naming_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path, "target_fpr = 0.002\ntraget_fpr = 0.5\n")
    with pytest.raises(ConfigError, match=r"traget_fpr=0\.5 \(file\)"):
        load_settings()


def test_an_unknown_nested_key_is_an_error_naming_it(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path, "[limits]\nmax_prats = 7\n")
    with pytest.raises(ConfigError, match=r"limits\.max_prats=7"):
        load_settings()


def test_a_bad_value_names_the_key_the_value_and_its_source(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path, "[limits]\nmax_parts = -1\n")
    with pytest.raises(ConfigError, match=r"limits\.max_parts=-1 \(file\)"):
        load_settings()
    monkeypatch.setenv("SPAMSIFT_TOP_CLUES", "many")
    with pytest.raises(ConfigError, match=r"top_clues='many' \(env\)"):
        load_settings()


@pytest.mark.parametrize(("text", "words"), [
    pytest.param("target_fpr = \n", "cannot read TOML", id="not-toml"),
    pytest.param(None, "expected a TOML file", id="missing"),
])
def test_a_bad_file_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                      text: str | None, words: str) -> None:
    _clean(monkeypatch)
    cfg = tmp_path / "spamsift.toml"
    if text is not None:
        cfg.write_text(text)
    monkeypatch.setenv("SPAMSIFT_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=words) as raised:
        load_settings()
    assert str(cfg) in str(raised.value)


def test_bad_json_for_a_nested_setting_in_the_environment_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _clean(monkeypatch)
    monkeypatch.setenv("SPAMSIFT_LIMITS", "max_parts=7")
    with pytest.raises(ConfigError, match=r"SPAMSIFT_LIMITS='max_parts=7': expected JSON"):
        load_settings()


# -- where each effective value came from -------------------------------------------------


def test_settings_sources_name_each_value_and_where_it_came_from(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clean(monkeypatch)
    _config_file(monkeypatch, tmp_path,
                 "target_fpr = 0.002\nseed = 7\n[limits]\nmax_parts = 7\n")
    monkeypatch.setenv("SPAMSIFT_TARGET_FPR", "0.005")
    monkeypatch.setenv("SPAMSIFT_LIMITS", '{"max_depth": 3}')
    sources = settings_sources(top_clues=3)
    assert sources["target_fpr"] == (0.005, "env")
    assert sources["seed"] == (7, "file")
    assert sources["top_clues"] == (3, "override")
    assert sources["limits.max_parts"] == (7, "file")
    assert sources["limits.max_depth"] == (3, "env")
    assert sources["limits.max_urls"] == (500, "default")
    assert sources["unsure_fpr"] == (0.01, "default")
    # Every setting is there, nested ones by dotted name.
    nested = {"limits", "images"}
    assert set(sources) >= {name for name in Settings.model_fields if name not in nested}
    assert not nested & set(sources)
    assert sources["images.max_images"] == (10, "default")


@pytest.mark.parametrize(("url", "shown"), [
    pytest.param("postgresql+psycopg://spam:s3cret@db.example.org:5432/spamsift",
                 "postgresql+psycopg://spam:***@db.example.org:5432/spamsift", id="password"),
    pytest.param("postgresql+psycopg://db.example.org/spamsift?user=spam&password=s3cret",
                 "postgresql+psycopg://db.example.org/spamsift?user=spam&password=***",
                 id="password-in-query"),
    pytest.param("sqlite:////var/lib/spamsift/spamsift.db",
                 "sqlite:////var/lib/spamsift/spamsift.db", id="no-password"),
])
def test_settings_sources_mask_the_database_password(monkeypatch: pytest.MonkeyPatch,
                                                     url: str, shown: str) -> None:
    _clean(monkeypatch)
    monkeypatch.setenv("SPAMSIFT_DATABASE_URL", url)
    assert settings_sources()["database_url"] == (shown, "env")


# -- one message-size cap -----------------------------------------------------------------


def test_one_message_size_cap_everywhere() -> None:
    """The parser, the readers, the feedback store, spamd and the milter: one default."""
    from spamsift.feedback.store import FeedbackStore
    from spamsift.ingest import DEFAULT_MAX_BYTES
    from spamsift.serving.milter.policy import MilterOptions
    from spamsift.serving.spamd.server import SpamdOptions

    store = inspect.signature(FeedbackStore).parameters["max_message_bytes"].default
    caps = {"parse": ParseLimits().max_message_bytes, "settings":
            Settings().limits.max_message_bytes, "ingest": DEFAULT_MAX_BYTES,
            "feedback store": store, "spamd": SpamdOptions().max_size,
            "milter": MilterOptions().max_size}
    assert caps == dict.fromkeys(caps, MAX_MESSAGE_BYTES)


# -- the networks exempt from the rate limit ----------------------------------------------


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
