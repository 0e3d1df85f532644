"""A real Dovecot with the shipped IMAPSieve files, driven by ``imaplib`` as a mail client.

The test starts its own ``dovecot -c CONF -F`` on a free loopback port: its own
config, base_dir, passwd-file users and maildirs in a temporary folder, plaintext
login without TLS on loopback, nothing system-wide touched. Its sieve and pipe
setup is README's (IMAPSieve + ``vnd.dovecot.pipe`` through script services that run
the shipped ``spamsift-learn-*.sh``). Both of ``spamsift learn``'s doors are used: the
spam service sends through a REST API served in this process (``--api``, README's
advice while a server runs), the ham service writes the store itself (``--data-dir``);
both reach the one data folder, whose votes are read back through
:class:`spamsift.feedback.FeedbackStore`.

Pigeonhole runs a ``pipe`` before the IMAP command completes, so once a command has
answered, the store holds every vote it caused: "no vote" is checked right after.

Without Dovecot's ``dovecot-imapd`` and ``dovecot-sieve`` packages these tests are
skipped, except under ``CI=true``, where they fail (``tests/needs.py``); ``make test``
as root installs them.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from needs import which
from serving.api.support import api_settings
from serving.api.test_live_server import serving
from spamsift.datadir import open_stores
from spamsift.db.database import default_url
from spamsift.feedback import FeedbackStore, KeyStore
from spamsift.models.persistence import save_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.mailclients import dovecot_files
from spamsift.serving.server import build_app

DOVECOT, SIEVEC = which("dovecot"), which("sievec")
pytestmark = pytest.mark.needs("dovecot")

PASSWORD = "secret"
USERS = ("ann", "carol", "dave")

# README's fragments (conf.d/20-imap.conf, conf.d/90-sieve.conf, the services), with
# the test's folders put in; the services have no `user = spamsift` line here: they
# run as the user running the test.
_SIEVE_CONF = """
protocol imap {{
  mail_plugins = $mail_plugins imap_sieve
}}
plugin {{
  sieve_plugins = sieve_imapsieve sieve_extprograms
  sieve_global_extensions = +vnd.dovecot.pipe +vnd.dovecot.environment
  sieve_pipe_socket_dir = sieve-pipe

  imapsieve_mailbox1_name = Junk
  imapsieve_mailbox1_causes = COPY APPEND
  imapsieve_mailbox1_before = file:{files}/report-spam.sieve

  imapsieve_mailbox2_name = *
  imapsieve_mailbox2_from = Junk
  imapsieve_mailbox2_causes = COPY
  imapsieve_mailbox2_before = file:{files}/report-ham.sieve
}}
service spamsift-learn-spam {{
  executable = script {env} SPAMSIFT_API_KEY={key} {files}/spamsift-learn-spam.sh --api {url}
  vsz_limit = 1G
  unix_listener sieve-pipe/spamsift-learn-spam.sh {{
    user = {mail_user}
    mode = 0600
  }}
}}
service spamsift-learn-ham {{
  executable = script {env} {files}/spamsift-learn-ham.sh --data-dir {data}
  vsz_limit = 1G
  unix_listener sieve-pipe/spamsift-learn-ham.sh {{
    user = {mail_user}
    mode = 0600
  }}
}}
"""

# The rest is this throwaway server's: users from a passwd-file, maildirs, loopback.
_SERVER_CONF = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  mailbox Junk {{
    special_use = \\Junk
    auto = create
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    """One Dovecot in the foreground on a free loopback port, over a temporary folder.

    As root (Dovecot will not give mail access to root), the mail users are
    ``nobody`` and the learners' script services run as root, as they would run as
    the ``spamsift`` account; otherwise everything runs as the current user.
    """

    def __init__(self, root: Path, data_dir: Path, api: tuple[str, str]) -> None:
        self.root = root
        self.port = _free_port()
        files = root / "dovecot-files"
        shutil.copytree(dovecot_files(), files)
        root.chmod(0o755)  # mkdtemp makes it 0700; the mail user must reach its home
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:
            mail = pwd.getpwnam("nobody")
            internal, login = "dovecot", "dovenull"
        else:
            mail, internal, login = me, me.pw_name, me.pw_name
        lines = []
        for user in USERS:
            home = root / "home" / user
            home.mkdir(parents=True)
            os.chown(home, mail.pw_uid, mail.pw_gid)
            lines.append(f"{user}:{{PLAIN}}{PASSWORD}:{mail.pw_uid}:{mail.pw_gid}::{home}::")
        (root / "passwd").write_text("\n".join(lines) + "\n")
        (root / "run" / "sieve-pipe").mkdir(parents=True)
        spamsift = Path(sys.executable).with_name("spamsift")
        conf = _SERVER_CONF.format(root=root, port=self.port, internal_user=internal,
                                   internal_group=internal, login_user=login)
        conf += _SIEVE_CONF.format(files=files, data=data_dir, url=api[0], key=api[1],
                                   env=f"/usr/bin/env SPAMSIFT={spamsift}",
                                   mail_user=mail.pw_name)
        self.conf = root / "dovecot.conf"
        self.conf.write_text(conf)
        # Compiled beforehand (README says so too): the mail user cannot write the
        # binaries beside scripts it does not own.
        for script in ("report-spam.sieve", "report-ham.sieve"):
            subprocess.run([str(SIEVEC), "-c", str(self.conf), str(files / script)],
                           check=True, capture_output=True, timeout=30)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
        self.proc = subprocess.Popen([str(DOVECOT), "-c", str(self.conf), "-F"], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while True:
            assert self.proc.poll() is None, self.log()
            try:
                self.login(USERS[0]).logout()
                break
            except (OSError, imaplib.IMAP4.error):
                assert time.monotonic() < deadline, "Dovecot did not answer in 20 s\n" + self.log()
                time.sleep(0.1)

    def login(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
        client.login(user, PASSWORD)
        return client

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else "(no log)"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, small_model: SpamModel) -> Path:
    """A data folder serving the small model (quicker to load than the bundled one)."""
    path = tmp_path_factory.mktemp("imapsieve-data")
    registry = ModelRegistry(path / "models")
    registry.activate(registry.add(lambda p: save_model(small_model, p), version="v1"))
    return path


@pytest.fixture(scope="module")
def api(data_dir: Path) -> Iterator[tuple[str, str]]:
    """``spamsift serve`` on ``data_dir`` in this process: its URL and a feedback key."""
    with KeyStore(default_url(data_dir)) as keys:
        _, secret = keys.create(["feedback"], name="dovecot")
    with serving(build_app(data_dir, api_settings(), stores=open_stores)) as url:
        yield url, secret


@pytest.fixture(scope="module")
def dovecot(data_dir: Path, api: tuple[str, str]) -> Iterator[Dovecot]:
    root = Path(tempfile.mkdtemp(prefix="spamsift-dovecot-"))
    server = Dovecot(root, data_dir, api)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def store(data_dir: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore(default_url(data_dir)) as s:
        yield s


def _message(n: int, subject: str) -> bytes:
    return (f"From: sender{n}@example.org\r\nTo: someone@example.net\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{n}@example.org>\r\n\r\n"
            f"message number {n}\r\n").encode()


def _votes(store: FeedbackStore, user: str) -> list[tuple[str, str, bool]]:
    """``user``'s events, oldest first: (message id, label, still live)."""
    events = [e for e in store.events(limit=10_000) if e.user == user]
    return [(e.message_id, e.label, e.retracted_at is None) for e in reversed(events)]


def _label(store: FeedbackStore, mid: str) -> str | None:
    return next((m.label for m in store.effective_labels() if m.message_id == mid), None)


def _ok(answer: tuple[str, list[object]]) -> None:
    assert answer[0] == "OK", answer


def test_moving_or_copying_into_junk_is_one_spam_vote_by_that_user(
        dovecot: Dovecot, store: FeedbackStore) -> None:
    raw = _message(1, "cheap pills, act now")
    imap = dovecot.login("ann")
    try:
        _ok(imap.append("INBOX", None, None, raw))
        _ok(imap.select("INBOX"))
        _ok(imap.uid("MOVE", "1:*", "Junk"))
        votes = _votes(store, "ann")
        assert [(label, live) for _, label, live in votes] == [("spam", True)], dovecot.log()
        mid = votes[0][0]
        stored = store.raw_message(mid)
        assert stored is not None and stored.replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
        assert _label(store, mid) == "spam"
        # The same message once more, by COPY and EXPUNGE this time: still one vote.
        _ok(imap.append("INBOX", None, None, raw))
        _ok(imap.select("INBOX"))
        _ok(imap.uid("COPY", "1:*", "Junk"))
        _ok(imap.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)"))
        _ok(imap.expunge())
        _ok(imap.select("Junk"))
        assert imap.search(None, "ALL")[1][0].split() == [b"1", b"2"]  # both copies arrived
    finally:
        imap.logout()
    assert _votes(store, "ann") == votes, dovecot.log()


def test_moving_out_of_junk_into_a_folder_is_a_ham_vote(dovecot: Dovecot,
                                                        store: FeedbackStore) -> None:
    raw = _message(2, "minutes of the budget meeting")
    imap = dovecot.login("carol")
    try:
        _ok(imap.append("Junk", None, None, raw))  # saved into Junk: APPEND is spam too
        assert [label for _, label, _ in _votes(store, "carol")] == ["spam"], dovecot.log()
        _ok(imap.select("Junk"))
        _ok(imap.uid("MOVE", "1:*", "INBOX"))
    finally:
        imap.logout()
    votes = _votes(store, "carol")
    assert [label for _, label, _ in votes] == ["spam", "ham"], dovecot.log()
    assert _label(store, votes[-1][0]) == "ham"  # the user's latest word counts


def test_deleting_from_junk_or_moving_it_to_trash_is_no_vote(dovecot: Dovecot,
                                                             store: FeedbackStore) -> None:
    raw = _message(3, "you have WON a cruise")
    imap = dovecot.login("dave")
    try:
        _ok(imap.append("Junk", None, None, raw))
        before = _votes(store, "dave")
        assert [label for _, label, _ in before] == ["spam"], dovecot.log()
        _ok(imap.select("Junk"))
        _ok(imap.uid("MOVE", "1:*", "Trash"))
        assert _votes(store, "dave") == before, "moving Junk -> Trash voted\n" + dovecot.log()
        _ok(imap.select("Trash"))
        _ok(imap.uid("MOVE", "1:*", "Junk"))  # back again: the same vote, nothing new
        _ok(imap.select("Junk"))
        _ok(imap.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)"))
        _ok(imap.expunge())
        assert imap.search(None, "ALL")[1][0] in (b"", None)
    finally:
        imap.logout()
    assert _votes(store, "dave") == before, "deleting in Junk voted\n" + dovecot.log()
    assert _label(store, before[0][0]) == "spam"
