"""``spamsift milter`` behind a real Postfix, with mail sent by a real SMTP client (swaks).

The test runs a Postfix instance of its own (Debian's ``postfix`` package): its own
configuration and queue folders under the test's temporary folder, SMTP on a free
loopback port, ``smtpd_milters`` pointing at a ``spamsift milter`` subprocess, and
every recipient delivered by Postfix's ``virtual`` agent to one Maildir. Nothing of
the system's mail set-up is used or touched. Postfix's master runs as root, so this
needs root, as in CI.

Without Postfix or swaks (or not as root) these tests are skipped, except under
``CI=true``, where they fail (``tests/needs.py``); ``make test`` as root installs both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from needs import which
from spamsift.models.spam_model import SpamModel
from spamsift.serving.markup import Scan, scan_of, strip_markup
from spamsift.serving.service import resolve_model

from .conftest import MilterDaemon, free_port

POSTFIX, SWAKS = which("postfix"), which("swaks")
pytestmark = pytest.mark.needs("pymilter", "postfix", "swaks", "root")

NOBODY = 65534  # the uid and gid Postfix's virtual agent writes the Maildir as
Mail = list[tuple[bytes, str]]

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
proxymap  unix  - - n - - proxymap
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
showq     unix  n - n - - showq
"""

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
mail_owner = postfix
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.example.test
mydomain = example.test
myorigin = example.test
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = example.test
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:{nobody}
virtual_gid_maps = static:{nobody}
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
smtpd_milters = inet:127.0.0.1:{milter_port}
non_smtpd_milters =
milter_default_action = tempfail
"""


@dataclass
class Postfix:
    root: Path
    port: int

    @property
    def inbox(self) -> Path:
        return self.root / "mail" / "inbox" / "new"

    @property
    def hold(self) -> Path:
        return self.root / "queue" / "hold"

    def postfix(self, *args: str) -> None:
        r = subprocess.run([str(POSTFIX), "-c", str(self.root / "conf"), *args],
                           capture_output=True, timeout=60, check=False)
        assert r.returncode == 0, (r.stdout, r.stderr, self.log())

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else ""

    def send(self, raw: bytes, to: str = "ann@example.test") -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(SWAKS), "--server", f"127.0.0.1:{self.port}", "--to", to,
                               "--from", "sender@example.org", "--data", "-", "--timeout", "60"],
                              input=raw.decode("latin-1"), capture_output=True, text=True,
                              encoding="latin-1", timeout=120, check=False)

    def queue_id(self, swaks: subprocess.CompletedProcess[str]) -> str:
        for line in swaks.stdout.splitlines():
            if "queued as " in line:
                return line.rsplit("queued as ", 1)[1].strip()
        raise AssertionError(swaks.stdout + swaks.stderr)

    def wait_for(self, what: str, cond: object, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not cond():  # type: ignore[operator]
            assert time.monotonic() < deadline, f"{what} within {timeout} s\n{self.log()}"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def bundled() -> SpamModel:
    return resolve_model(None)


@pytest.fixture(scope="module")
def examples(mail_set: Mail, bundled: SpamModel) -> dict[str, tuple[bytes, Scan]]:
    """A ham, the weakest spam and the strongest, by the bundled model."""
    raws = [raw for raw, _ in mail_set]
    scans = [(raw, scan_of(v, bundled.spam_cutoff, "bundled"))
             for raw, v in zip(raws, bundled.classify(raws, top=8), strict=True)]
    ham = [x for x in scans if x[1].verdict.verdict == "ham"]
    spam = sorted((x for x in scans if x[1].is_spam), key=lambda x: x[1].shown)
    assert ham and len(spam) >= 2 and spam[0][1].shown < spam[-1][1].shown
    return {"ham": ham[0], "weak spam": spam[0], "strong spam": spam[-1]}


@pytest.fixture(scope="module")
def mta(tmp_path_factory: pytest.TempPathFactory,
        examples: dict[str, tuple[bytes, Scan]]) -> Iterator[Postfix]:
    # Reject what scores above the weak spam, quarantine the rest of the spam.
    weak, strong = examples["weak spam"][1].shown, examples["strong spam"][1].shown
    milter = MilterDaemon(tmp_path_factory.mktemp("pf-milter") / "data", "--quarantine-score",
                          "5.0", "--reject-score", f"{(weak + strong) / 2:.2f}")
    try:
        # Not under pytest's folder: Postfix's own users must reach theirs, and
        # pytest's base folder is root's alone.
        root = Path(tempfile.mkdtemp(prefix="spamsift-postfix-"))
        root.chmod(0o755)
        for sub in ("conf", "queue", "data", "mail"):
            (root / sub).mkdir()
        shutil.chown(root / "data", user="postfix")
        os.chown(root / "mail", NOBODY, NOBODY)
        pf = Postfix(root, free_port())
        (root / "conf" / "main.cf").write_text(MAIN_CF.format(
            root=root, nobody=NOBODY, milter_port=milter.port))
        (root / "conf" / "master.cf").write_text(MASTER_CF.format(port=pf.port))
        pf.postfix("start")
        try:
            pf.wait_for("Postfix listening", lambda: "daemon started" in pf.log())
            yield pf
        finally:
            pf.postfix("stop")
            shutil.rmtree(root, ignore_errors=True)
    finally:
        assert milter.stop() == 0, milter.log.read_text()


def _delivered(pf: Postfix, queue_id: str) -> bytes:
    for path in pf.inbox.iterdir():
        data = path.read_bytes()
        if f"id {queue_id}".encode() in data:
            return data
    raise AssertionError(f"{queue_id} not delivered")


def _as_the_milter_saw_it(delivered: bytes) -> bytes:
    """The delivered copy without our markup and the headers Postfix added after the
    milter (Return-Path, X-Original-To, Delivered-To, its Received)."""
    msg = strip_markup(delivered)
    head, _, body = msg.partition(b"\n\n")
    lines = head.split(b"\n")
    added = (b"Return-Path:", b"X-Original-To:", b"Delivered-To:", b"Received:")
    while lines and (lines[0].startswith(added) or lines[0][:1] in (b" ", b"\t")):
        lines.pop(0)
    return b"\n".join(lines) + b"\n\n" + body


def test_ham_is_delivered_with_the_verdict_in_its_headers(
        mta: Postfix, examples: dict[str, tuple[bytes, Scan]], bundled: SpamModel) -> None:
    raw, scan = examples["ham"]
    r = mta.send(raw)
    assert r.returncode == 0, r.stdout + r.stderr
    qid = mta.queue_id(r)
    mta.wait_for("delivery", lambda: mta.inbox.is_dir() and any(
        f"id {qid}".encode() in p.read_bytes() for p in mta.inbox.iterdir()))
    got = _delivered(mta, qid)
    assert b"\nX-Spam-Flag: NO\n" in got and b"\nX-Spamsift-Verdict: ham\n" in got
    # The message the milter scored is the one delivered, and its verdict is the
    # one every other door gives for those bytes.
    seen = _as_the_milter_saw_it(got)
    expect = bundled.classify([seen])[0]
    assert b"X-Spamsift-Probability: %.6f\n" % expect.score in got
    assert expect.verdict == "ham"


def test_spam_under_the_reject_cut_off_is_held(
        mta: Postfix, examples: dict[str, tuple[bytes, Scan]]) -> None:
    raw, _ = examples["weak spam"]
    r = mta.send(raw)
    assert r.returncode == 0, r.stdout + r.stderr  # accepted by SMTP, then held
    qid = mta.queue_id(r)
    mta.wait_for("the hold queue", lambda: (mta.hold / qid).exists())
    assert f"{qid}: milter-hold: END-OF-MESSAGE" in mta.log()


def test_spam_over_the_reject_cut_off_is_refused_in_smtp(
        mta: Postfix, examples: dict[str, tuple[bytes, Scan]]) -> None:
    raw, _ = examples["strong spam"]
    r = mta.send(raw)
    assert r.returncode != 0
    assert "550 5.7.1 Message classified as spam" in r.stdout
    assert "milter-reject: END-OF-MESSAGE" in mta.log()
