"""``spamsift learn``: through a data folder's store and through a running REST API.

In-process through Typer's runner, on messages written here; the store is read back
through :class:`spamsift.feedback.FeedbackStore`. One run as a subprocess reads stdin
as Dovecot's pipe gives it.
"""

from __future__ import annotations

import getpass
import mailbox
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from serving.api.support import SECRETS, api_settings, make_keys
from serving.api.test_live_server import serving
from spamsift.cli import app
from spamsift.db.database import default_url
from spamsift.feedback import FeedbackStore
from spamsift.feedback.messages import message_id
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api import create_app
from spamsift.serving.model_holder import ModelHolder

runner = CliRunner()
SPAM = b"From: promo@win-big.info\nSubject: You have WON\n\nClaim your prize now!\n"
HAM = b"From: dana@example.org\nSubject: lunch\n\nNoon at the fountain?\n"


@pytest.fixture(autouse=True)
def _no_spamsift_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SPAMSIFT_"):
            monkeypatch.delenv(name)


def _learn(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    r = runner.invoke(app, ["learn", *args], input=stdin)
    return r.exit_code, r.stdout, " ".join(r.stderr.split())  # Rich wraps stderr


def _votes(data_dir: Path) -> list[tuple[str, str | None, str, bool]]:
    """(message id, user, label, live) of every event, oldest first."""
    with FeedbackStore(default_url(data_dir)) as store:
        return [(e.message_id, e.user, e.label, e.retracted_at is None)
                for e in reversed(store.events())]


def test_learn_from_stdin_into_a_data_folder(tmp_path: Path) -> None:
    code, out, _ = _learn("--spam", "--user", "ann", "--data-dir", str(tmp_path), stdin=SPAM)
    assert (code, out.strip()) == (0, "stdin: learned as spam")
    code, out, _ = _learn("--spam", "--user", "ann", "--data-dir", str(tmp_path), "-",
                          stdin=SPAM)
    assert (code, out.strip()) == (0, "stdin: already learned as spam")
    assert _votes(tmp_path) == [(message_id(SPAM), "ann", "spam", True)]
    code, out, _ = _learn("--forget", "--user", "ann", "--data-dir", str(tmp_path), stdin=SPAM)
    assert (code, out.strip()) == (0, "stdin: forgotten 1")
    assert _votes(tmp_path)[0][3] is False


def test_learn_files_and_mboxes_one_line_each_as_the_unix_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "one.eml").write_bytes(HAM)
    box = mailbox.mbox(tmp_path / "box.mbox")
    for raw in (SPAM, HAM):
        box.add(raw)
    box.close()
    code, out, err = _learn("--ham", "--data-dir", str(data), str(tmp_path / "one.eml"),
                            str(tmp_path / "box.mbox"))
    assert code == 0, err
    assert out.splitlines() == [f"{tmp_path / 'one.eml'}: learned as ham",
                                f"{tmp_path / 'box.mbox'}#0: learned as ham",
                                f"{tmp_path / 'box.mbox'}#1: already learned as ham"]
    me = getpass.getuser()
    assert sorted(_votes(data)) == sorted([(message_id(HAM), me, "ham", True),
                                           (message_id(SPAM), me, "ham", True)])


@pytest.mark.parametrize(("stdin", "shown"), [(b"", "got nothing"),
                                              (b"\n\n  \n", "whitespace only")])
def test_an_empty_message_is_a_clear_error_exit_3(tmp_path: Path, stdin: bytes,
                                                  shown: str) -> None:
    code, out, err = _learn("--spam", "--user", "ann", "--data-dir", str(tmp_path),
                            stdin=stdin)
    assert code == 3 and out == ""
    assert shown in err and "Traceback" not in err
    assert _votes(tmp_path) == []


def test_bad_paths_and_arguments_exit_with_the_clis_codes(tmp_path: Path) -> None:
    code, _, err = _learn("--spam", "--data-dir", str(tmp_path), str(tmp_path / "nope.eml"))
    assert code == 3 and "nope.eml" in err
    (tmp_path / "empty").mkdir()
    code, _, err = _learn("--spam", "--data-dir", str(tmp_path), str(tmp_path / "empty"))
    assert code == 3 and "no message to learn" in err
    code, _, err = _learn("--spam", "--data-dir", str(tmp_path / "typo"), stdin=SPAM)
    assert code == 6 and "does not exist" in err
    assert _learn("--data-dir", str(tmp_path), stdin=SPAM)[0] == 2
    assert _learn("--spam", "--ham", "--data-dir", str(tmp_path), stdin=SPAM)[0] == 2
    assert _learn("--spam", "--data-dir", str(tmp_path), "--api", "http://127.0.0.1:9",
                  stdin=SPAM)[0] == 2
    assert _votes(tmp_path) == []


def test_a_file_over_the_size_cap_is_refused_not_learned_cut_short(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPAMSIFT_LIMITS", '{"max_message_bytes": 100}')
    (tmp_path / "big.eml").write_bytes(SPAM + b"x" * 100)
    code, _, err = _learn("--spam", "--user", "ann", "--data-dir", str(tmp_path),
                          str(tmp_path / "big.eml"))
    assert code == 3 and "size cap" in err
    assert _votes(tmp_path) == []


@pytest.fixture(scope="module")
def api_url(small_model: SpamModel, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("learn-api")
    store = FeedbackStore(default_url(folder))
    app_ = create_app(ModelHolder.fixed(small_model), keys=make_keys(),
                      settings=api_settings(), feedback=store)
    try:
        with serving(app_) as url:
            yield url, folder
    finally:
        store.close()


def test_learn_and_forget_through_the_rest_api(api_url: tuple[str, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url, folder = api_url
    code, out, err = _learn("--spam", "--user", "eve", "--api", url, "--key",
                            SECRETS["feedback"], stdin=SPAM)
    assert (code, out.strip()) == (0, "stdin: learned as spam"), err
    monkeypatch.setenv("SPAMSIFT_API_URL", url)  # as the Dovecot service line can set them
    monkeypatch.setenv("SPAMSIFT_API_KEY", SECRETS["feedback"])
    assert _learn("--spam", "--user", "eve", stdin=SPAM)[1].strip() == (
        "stdin: already learned as spam")
    assert _learn("--forget", "--user", "eve", stdin=SPAM)[1].strip() == "stdin: forgotten 1"
    assert [v[1:] for v in _votes(folder) if v[1] == "eve"] == [("eve", "spam", False)]


def test_api_errors_exit_with_the_clis_codes(api_url: tuple[str, Path]) -> None:
    url, _ = api_url
    code, _, err = _learn("--ham", "--user", "eve", "--api", url, "--key", "wrong", stdin=HAM)
    assert code == 6 and "refused the key" in err
    code, _, err = _learn("--ham", "--user", "eve", "--api", url, stdin=HAM)
    assert code == 6 and "--key" in err
    code, _, err = _learn("--ham", "--user", "eve", "--api", "http://127.0.0.1:9", "--key", "k",
                          stdin=HAM)
    assert code == 8 and "cannot be reached" in err and "Traceback" not in err


def test_learn_reads_stdin_as_a_pipe_gives_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPAMSIFT_")}
    proc = subprocess.run([sys.executable, "-m", "spamsift.cli", "learn", "--spam", "--source",
                           "imap", "--user", "ann", "--data-dir", str(tmp_path)], env=env,
                          input=SPAM.replace(b"\n", b"\r\n"), capture_output=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    with FeedbackStore(default_url(tmp_path)) as store:
        (event,) = store.events()
    assert (event.user, event.label, event.source) == ("ann", "spam", "imap")
