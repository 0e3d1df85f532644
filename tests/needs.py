"""What the tests need from the machine beyond Python, and the one way they go without it.

The protocol tests drive real mail software (Debian's packages), the milter's tests
need the ``milter`` extra, the feedback store's tests a PostgreSQL server, the
dashboard's browser tests Debian's Chromium and its driver (through Selenium), the
systemd units' test ``systemd-analyze``, the container image's test podman and
mmdebstrap. A test module names what it needs with the ``needs`` marker
(``pytestmark = pytest.mark.needs("spamc")``, acted on by ``tests/conftest.py``); a
fixture calls :func:`require`. Whatever is missing skips the test with one line naming
what to install, except under ``CI=true``, where it fails: CI never skips them silently.
As root on Debian, ``make test`` installs all of it (``scripts/install-deps.sh``) and
starts a throwaway PostgreSQL (``scripts/with-postgres.sh``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_ENV = "SPAMSIFT_TEST_PG_URL"
_SBIN = "/usr/local/sbin:/usr/sbin:/sbin"  # not on a user's PATH on Debian
_DOVECOT_MODULES = Path("/usr/lib/dovecot/modules")
_SIEVE_PLUGINS = (_DOVECOT_MODULES / "lib95_imap_sieve_plugin.so",
                  _DOVECOT_MODULES / "sieve" / "lib90_sieve_imapsieve_plugin.so",
                  _DOVECOT_MODULES / "sieve" / "lib90_sieve_extprograms_plugin.so")


def which(name: str) -> str | None:
    """The path of the program ``name``: on PATH, else in the sbin folders."""
    return shutil.which(name) or shutil.which(name, path=_SBIN)


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SYSTEM_UNITS = "/usr/lib/systemd/system"  # systemd's own units, which ours start after


def _chromium() -> bool:
    return (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)
            and importlib.util.find_spec("selenium") is not None)


def _dovecot_with_pigeonhole() -> bool:
    return bool(which("dovecot") and which("sievec")) and all(p.exists() for p in _SIEVE_PLUGINS)


@dataclass(frozen=True)
class Need:
    """One thing a test may need: how to tell it is here, what it is, how to get it."""

    present: Callable[[], bool]
    what: str
    packages: tuple[str, ...] = ()  # Debian's packages that bring it
    otherwise: str = ""  # another way to get it, besides those and `make test` as root


NEEDS: dict[str, Need] = {
    "spamc": Need(lambda: which("spamc") is not None, "Debian's spamc", ("spamc",)),
    "postfix": Need(lambda: which("postfix") is not None, "Debian's postfix", ("postfix",)),
    "swaks": Need(lambda: which("swaks") is not None, "Debian's swaks", ("swaks",)),
    "dovecot": Need(_dovecot_with_pigeonhole, "Dovecot with Pigeonhole (IMAPSieve, pipe)",
                    ("dovecot-imapd", "dovecot-sieve")),
    "pymilter": Need(lambda: importlib.util.find_spec("Milter") is not None,
                     "pymilter (the milter extra, which `make test` builds on libmilter-dev)",
                     ("libmilter-dev",)),
    "root": Need(lambda: os.geteuid() == 0, "root (Postfix's master runs as root)"),
    "chromium": Need(_chromium, "Debian's Chromium and chromedriver, and Selenium (the test "
                     "extra)", ("chromium", "chromium-driver")),
    "systemd-analyze": Need(lambda: which("systemd-analyze") is not None
                            and Path(SYSTEM_UNITS).is_dir(),
                            "systemd-analyze and systemd's own units (Debian's systemd)",
                            ("systemd",)),
    "podman": Need(lambda: all(which(t) for t in ("podman", "mmdebstrap", "unshare", "nsenter",
                                                    "ip")),
                   "Debian's podman, mmdebstrap and iproute2 (to build and check the image)",
                   ("podman", "mmdebstrap", "iproute2")),
    "speedups": Need(lambda: importlib.util.find_spec("spamsift._speedups") is not None,
                     "spamsift's C extension (built by `pip install -e .` with a C compiler)",
                     ("gcc",), "pip install -e . with gcc on PATH"),
    "postgresql": Need(lambda: bool(os.environ.get(PG_ENV)),
                       "a PostgreSQL server (`make test` starts one if Debian's is installed)",
                       ("postgresql",), f"set {PG_ENV}"),
}


def missing(*names: str) -> list[str]:
    """Those of ``names`` (keys of :data:`NEEDS`) this machine lacks."""
    unknown = [n for n in names if n not in NEEDS]
    if unknown:
        raise ValueError(f"needs: expected some of {sorted(NEEDS)}, got {unknown}")
    return [n for n in names if not NEEDS[n].present()]


def require(*names: str) -> None:
    """Skip the running test, or under ``CI=true`` fail it, unless all of ``names`` are here.

    The reason is one line, the same for every test lacking the same things, so pytest's
    summary folds them into one.
    """
    lacking = missing(*names)
    if not lacking:
        return
    packages = [p for n in lacking for p in NEEDS[n].packages]
    ways = [f"apt-get install {' '.join(packages)}"] if packages else []
    ways.append("run `make test` as root")
    ways += [NEEDS[n].otherwise for n in lacking if NEEDS[n].otherwise]
    reason = f"needs {', '.join(NEEDS[n].what for n in lacking)}: {', or '.join(ways)}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"under CI=true nothing is skipped: {reason}", pytrace=False)
    pytest.skip(reason)
