"""One user's vote on a message: :func:`tell`, and both doors ``spamsift learn`` uses.

``tell`` and :class:`StoreVotes` run on a real SQLite store; :class:`ApiVotes` talks
HTTP to a real uvicorn on loopback serving the REST API over another real store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.api.support import SECRETS, api_settings, make_keys
from serving.api.test_live_server import serving
from spamsift.db.database import default_url
from spamsift.exceptions import ConfigError, InputError, MessageError, StoreError
from spamsift.feedback import FeedbackStore
from spamsift.feedback.messages import message_id
from spamsift.ingest import RawMessage
from spamsift.models.spam_model import SpamModel, Verdict
from spamsift.serving.api import create_app
from spamsift.serving.mailclients import (
    ApiVotes,
    StoreVotes,
    Told,
    dovecot_files,
    tell,
    tell_each,
)
from spamsift.serving.markup import header_lines, mark, scan_of
from spamsift.serving.model_holder import ModelHolder

RAW = b"From: promo@win-big.info\nSubject: You have WON\n\nClaim your prize now!\n"
OTHER = b"From: dana@example.org\nSubject: lunch\n\nNoon at the fountain?\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore(default_url(tmp_path)) as s:
        yield s


def _live(store: FeedbackStore, raw: bytes) -> list[tuple[str | None, str]]:
    """(user, label) of the live events on ``raw``, oldest first."""
    events = store.events(message_id=message_id(raw))
    return [(e.user, e.label) for e in reversed(events) if e.retracted_at is None]


def _label(store: FeedbackStore, raw: bytes) -> str | None:
    mid = message_id(raw)
    return next((m.label for m in store.effective_labels() if m.message_id == mid), None)


def test_a_users_vote_counts_once_and_a_new_word_replaces_it(store: FeedbackStore) -> None:
    assert tell(store, RAW, "spam", user="ann", source="imap") == Told(message_id(RAW),
                                                                        "spam", 1)
    assert tell(store, RAW, "spam", user="ann", source="imap").changed == 0
    assert _live(store, RAW) == [("ann", "spam")]
    assert tell(store, RAW, "ham", user="ann", source="imap").describe() == "learned as ham"
    assert _label(store, RAW) == "ham"


def test_forget_withdraws_that_users_votes_only(store: FeedbackStore) -> None:
    tell(store, RAW, "spam", user="ann", source="cli")
    tell(store, RAW, "ham", user="ann", source="cli")
    tell(store, RAW, "spam", user="bob", source="cli")
    told = tell(store, RAW, "forget", user="ann", source="cli")
    assert (told.changed, told.describe()) == (2, "forgotten 2")
    assert _live(store, RAW) == [("bob", "spam")]
    assert _label(store, RAW) == "spam"
    assert tell(store, RAW, "forget", user="ann", source="cli").changed == 0


def test_our_own_markup_is_not_learned(store: FeedbackStore) -> None:
    verdict = Verdict(0.99, "spam", 6.0, [("subj:won", 1.5)], [])
    marked, _ = mark(RAW, header_lines(scan_of(verdict, 0.9, "v1")))
    assert marked != RAW
    told = tell(store, marked, "spam", user="ann", source="imap")
    assert told.message_id == message_id(RAW)
    assert store.raw_message(told.message_id) == RAW


@pytest.mark.parametrize(("raw", "action", "user", "error"), [
    (b"", "spam", "ann", MessageError),
    (b" \r\n\t\n", "ham", "ann", MessageError),
    (RAW, "junk", "ann", InputError),
    (RAW, "spam", "", InputError),
    (RAW, "spam", "x" * 321, InputError),  # the store's own limit on a user name
])
def test_bad_votes_are_refused_and_nothing_is_recorded(store: FeedbackStore, raw: bytes,
                                                       action: str, user: str,
                                                       error: type[Exception]) -> None:
    with pytest.raises(error):
        tell(store, raw, action, user=user, source="cli")
    assert store.counts().events == 0


def test_store_votes_write_the_data_folders_store(tmp_path: Path) -> None:
    settings = api_settings()
    with StoreVotes(tmp_path, settings) as votes:
        assert votes.tell(RAW, "spam", user="ann").changed == 1
    with FeedbackStore(default_url(tmp_path)) as s:
        assert _live(s, RAW) == [("ann", "spam")]
        assert s.events()[0].source == "cli"


def test_store_votes_refuse_a_message_over_the_settings_cap(tmp_path: Path) -> None:
    settings = api_settings(limits={"max_message_bytes": len(RAW) - 1})
    with StoreVotes(tmp_path, settings) as votes, pytest.raises(InputError, match="at most"):
        votes.tell(RAW, "spam", user="ann")


def test_tell_each_goes_on_past_a_refused_message_and_sends_no_cut_one(tmp_path: Path
                                                                      ) -> None:
    messages = [RawMessage("a", RAW), RawMessage("empty", b"  \n"),
                RawMessage("cut", OTHER[:20], meta={"truncated": True}),
                RawMessage("b", OTHER)]
    with StoreVotes(tmp_path, api_settings()) as votes:
        results = dict((m.source, told) for m, told in
                       tell_each(votes, messages, "spam", user="ann", source="imap"))
    assert list(results) == ["a", "empty", "cut", "b"]
    assert isinstance(results["a"], Told) and isinstance(results["b"], Told)
    assert isinstance(results["empty"], MessageError)
    assert isinstance(results["cut"], InputError) and "size cap" in str(results["cut"])
    with FeedbackStore(default_url(tmp_path)) as s:
        assert s.counts().events == 2  # a and b; the cut message was never sent


def test_tell_each_stops_when_the_store_fails() -> None:
    class Down:
        def tell(self, raw: bytes, action: str, *, user: str, source: str) -> Told:
            raise StoreError("database unreachable")

    messages = iter([RawMessage("a", RAW), RawMessage("b", OTHER)])
    with pytest.raises(StoreError, match="unreachable"):
        list(tell_each(Down(), messages, "ham", user="ann", source="cli"))  # type: ignore[arg-type]


def test_store_votes_refuse_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        StoreVotes(tmp_path / "typo", api_settings())
    assert not (tmp_path / "typo").exists()


@pytest.fixture(scope="module")
def api_server(small_model: SpamModel, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[str, FeedbackStore]]:
    store = FeedbackStore(default_url(tmp_path_factory.mktemp("votes-api")))
    app = create_app(ModelHolder.fixed(small_model), keys=make_keys(),
                     settings=api_settings(), feedback=store)
    try:
        with serving(app) as url:
            yield url, store
    finally:
        store.close()


def test_api_votes_have_the_same_per_user_rule(api_server: tuple[str, FeedbackStore]) -> None:
    url, store = api_server
    votes = ApiVotes(url + "/", SECRETS["feedback"])
    assert votes.tell(OTHER, "ham", user="ann").changed == 1
    assert votes.tell(OTHER, "ham", user="ann").changed == 0
    assert votes.tell(OTHER, "spam", user="bob") == Told(message_id(OTHER), "spam", 1)
    assert votes.tell(OTHER, "forget", user="ann").changed == 1
    assert _live(store, OTHER) == [("bob", "spam")]


def test_api_votes_map_refusals_to_the_clis_errors(api_server: tuple[str, FeedbackStore]
                                                   ) -> None:
    url, _ = api_server
    with pytest.raises(ConfigError, match="refused the key"):
        ApiVotes(url, SECRETS["classify"]).tell(OTHER, "spam", user="ann")
    with pytest.raises(ConfigError, match="refused the key"):
        ApiVotes(url, "not-a-key").tell(OTHER, "spam", user="ann")
    with pytest.raises(InputError, match="refused the message"):
        ApiVotes(url, SECRETS["feedback"]).tell(OTHER, "spam", user="x" * 400)
    with pytest.raises(ConfigError, match="404"):
        ApiVotes(url + "/nowhere", SECRETS["feedback"]).tell(OTHER, "spam", user="ann")
    with pytest.raises(MessageError):  # refused before anything is sent
        ApiVotes(url, SECRETS["feedback"]).tell(b"", "spam", user="ann")


def test_api_votes_say_clearly_when_the_server_is_not_there() -> None:
    with pytest.raises(StoreError, match="cannot be reached"):
        ApiVotes("http://127.0.0.1:9", "k", timeout=5).tell(RAW, "spam", user="ann")
    with pytest.raises(ConfigError, match="URL"):
        ApiVotes("127.0.0.1:8025", "k")
    with pytest.raises(ConfigError, match="--key"):
        ApiVotes("http://127.0.0.1:8025", "")


def test_the_dovecot_files_ship_with_the_package() -> None:
    names = {p.name for p in dovecot_files().iterdir()}
    assert {"report-spam.sieve", "report-ham.sieve", "spamsift-learn-spam.sh",
            "spamsift-learn-ham.sh"} <= names
    for script in ("spamsift-learn-spam.sh", "spamsift-learn-ham.sh"):
        assert (dovecot_files() / script).stat().st_mode & 0o111, f"{script} is not executable"
