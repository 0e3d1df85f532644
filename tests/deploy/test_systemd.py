"""The systemd units shipped in ``spamsift/data/systemd`` pass ``systemd-analyze verify``.

``verify`` works offline, with no systemd running, but it checks that each
``ExecStart`` binary exists and loads the units ours order themselves after. So each
test builds a small root: systemd's own units copied from the machine, ours in
``/etc/systemd/system`` and an executable stub where the units expect
``/opt/spamsift/bin/spamsift``. ``verify`` exits 0 on an unknown key or a bad value
(it only warns), so any output fails the test too.
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path

import pytest

from needs import SYSTEM_UNITS, which

pytestmark = pytest.mark.needs("systemd-analyze")

UNITS = Path(str(files("spamsift") / "data" / "systemd"))
DAEMONS = ("serve", "spamd", "milter")
NAMES = sorted(p.name for p in UNITS.iterdir() if p.suffix in (".service", ".timer"))
EXEC = "/opt/spamsift/bin/spamsift"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((UNITS / name).read_text())
    return parser


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(SYSTEM_UNITS, root / SYSTEM_UNITS.lstrip("/"), symlinks=True)
    ours = root / "etc/systemd/system"
    ours.mkdir(parents=True)
    for name in NAMES:
        shutil.copy(UNITS / name, ours / name)
    stub = root / EXEC.lstrip("/")
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    return root


def _verify(root: Path, name: str) -> subprocess.CompletedProcess[str]:
    analyze = which("systemd-analyze")
    assert analyze is not None
    return subprocess.run(
        [analyze, "verify", "--man=no", f"--root={root}", str(root / "etc/systemd/system" / name)],
        capture_output=True, text=True, timeout=60, check=False)


def test_every_unit_is_shipped() -> None:
    assert NAMES == ["spamsift-milter.service", "spamsift-retrain.service",
                     "spamsift-retrain.timer", "spamsift-serve.service",
                     "spamsift-spamd.service"]


@pytest.mark.parametrize("name", NAMES)
def test_verify_passes(root: Path, name: str) -> None:
    done = _verify(root, name)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_verify_catches_a_bad_key(root: Path) -> None:
    """The test can fail: a misspelt key is reported (verify still exits 0)."""
    bad = root / "etc/systemd/system/spamsift-bad.service"
    bad.write_text((UNITS / "spamsift-serve.service").read_text()
                   .replace("ProtectHome=yes", "ProtectHome=yes\nProtectHomes=yes"))
    done = _verify(root, bad.name)
    assert "Unknown key 'ProtectHomes'" in done.stdout + done.stderr


@pytest.mark.parametrize("daemon", DAEMONS)
def test_daemons_run_hardened_on_the_state_folder(daemon: str) -> None:
    service = _unit(f"spamsift-{daemon}.service")["Service"]
    assert service["ExecStart"].startswith(f"{EXEC} {daemon} --data-dir /var/lib/spamsift ")
    assert service["StateDirectory"] == "spamsift"
    assert service["User"] == "spamsift"
    assert service["EnvironmentFile"] == "-/etc/spamsift/spamsift.env"
    assert service["Restart"] == "on-failure"
    for key, value in [("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("NoNewPrivileges", "yes"), ("PrivateTmp", "yes"),
                       ("PrivateDevices", "yes"), ("SystemCallFilter", "@system-service")]:
        assert service[key] == value, key
    # Only spamd binds a port below 1024 (783), so only it keeps a capability.
    wanted = "CAP_NET_BIND_SERVICE" if daemon == "spamd" else ""
    assert service["CapabilityBoundingSet"] == wanted


def test_the_timer_starts_retrain() -> None:
    assert _unit("spamsift-retrain.timer")["Timer"]["OnCalendar"] == "daily"
    service = _unit("spamsift-retrain.service")["Service"]
    assert service["Type"] == "oneshot"
    assert service["ExecStart"].startswith(f"{EXEC} retrain --data-dir /var/lib/spamsift")
