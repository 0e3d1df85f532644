"""The live service of a data folder, as every server front end opens it.

``spamsift serve`` (REST) and ``spamsift spamd`` (the spamd protocol) serve the same
thing: the registry's active model, caught up with the feedback given since it was
trained, and a feedback store whose every label change moves that model. This
module builds it once, so a message gets the same verdict through every door::

    live = open_live(data_dir, settings, stores=open_stores)
    verdict = live.holder.current.model.classify([raw])[0]
    learn(live.feedback, raw, "spam", user="ann", source="spamd")
    forget(live.feedback, raw, user="ann")

Every process on one store follows the label changes the others make (a
:class:`~spamsift.training.online.FeedbackFollower`): a front end calls
``live.start()`` when it starts serving and ``live.stop()`` when it ends. With a
PostgreSQL store the model registry is shared too
(:class:`~spamsift.models.db_registry.DatabaseRegistry`, artifacts cached under
``DATA_DIR/models/shared``), so a version activated through one replica is served
by all at their next registry poll; on SQLite it is the folder ``DATA_DIR/models``.

``learn`` and ``forget`` are the per-user forms the mail protocols need (spamd's
``TELL``): a user teaches a message once, and forgetting takes back exactly what that
user said about it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from spamsift.config import Settings
from spamsift.datadir import prepare_data_dir
from spamsift.exceptions import ConfigError
from spamsift.feedback.messages import message_id
from spamsift.mailauth import Authenticator
from spamsift.models.persistence import load_model
from spamsift.models.spam_model import SpamModel
from spamsift.parse.sandbox import ParseSandbox
from spamsift.serving.model_holder import ModelHolder
from spamsift.training.online import FeedbackFollower, LearningFeedback, ModelLearner, catch_up_seq

__all__ = ["configure_logging", "Live", "StoresFactory", "open_live", "learn", "forget"]

# stores(data_dir, settings) -> (keys, feedback store); either may be None. Every
# door takes one (spamsift.datadir.open_stores is the real one); module-level, since
# `serve --workers` passes it to its worker processes by name.
StoresFactory = Callable[[Path, Settings], tuple[Any, Any]]

# Events read per message when looking for one user's votes: far more than any
# message gets in practice, and the store's own cap.
_EVENTS_PER_MESSAGE = 10_000


class Live(NamedTuple):
    """What a server front end serves with.

    Attributes
    ----------
    holder : ModelHolder
        The model to score with (take ``holder.current`` once per request).
    feedback : LearningFeedback or None
        The feedback store, wrapped so label changes move the served model; None
        when the folder was opened without stores.
    keys : KeyVerifier or None
        The API key store, when there is one.
    sandbox : ParseSandbox
        Where large messages are parsed, under a deadline and a memory limit.
    auth : Authenticator or None
        Fills each message's authentication results after parsing; None: left empty.
        A front end passes each message through both before scoring it
        (:func:`spamsift.serving.service.prepare`).
    """

    holder: ModelHolder
    feedback: LearningFeedback | None
    keys: Any
    sandbox: ParseSandbox = ParseSandbox()
    auth: Authenticator | None = None

    def start(self) -> None:
        """Start following the other processes' feedback (a no-op without a store)."""
        follower = getattr(self.feedback, "follower", None)
        if follower is not None:
            follower.start()

    def stop(self) -> None:
        """Stop following and the parse workers; returns once the follower's thread
        has ended."""
        follower = getattr(self.feedback, "follower", None)
        if follower is not None:
            follower.stop()
        self.sandbox.close()


def configure_logging(log_level: str) -> None:
    """Log spamsift at ``log_level``, libraries (SQLAlchemy, Alembic) at warnings, as
    every daemon front end (spamd, milter) does.

    Raises
    ------
    ConfigError
        A level that is not debug, info, warning or error.
    """
    level = logging.getLevelName(log_level.upper())
    if not isinstance(level, int):
        raise ConfigError(f"log level: expected debug, info, warning or error, got {log_level!r}")
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spamsift").setLevel(level)


def open_live(data_dir: str | os.PathLike[str], settings: Settings, *,
              stores: StoresFactory | None = None) -> Live:
    """Open ``data_dir`` for serving: its active model, loaded and caught up, and stores.

    A fresh folder is seeded with the bundled model first (:func:`prepare_data_dir`).

    Raises
    ------
    ConfigError
        The registry has versions but none is active.
    ModelError
        The active version cannot be loaded.
    """
    data_dir = Path(data_dir)
    keys, store = stores(data_dir, settings) if stores else (None, None)
    registry = prepare_data_dir(data_dir, database=getattr(store, "db", None))
    sandbox = ParseSandbox.from_settings(settings)
    auth = Authenticator.from_settings(settings, door=True)
    if store is None:
        holder = ModelHolder(registry, loader=lambda path: _for_site(path, settings))
        holder.reload()
        return Live(holder, None, keys, sandbox, auth)
    # Every model the holder loads first learns the feedback given since it was
    # trained, so a restart or a roll-back serves what users have taught it, and is
    # then followed from the store's change log: each later label change, made
    # through this process or any other on the store, moves the model being served.
    follower = FeedbackFollower(store, lambda: holder.current.model, ModelLearner(),
                                interval=settings.feedback_poll_seconds)
    holder = ModelHolder(registry, loader=lambda path: _caught_up(path, store, follower, settings))
    holder.reload()
    feedback = LearningFeedback(store, lambda: holder.current.model, follower=follower)
    return Live(holder, feedback, keys, sandbox, auth)


def _for_site(path: Path, settings: Settings) -> SpamModel:
    """The model at ``path`` as the site runs it: its parse caps, its prior evidence."""
    return load_model(path, settings.limits, priors=settings.priors)


def _caught_up(path: Path, store: Any, follower: FeedbackFollower, settings: Settings
               ) -> SpamModel:
    model = _for_site(path, settings)
    follower.track(model, catch_up_seq(model, store))
    return model


def learn(feedback: Any, raw: bytes, label: str, *, user: str, source: str) -> bool:
    """Record that ``user`` says ``raw`` is ``label``, unless that is already their vote.

    Returns whether anything was recorded: False when the user's latest live vote
    on the message is ``label`` already (spamd's "already learned").

    Raises
    ------
    InputError
        A bad label or user, or a message the store refuses (empty, too large).
    """
    mine = _live_events(feedback, raw, user)
    if mine and mine[0].label == label:
        return False
    feedback.add_feedback(raw, label=label, user=user, source=source)
    return True


def forget(feedback: Any, raw: bytes, *, user: str) -> int:
    """Retract every live vote ``user`` gave on ``raw``; returns how many.

    The message's label becomes what it would be had this user never spoken, and
    the model moves with it (other users' votes stand).
    """
    events = _live_events(feedback, raw, user)
    for e in events:
        feedback.retract(e.id, by=user)
    return len(events)


def _live_events(feedback: Any, raw: bytes, user: str) -> list[Any]:
    """``user``'s live events on ``raw``, newest first."""
    events = feedback.events(limit=_EVENTS_PER_MESSAGE, message_id=message_id(raw))
    return [e for e in events if e.user == user and e.retracted_at is None]
