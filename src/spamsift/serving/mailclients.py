"""Learning from mail clients: "this user moved this message into, or out of, Junk".

Every door records the same per-user vote as spamd's ``TELL``
(:func:`~spamsift.serving.live.learn`, :func:`~spamsift.serving.live.forget`): a
user's vote on a message counts once, and forgetting takes back that user's votes
only. :func:`tell` is that step for one message, with the markup spamsift's own
spamd or milter added taken out first, so what is learned is the message that was
scanned, not our verdict on it. ``spamsift learn`` runs it on a data folder's
store (:class:`StoreVotes`) or has a running REST API run it (:class:`ApiVotes`,
``POST /v1/feedback/learn`` and ``POST /v1/feedback/forget``)::

    with StoreVotes(data_dir, settings) as votes:
        print(votes.tell(raw, "spam", user="ann", source="imap").describe())

The Dovecot IMAPSieve scripts that call ``spamsift learn`` ship in
:func:`dovecot_files`.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from spamsift.config import Settings
from spamsift.exceptions import ConfigError, InputError, MessageError, StoreError

if TYPE_CHECKING:
    from spamsift.ingest import RawMessage

__all__ = ["ACTIONS", "Told", "tell", "tell_each", "StoreVotes", "ApiVotes", "dovecot_files"]

#: What a user can say about a message.
ACTIONS = ("spam", "ham", "forget")

# A vote is one small request; a server that has not answered in this long is
# treated as down rather than left to hold a Dovecot pipe (10 s by default) open.
_API_TIMEOUT_S = 8.0


@dataclass(frozen=True)
class Told:
    """What one vote did.

    ``changed`` is 1 or 0 for a learn (0: that was the user's vote already) and the
    number of the user's votes withdrawn for a forget.
    """

    message_id: str
    action: str
    changed: int

    def describe(self) -> str:
        """One line for a person: ``learned as spam``, ``already learned as ham``,
        ``forgotten 1``."""
        if self.action == "forget":
            return f"forgotten {self.changed}"
        return f"{'learned' if self.changed else 'already learned'} as {self.action}"


def _check(raw: bytes, action: str, user: str) -> None:
    if action not in ACTIONS:
        raise InputError(f"action: expected one of {', '.join(ACTIONS)}, got {action!r}")
    if not user or not user.strip():
        raise InputError("user: expected whose vote it is, got an empty name")
    if not raw.strip():
        what = "nothing" if not raw else f"{len(raw)} bytes of whitespace only"
        raise MessageError(f"message: expected an RFC 822 message, got {what}")


def tell(feedback: Any, raw: bytes, action: str, *, user: str, source: str) -> Told:
    """Record ``user``'s vote on ``raw`` in ``feedback`` (a store, or one that moves a model).

    Parameters
    ----------
    feedback : FeedbackStore or LearningFeedback
        Where the vote goes.
    raw : bytes
        The message as the client has it; spamsift's ``X-Spam-*``/``X-Spamsift-*``
        block is removed first (:func:`~spamsift.serving.markup.strip_markup`).
    action : {'spam', 'ham', 'forget'}
    user : str
        Whose vote it is (the IMAP user, say).
    source : str
        Through what it came, for the audit trail (``imap``, ``cli``, ``api``).

    Raises
    ------
    InputError
        A bad action or user, or bytes that are no message (empty, only whitespace).
    StoreError
        The store cannot be written.
    """
    # Imported here: with the model code they pull in they are most of the start-up
    # of a `spamsift learn` Dovecot runs per message moved, and --api never needs
    # them (one vote: 2.8 s with --data-dir, 0.45 s with --api, on the dev machine).
    from spamsift.feedback.messages import message_id
    from spamsift.serving.live import forget, learn
    from spamsift.serving.markup import strip_markup

    _check(raw, action, user)
    message = strip_markup(raw)
    _check(message, action, user)  # a message that was only our markup
    if action == "forget":
        changed = forget(feedback, message, user=user)
    else:
        changed = int(learn(feedback, message, action, user=user, source=source))
    return Told(message_id(message), action, changed)


def tell_each(votes: StoreVotes | ApiVotes, messages: Iterable[RawMessage], action: str, *,
              user: str, source: str) -> Iterator[tuple[RawMessage, Told | InputError]]:
    """``user``'s vote on each message in turn (``spamsift learn``): what it did, or why
    it was not recorded.

    A message the reader cut at the size cap is not sent (it would be learned cut
    short); one refused as input (empty, only our markup, refused by the API) is
    reported and the rest go on. A store that cannot be written raises
    :class:`StoreError`, which stops them all.
    """
    for msg in messages:
        told: Told | InputError
        if msg.meta.get("truncated"):
            told = InputError("over the size cap, not learned (it would be learned cut short)")
        else:
            try:
                told = votes.tell(msg.data, action, user=user, source=source)
            except InputError as e:
                told = e
        yield msg, told


class StoreVotes:
    """Votes recorded straight into a data folder's feedback store.

    The store is the one ``spamsift serve`` and ``spamsift spamd`` on that folder read
    (``settings.database_url``, else SQLite at ``DATA_DIR/spamsift.db``). Servers
    running on that store follow its label changes
    (:class:`~spamsift.training.online.FeedbackFollower`), so they learn these votes
    within ``settings.feedback_poll_seconds``.

    Raises
    ------
    ConfigError
        No database URL is set and ``data_dir`` does not exist: a mistyped folder would
        otherwise start a store no server reads.
    StoreError
        The database cannot be opened.
    """

    def __init__(self, data_dir: str | os.PathLike[str], settings: Settings) -> None:
        data_dir = Path(data_dir)
        if settings.database_url is None and not data_dir.is_dir():
            raise ConfigError(f"data folder {data_dir} does not exist: give the --data-dir "
                              "that `spamsift serve` or `spamsift spamd` uses")
        from spamsift.db.database import resolve_url
        from spamsift.feedback import FeedbackStore

        self.store = FeedbackStore(resolve_url(settings.database_url, data_dir),
                                   max_message_bytes=settings.limits.max_message_bytes)

    def tell(self, raw: bytes, action: str, *, user: str, source: str = "cli") -> Told:
        return tell(self.store, raw, action, user=user, source=source)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ApiVotes:
    """Votes sent to a running REST API, which records them and moves its model at once.

    Parameters
    ----------
    url : str
        The server's base URL, ``http://127.0.0.1:8025`` say.
    key : str
        An API key with the ``feedback`` scope.

    Errors map as the CLI's do: a refused key is :class:`ConfigError`, a refused
    message :class:`InputError`, a server that cannot be reached or cannot record
    it :class:`StoreError`.
    """

    def __init__(self, url: str, key: str, *, timeout: float = _API_TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--api: expected an http:// or https:// URL, got {url!r}")
        if not key:
            raise ConfigError("--api needs --key (an API key with the 'feedback' scope)")
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout

    def tell(self, raw: bytes, action: str, *, user: str, source: str = "cli") -> Told:
        # Checked here too, so a bad message is refused before it is sent; the server
        # strips the markup itself (the route calls tell()).
        _check(raw, action, user)
        body: dict[str, Any] = {"message_b64": base64.b64encode(raw).decode(), "user": user}
        if action == "forget":
            route = "forget"
        else:
            route, body["label"] = "learn", action
        answer = self._post(f"/v1/feedback/{route}", body)
        return Told(str(answer["message_id"]), action, int(answer["changed"]))

    def close(self) -> None:
        """Nothing to close: each vote is its own request."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                answer: dict[str, Any] = json.loads(resp.read())
                return answer
        except urllib.error.HTTPError as e:
            raise _api_error(e.code, _error_text(e)) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise StoreError(f"the REST API at {self.url} cannot be reached: {reason}") from None
        except ValueError:
            raise StoreError(f"the REST API at {self.url} answered something that is "
                             "not JSON") from None


def _error_text(e: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(e.read())
        return f"{data['error']}: {data['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {e.code}"


def _api_error(status: int, text: str) -> Exception:
    if status in (401, 403):
        return ConfigError(f"the REST API refused the key ({text}): use a key with the "
                           "'feedback' scope")
    if status in (400, 413, 422):
        return InputError(f"the REST API refused the message ({text})")
    if status == 404:
        return ConfigError(f"the REST API answered 404 ({text}): is --api the base URL of "
                           "`spamsift serve`?")
    return StoreError(f"the REST API could not record it ({text})")


def dovecot_files() -> Path:
    """The folder of the Dovecot IMAPSieve scripts and the pipe programs they call."""
    return Path(__file__).resolve().parent.parent / "data" / "dovecot"
