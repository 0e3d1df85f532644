"""Run the REST API under uvicorn, on a data folder.

Data folder layout::

    DIR/
      models/            a ModelRegistry; a fresh DIR gets the bundled model as its
                         first version, active

The feedback and key stores, when there are any, come from a ``stores`` factory
called with ``(data_dir, settings)``; without one the server has no feedback store
and no API keys (classify only, and only while ``classify_requires_key`` is off).

With ``workers > 1`` uvicorn starts separate processes, each building its own app
from the same data folder: the factory must then be a module-level function (it is
passed by name). Each worker keeps its own rate-limit buckets and metrics, and a
version activated through one worker reaches the others when they next poll the
registry (``model_poll_seconds``).
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from spamsift.config import Settings
from spamsift.exceptions import ConfigError
from spamsift.models.persistence import load_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel
from spamsift.serving.api.app import create_app
from spamsift.serving.api.auth import InMemoryKeys, KeyVerifier
from spamsift.serving.api.state import FeedbackStore
from spamsift.serving.learning import LearningFeedback, catch_up
from spamsift.serving.model_holder import ModelHolder
from spamsift.serving.service import bundled_model_path

__all__ = ["Stores", "StoresFactory", "prepare_data_dir", "build_app", "run"]

Stores = tuple[KeyVerifier | None, FeedbackStore | None]
StoresFactory = Callable[[Path, Settings], Stores]

_WORKER_ENV = "_SPAMSIFT_SERVE_WORKER"  # how a worker process learns what to serve


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


def build_app(data_dir: str | os.PathLike[str], settings: Settings, *,
              stores: StoresFactory | None = None) -> FastAPI:
    """The app for ``data_dir``: its registry's active model, loaded, and the stores."""
    data_dir = Path(data_dir)
    registry = prepare_data_dir(data_dir)
    keys, store = stores(data_dir, settings) if stores else (None, None)
    if store is None:
        holder = ModelHolder(registry)
        holder.reload()
        return create_app(holder, keys=keys or InMemoryKeys(), settings=settings)
    # Every model the holder loads first learns the feedback given since it was
    # trained, so a restart or a roll-back serves what users have taught it; each
    # later label change moves the model being served.
    holder = ModelHolder(registry, loader=lambda path: _caught_up(path, store))
    holder.reload()
    feedback = LearningFeedback(store, lambda: holder.current.model)
    return create_app(holder, keys=keys or InMemoryKeys(), settings=settings,
                      feedback=feedback)


def _caught_up(path: Path, store: FeedbackStore) -> SpamModel:
    model = load_model(path)
    catch_up(model, store)
    return model


def run(host: str, port: int, data_dir: str | os.PathLike[str], settings: Settings,
        workers: int = 1, *, stores: StoresFactory | None = None,
        log_level: str = "info") -> None:
    """Serve the REST API until interrupted.

    Parameters
    ----------
    host, port
        Where to listen.
    data_dir : path-like
        The data folder (see the module docstring); created if missing.
    settings : Settings
    workers : int
        Processes; above 1, ``stores`` must be a module-level function.
    stores : callable, optional
        ``stores(data_dir, settings) -> (keys, feedback)``.
    """
    if workers < 1:
        raise ConfigError(f"workers: expected 1 or more, got {workers}")
    if workers == 1:
        app = build_app(data_dir, settings, stores=stores)
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return
    prepare_data_dir(data_dir)  # once, before the workers race to seed it
    os.environ[_WORKER_ENV] = json.dumps({
        "data_dir": str(Path(data_dir).resolve()),
        "settings": settings.model_dump(mode="json"),
        "stores": _name_of(stores) if stores else None,
    })
    uvicorn.run(f"{__name__}:_worker_app", factory=True, host=host, port=port,
                workers=workers, log_level=log_level)


def _worker_app() -> FastAPI:
    """The app of one worker process, from what :func:`run` left in the environment."""
    spec = json.loads(os.environ[_WORKER_ENV])
    stores = _resolve(spec["stores"]) if spec["stores"] else None
    return build_app(spec["data_dir"], Settings(**spec["settings"]), stores=stores)


def _name_of(fn: StoresFactory) -> str:
    name = f"{fn.__module__}:{fn.__qualname__}"
    try:
        same = _resolve(name) is fn
    except (ImportError, AttributeError):
        same = False
    if not same:
        raise ConfigError(f"stores: with workers > 1 expected a module-level function, "
                          f"got {fn!r}")
    return name


def _resolve(name: str) -> StoresFactory:
    module, _, attr = name.partition(":")
    fn: StoresFactory = getattr(importlib.import_module(module), attr)
    return fn
