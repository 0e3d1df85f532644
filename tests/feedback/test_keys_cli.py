"""``spamsift keys``: the create form outside tools rely on, list, revoke, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from spamsift.cli.keys import keys_app
from spamsift.feedback import KeyStore

from .conftest import sqlite_url

runner = CliRunner()
# The command as the main CLI mounts it: ``spamsift keys ...``.
app = typer.Typer()
app.add_typer(keys_app, name="keys")


def test_create_prints_the_key_alone_on_the_last_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "create", "--scope", "feedback", "--data-dir",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    key = result.output.splitlines()[-1]
    assert result.stdout == key + "\n"  # stdout holds the key and nothing else
    assert "store it now" in result.stderr
    with KeyStore(sqlite_url(tmp_path)) as ks:
        info = ks.verify(key)
    assert info is not None and info.scopes == {"feedback"}


def test_create_in_a_real_process(tmp_path: Path) -> None:
    """The exact form, stdout and stderr merged as a shell's ``2>&1`` would."""
    proc = subprocess.run(
        [sys.executable, "-m", "spamsift.cli", "keys", "create", "--scope", "feedback",
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout
    key = proc.stdout.splitlines()[-1]
    with KeyStore(sqlite_url(tmp_path / "data")) as ks:
        assert ks.verify(key) is not None


def test_create_with_several_scopes_a_name_and_a_url(db_url: str) -> None:
    result = runner.invoke(keys_app, ["create", "--scope", "classify", "--scope", "feedback",
                                      "--name", "mx1", "--database-url", db_url])
    assert result.exit_code == 0, result.output
    with KeyStore(db_url) as ks:
        info = ks.verify(result.stdout.strip())
    assert info is not None and info.scopes == {"classify", "feedback"} and info.name == "mx1"


def test_list_and_revoke(tmp_path: Path) -> None:
    d = ["--data-dir", str(tmp_path)]
    key = runner.invoke(keys_app, ["create", "--scope", "admin", "--name", "ops", *d]).stdout
    listed = runner.invoke(keys_app, ["list", "--json", *d])
    assert listed.exit_code == 0
    [row] = json.loads(listed.stdout)
    assert (row["name"], row["scopes"], row["revoked_at"]) == ("ops", ["admin"], None)
    assert key.strip() not in listed.stdout and key.startswith(row["prefix"])
    table = runner.invoke(keys_app, ["list", *d])
    assert row["id"] in table.stdout and key.strip() not in table.stdout
    revoked = runner.invoke(keys_app, ["revoke", row["id"], *d])
    assert revoked.exit_code == 0 and f"revoked {row['id']}" in revoked.stdout
    assert "already revoked" in runner.invoke(keys_app, ["revoke", row["id"], *d]).stdout
    with KeyStore(sqlite_url(tmp_path)) as ks:
        assert ks.verify(key.strip()) is None


def test_list_when_empty(tmp_path: Path) -> None:
    result = runner.invoke(keys_app, ["list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0 and "no API keys" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        pytest.param(["create", "--scope", "root"], 3, "expected one or more of", id="scope"),
        pytest.param(["revoke", "000000000000"], 3, "no API key", id="unknown-key"),
        pytest.param(["list", "--database-url", "mysql://u@h/db"], 6, "database URL",
                     id="bad-url"),
        pytest.param(["create"], 2, "--scope", id="scope-required"),
    ],
)
def test_errors_and_exit_codes(tmp_path: Path, args: list[str], code: int,
                               message: str) -> None:
    result = runner.invoke(keys_app, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert result.stdout == ""


def test_unusable_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "spamsift.db").write_bytes(b"this is not a database" * 100)
    result = runner.invoke(keys_app, ["list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 8 and "error:" in result.stderr


def test_data_dir_defaults_to_the_setting(tmp_path: Path) -> None:
    result = runner.invoke(keys_app, ["create", "--scope", "classify"],
                           env={"SPAMSIFT_DATA_DIR": str(tmp_path / "d"), "SPAMSIFT_CONFIG": "",
                                "SPAMSIFT_DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    with KeyStore(sqlite_url(tmp_path / "d")) as ks:
        assert ks.verify(result.stdout.strip()) is not None


def test_database_url_setting_wins_as_for_the_server(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "by-url")
    result = runner.invoke(keys_app, ["create", "--scope", "feedback", "--data-dir",
                                      str(tmp_path / "by-dir")],
                           env={"SPAMSIFT_DATABASE_URL": url, "SPAMSIFT_CONFIG": ""})
    assert result.exit_code == 0, result.output
    with KeyStore(url) as ks:
        assert ks.verify(result.stdout.strip()) is not None
    assert not (tmp_path / "by-dir").exists()
