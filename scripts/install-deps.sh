#!/usr/bin/env bash
# Install, from Debian's packages, whichever of the system software `make test` needs
# is missing; with everything present it does nothing. Run as root on Debian: `make
# test` runs it when it can (root, apt-get present) and `.ci/run` always does.
#
#   scripts/install-deps.sh [-n]     # -n: say what would be installed, install nothing
#
# What the tests drive: spamc (tests/serving/spamd), Postfix and swaks
# (tests/serving/milter), Dovecot with Pigeonhole (IMAPSieve, vnd.dovecot.pipe) for
# tests/serving/test_mailclients_dovecot.py, PostgreSQL for the feedback store's
# tests (scripts/with-postgres.sh starts a throwaway server), and Chromium with its
# driver for the dashboard's browser tests (tests/serving/dashboard/test_browser.py,
# driven by Selenium from the test extra), and systemd's `systemd-analyze` to verify
# the shipped units offline (tests/deploy/test_systemd.py); with SPAMSIFT_TEST_IMAGE=1,
# podman, mmdebstrap and iproute2 to build and check the container image
# (tests/deploy/test_image.py). pymilter, the milter extra, has no wheels: it compiles
# against libmilter-dev with a C compiler and, for Debian's own Python, python3-dev. Postfix and Dovecot are installed with no system
# configuration in use: the tests run instances of their own on loopback.
set -euo pipefail

dry_run=""
if [ "${1-}" = "-n" ]; then dry_run=1; fi

missing=()
command -v spamc >/dev/null || missing+=(spamc)
command -v swaks >/dev/null || missing+=(swaks)
# Postfix and Dovecot live in /usr/sbin, which is not on a user's PATH on Debian.
[ -x /usr/sbin/postfix ] || command -v postfix >/dev/null || missing+=(postfix)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
{ command -v sievec >/dev/null \
    && [ -e /usr/lib/dovecot/modules/lib95_imap_sieve_plugin.so ]; } || missing+=(dovecot-sieve)
[ -f /usr/include/libmilter/mfapi.h ] || missing+=(libmilter-dev)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
# Python.h for the Python the Makefile builds its venv with ($PY), when that is Debian's.
py_include=$("${PY:-python3}" -c 'import sysconfig; print(sysconfig.get_path("include"))' \
    2>/dev/null || true)
case "$py_include" in
    /usr/include/*) [ -f "$py_include/Python.h" ] || missing+=(python3-dev) ;;
esac
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v systemd-analyze >/dev/null || missing+=(systemd)
# The container image's build and check (tests/deploy/test_image.py), only when
# SPAMSIFT_TEST_IMAGE=1 asks for it, as .ci/run does: podman, mmdebstrap for the local
# Debian base, iproute2 for the check's loopback (scripts/build-image.sh).
if [ "${SPAMSIFT_TEST_IMAGE-}" = 1 ]; then
    command -v podman >/dev/null || missing+=(podman)
    command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
    [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || command -v ip >/dev/null || missing+=(iproute2)
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ -n "$dry_run" ]; then
    echo "would install ${missing[*]} (Debian's packages)" >&2
    exit 0
fi
echo "installing ${missing[*]} (Debian's packages)" >&2
# Postfix asks how to configure the system's mail; the tests need none of it.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
