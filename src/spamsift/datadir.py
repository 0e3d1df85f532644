"""The data folder: where a site's models, feedback and retrain reports live.

One layout, shared by training (``spamsift retrain``) and serving (``serve``,
``spamd``, the milter)::

    DATA_DIR/
      models/            a ModelRegistry; a fresh DIR gets the bundled model as its
                         first version, active (``models/shared``: this process's
                         copies of a registry shared in PostgreSQL)
      spamsift.db        the SQLite feedback and key store (unless ``database_url``)
      retrain-reports/   one JSON report per retrain
      .seed.lock         held while a fresh folder gets its first model
      .retrain.lock      held while a retrain runs
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from spamsift.config import Settings
from spamsift.db import Database, resolve_url, url_backend
from spamsift.exceptions import ConfigError
from spamsift.feedback import FeedbackStore, KeyStore
from spamsift.models.bundled import bundled_model_path
from spamsift.models.db_registry import DatabaseRegistry
from spamsift.models.registry import ModelRegistry

__all__ = ["prepare_data_dir", "open_registry", "open_stores",
           "SHARED_CACHE", "REPORTS_DIR", "RETRAIN_LOCK"]

# Under DATA_DIR/models: this process's copies of the shared registry's versions.
SHARED_CACHE = "shared"
REPORTS_DIR = "retrain-reports"
RETRAIN_LOCK = ".retrain.lock"
_SEED_LOCK = ".seed.lock"


def prepare_data_dir(data_dir: str | os.PathLike[str], *, database: Any = None
                     ) -> ModelRegistry | DatabaseRegistry:
    """The registry a data folder serves from, seeded with a first version when empty.

    ``DATA_DIR/models`` (a folder registry) by default. With ``database`` on
    PostgreSQL, the registry shared in it (:class:`DatabaseRegistry`, cache in
    ``DATA_DIR/models/shared``); an empty one is seeded with this folder's active
    version, else the bundled model.

    Raises
    ------
    ConfigError
        The folder registry has versions but none is active: which to serve is not
        ours to guess.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    registry = ModelRegistry(data_dir / "models")
    if database is not None and getattr(database, "backend", None) == "postgresql":
        shared = DatabaseRegistry(database, registry.root / SHARED_CACHE)

        def first() -> Path:
            active = registry.active()
            return registry.path(active) if active else bundled_model_path()

        shared.seed(first)
        return shared
    if registry.active() is not None:
        return registry
    # `serve` and `spamd` started together on a fresh folder: one seeds, the other
    # waits and finds it done (a lock the kernel drops if the process dies).
    with open(data_dir / _SEED_LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            if registry.active() is not None:
                return registry
            if registry.versions():
                raise ConfigError(f"{registry.root} has model versions but none is active; "
                                  "activate one with `spamsift models activate`")
            registry.activate(registry.add(bundled_model_path()))
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return registry


def open_registry(root: str | os.PathLike[str], settings: Settings
                  ) -> ModelRegistry | DatabaseRegistry:
    """The registry ``spamsift models --registry ROOT`` works on.

    The folder ``ROOT``; with ``settings.database_url`` on PostgreSQL, the registry
    shared in that database (cached under ``ROOT/shared``), as the servers use it.
    """
    url = settings.database_url
    if url and url_backend(url) == "postgresql":
        return DatabaseRegistry(Database(url), Path(root) / SHARED_CACHE)
    return ModelRegistry(root)


def open_stores(data_dir: Path, settings: Settings) -> tuple[KeyStore, FeedbackStore]:
    """Key and feedback stores sharing one database (``settings.database_url`` or
    SQLite at ``DATA_DIR/spamsift.db``). Module-level so server workers find it by name."""
    db = Database(resolve_url(settings.database_url, data_dir))
    return KeyStore(db), FeedbackStore(db, max_message_bytes=settings.limits.max_message_bytes)
