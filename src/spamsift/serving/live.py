"""The live service of a data folder, as every server front end opens it.

``spamsift serve`` (REST) and ``spamsift spamd`` (the spamd protocol) serve the same
thing: the registry's active model, caught up with the feedback given since it was
trained, and a feedback store whose every label change moves that model. This
module builds it once, so a message gets the same verdict through every door::

    live = open_live(data_dir, settings, stores=open_stores)
    verdict = live.holder.current.model.classify([raw])[0]
    learn(live.feedback, raw, "spam", user="ann", source="spamd")
    forget(live.feedback, raw, user="ann")

``learn`` and ``forget`` are the per-user forms the mail protocols need (spamd's
``TELL``): a user teaches a message once, and forgetting takes back exactly what that
user said about it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from spamsift.config import Settings
from spamsift.exceptions import ConfigError
from spamsift.feedback.messages import message_id
from spamsift.models.persistence import load_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.learning import LearningFeedback, catch_up
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.service import bundled_model_path

__all__ = ["Live", "StoresFactory", "open_live", "prepare_data_dir", "learn", "forget"]

# stores(data_dir, settings) -> (keys, feedback store); either may be None.
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
    """

    holder: ModelHolder
    feedback: LearningFeedback | None
    keys: Any


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
    registry = prepare_data_dir(data_dir)
    keys, store = stores(data_dir, settings) if stores else (None, None)
    if store is None:
        holder = ModelHolder(registry)
        holder.reload()
        return Live(holder, None, keys)
    # Every model the holder loads first learns the feedback given since it was
    # trained, so a restart or a roll-back serves what users have taught it; each
    # later label change moves the model being served.
    holder = ModelHolder(registry, loader=lambda path: _caught_up(path, store))
    holder.reload()
    feedback = LearningFeedback(store, lambda: holder.current.model)
    return Live(holder, feedback, keys)


def prepare_data_dir(data_dir: str | os.PathLike[str]) -> ModelRegistry:
    """The registry under ``data_dir``, seeded with the bundled model when empty.

    Raises
    ------
    ConfigError
        The registry has versions but none is active: which to serve is not ours to
        guess.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    registry = ModelRegistry(data_dir / "models")
    if registry.active() is not None:
        return registry
    if registry.versions():
        raise ConfigError(f"{registry.root} has model versions but none is active; "
                          "activate one with `spamsift models activate`")
    registry.activate(registry.add(bundled_model_path()))
    return registry


def _caught_up(path: Path, store: Any) -> SpamModel:
    model = load_model(path)
    catch_up(model, store)
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
