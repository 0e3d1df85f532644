"""The model a running server scores with, swapped without dropping a request.

A request takes :attr:`ModelHolder.current` once and uses that snapshot to the end,
so it reports the version and cut-offs of the model that actually scored it. A swap
builds the new model completely first, then replaces one reference: requests already
running keep the object they started with, later ones get the new one, and none sees
a half-loaded model. Swaps are serialised by a lock; readers take no lock.

Example
-------
>>> holder = ModelHolder(ModelRegistry(data_dir / "models"))        # doctest: +SKIP
>>> holder.reload().version
'20261128T140102Z-ab12cd'
>>> holder.activate("20261101T090000Z-0f1e2d")                     # roll back
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from spamsift.exceptions import ModelError
from spamsift.models.persistence import load_model
from spamsift.models.registry import ModelRegistry
from spamsift.models.spam_model import SpamModel

__all__ = ["LoadedModel", "ModelHolder", "follow_registry"]

_log = logging.getLogger("spamsift.serving")


@dataclass(frozen=True)
class LoadedModel:
    """One loaded model and the registry version it came from."""

    model: SpamModel
    version: str
    loaded_at: float


class ModelHolder:
    """Holds the active :class:`SpamModel` and swaps it atomically.

    Parameters
    ----------
    registry : ModelRegistry, optional
        Where versions come from. Without one the holder serves the model given to
        :meth:`fixed` and cannot reload or activate.
    loader : callable
        Builds a model from an artifact directory; :func:`load_model` by default.
    """

    def __init__(self, registry: ModelRegistry | None = None, *,
                 loader: Callable[[Path], SpamModel] = load_model) -> None:
        self.registry = registry
        self._loader = loader
        self._current: LoadedModel | None = None
        self._lock = threading.Lock()
        self.loads = 0  # models swapped in, the first one included

    @classmethod
    def fixed(cls, model: SpamModel, version: str = "fixed") -> ModelHolder:
        """A holder serving one model that never changes (no registry)."""
        holder = cls()
        holder._current = LoadedModel(model, version, time.time())
        return holder

    @property
    def ready(self) -> bool:
        return self._current is not None

    @property
    def current(self) -> LoadedModel:
        """The model to score with. Take it once per request.

        Raises
        ------
        ModelError
            Nothing has been loaded yet.
        """
        loaded = self._current
        if loaded is None:
            raise ModelError("no model loaded yet: the server is still starting")
        return loaded

    def reload(self) -> LoadedModel:
        """Load the registry's active version and serve it."""
        registry = self._need_registry()
        with self._lock:
            version = registry.active()
            if version is None:
                raise ModelError(f"registry {registry.root} has no active version")
            return self._swap(version, self._loader(registry.path(version)))

    def activate(self, version: str) -> LoadedModel:
        """Make ``version`` the active one in the registry and serve it.

        The new model is loaded before anything changes, so a version that cannot be
        loaded leaves both the registry and the running server as they were.

        Raises
        ------
        ModelError
            An unknown version or a broken artifact.
        """
        registry = self._need_registry()
        with self._lock:
            model = self._loader(registry.path(version))
            registry.activate(version)
            return self._swap(version, model)

    def refresh(self) -> bool:
        """Reload if the registry's active version is not the one served.

        Cheap when nothing changed (one small file read). Returns whether it swapped.
        """
        if self.registry is None:
            return False
        active = self.registry.active()
        loaded = self._current
        if active is None or (loaded is not None and loaded.version == active):
            return False
        self.reload()
        return True

    def _swap(self, version: str, model: SpamModel) -> LoadedModel:
        loaded = LoadedModel(model, version, time.time())
        self._current = loaded  # the one reference requests read
        self.loads += 1
        return loaded

    def _need_registry(self) -> ModelRegistry:
        if self.registry is None:
            raise ModelError("this server serves a fixed model: it has no registry "
                             "to load versions from")
        return self.registry


async def follow_registry(holder: ModelHolder, every: float) -> None:
    """Serve the registry's active version whenever something else changes it.

    Every front end runs this on its event loop; it checks every ``every`` seconds
    (returns at once without a registry, or for ``every <= 0``). Loading runs in the
    loop's default executor, not a scoring pool: loading and catching up a model
    takes seconds. A version that fails to load is logged and the current one kept.
    """
    if holder.registry is None or every <= 0:
        return
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(every)
        try:
            if await loop.run_in_executor(None, holder.refresh):
                _log.info("now serving model version %s", holder.current.version)
        except Exception:  # keep serving the model we have
            _log.exception("could not load the registry's active model version")
