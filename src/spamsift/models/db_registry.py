"""A model registry in the feedback store's database, shared by server replicas.

The same interface as :class:`~spamsift.models.registry.ModelRegistry`, for
replicas that share one PostgreSQL database but not a disk. A version is a row of
``model_versions``: the artifact's two files as bytes (``manifest.json``,
``arrays.npz``: JSON and plain arrays, never code) and the sha256 of the two,
inserted in one transaction, so a writer killed mid-write leaves no row at all.
The active version is the one row of ``model_active``; changing it notifies
channel :data:`MODELS_CHANNEL`.

A replica serves from a local cache: :meth:`DatabaseRegistry.path` writes a
version's files under ``cache/VERSION/`` (staged, the checksum verified, the
artifact loaded in full, then renamed into place), so a row that is truncated,
altered or otherwise broken is refused before anything swaps and the previous
model keeps serving.

Example
-------
>>> reg = DatabaseRegistry(Database(url), data_dir / "models" / "shared")  # doctest: +SKIP
>>> reg.activate(reg.add(model_dir))                                       # doctest: +SKIP
>>> load_model(reg.path(reg.active()))                                     # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from spamsift.db.database import Database
from spamsift.db.schema import model_active, model_versions
from spamsift.exceptions import ModelError, ModelIntegrityError, StoreError
from spamsift.models.artifact import (
    ARRAYS_NAME,
    MANIFEST_NAME,
    _fsync_dir,
    _make_temp_dir,
    load_artifact,
)
from spamsift.models.registry import (
    ArtifactSource,
    VersionInfo,
    _check_version,
    _fsync_file,
    _metrics_summary,
    _new_version,
    staged_artifact,
)

__all__ = ["DatabaseRegistry", "MODELS_CHANNEL", "checksum"]

MODELS_CHANNEL = "spamsift_models"
# Any constant 64-bit number: "SSMODELS". Held while a first version is seeded.
_SEED_LOCK = 0x53534D4F44454C53
_V = model_versions.c


def checksum(manifest: bytes, arrays: bytes) -> str:
    """The sha256 a version row carries: over both files, each prefixed by its length."""
    h = hashlib.sha256()
    for part in (manifest, arrays):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


class DatabaseRegistry:
    """Model versions kept in a database, one active; artifacts cached under ``root``.

    Parameters
    ----------
    db : Database
        The store's database (migrated: it holds ``model_versions``).
    root : path-like
        This process's cache of artifacts; created when first needed.
    """

    def __init__(self, db: Database, root: str | os.PathLike[str]) -> None:
        self.db = db
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DatabaseRegistry({self.db.url!r}, cache={str(self.root)!r})"

    def add(self, source: ArtifactSource, version: str | None = None) -> str:
        """Store an artifact (a directory, or a builder as for ``ModelRegistry.add``).

        It is verified in full first, then inserted with its checksum in one
        transaction. Returns the version name.

        Raises
        ------
        ModelError
            A bad or taken name; its subclasses for a broken artifact.
        """
        with staged_artifact(self.root, source, version) as (staged, version):
            manifest = (staged / MANIFEST_NAME).read_bytes()
            arrays = (staged / ARRAYS_NAME).read_bytes()
        try:
            self.db.run(lambda conn: _insert(conn, version, manifest, arrays),
                        what=f"adding model version {version!r}")
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise ModelError(f"version {version!r} already exists in {self}") from exc
            raise
        return version

    def versions(self) -> list[VersionInfo]:
        """Every version, sorted by name (default names sort by time)."""
        active = self.active()
        with self.db.read() as conn:
            rows = conn.execute(select(_V.version, _V.manifest).order_by(_V.version)).all()
        infos = []
        for row in rows:
            problem = None
            try:
                manifest = json.loads(row.manifest)
                if not isinstance(manifest, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                manifest, problem = {}, f"manifest unreadable: {exc}"
            created = manifest.get("created")
            infos.append(VersionInfo(row.version, created if isinstance(created, str) else None,
                                     _metrics_summary(manifest.get("metrics")),
                                     row.version == active, problem))
        return infos

    def active(self) -> str | None:
        """The active version's name, or ``None`` before any :meth:`activate`."""
        with self.db.read() as conn:
            return conn.execute(select(model_active.c.version)).scalar()

    def activate(self, version: str) -> None:
        """Point the shared ``active`` row at ``version``, after loading it in full here.

        Raises
        ------
        ModelError
            An unknown version, or (as a subclass) a broken artifact.
        """
        load_artifact(self.path(version))
        # Two first activations at once race on inserting the row: the retry updates it.
        self.db.run(lambda conn: _point(conn, version), what=f"activating {version!r}",
                    retry_integrity=True)

    def path(self, version: str) -> Path:
        """The local artifact directory of ``version``, fetched and verified if needed.

        Raises
        ------
        ModelError
            A malformed or unknown version name.
        ModelIntegrityError
            The stored bytes do not match their checksum.
        """
        _check_version(version)
        folder = self.root / version
        if folder.is_dir():
            return folder
        with self.db.read() as conn:
            row = conn.execute(select(_V.manifest, _V.arrays, _V.sha256)
                               .where(_V.version == version)).first()
        if row is None:
            known = [info.version for info in self.versions()]
            raise ModelError(f"unknown version {version!r} in {self}; latest known: "
                             f"{', '.join(known[-10:]) or 'none'}")
        manifest, arrays = bytes(row.manifest), bytes(row.arrays)
        if checksum(manifest, arrays) != row.sha256:
            raise ModelIntegrityError(f"model version {version!r} in {self.db.url}: its bytes "
                                      "do not match their sha256 (truncated or altered); "
                                      "not loaded")
        self.root.mkdir(parents=True, exist_ok=True)
        staging = _make_temp_dir(self.root, f".{version}.tmp-")
        try:
            for name, data in ((MANIFEST_NAME, manifest), (ARRAYS_NAME, arrays)):
                with open(staging / name, "xb") as fh:
                    fh.write(data)
                _fsync_file(staging / name)
            load_artifact(staging)
            _fsync_dir(staging)
            try:
                os.rename(staging, folder)
            except OSError:  # another thread or process cached it first
                if not folder.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return folder

    def load_active(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(manifest, arrays)`` of the active version, via :func:`load_artifact`."""
        version = self.active()
        if version is None:
            raise ModelError(f"no active version in {self}: activate one first")
        return load_artifact(self.path(version))

    def seed(self, source: Callable[[], Path]) -> bool:
        """Add and activate ``source()`` if no version is active yet; True if it did.

        Replicas starting together seed once: the check and both writes run under
        one advisory lock.
        """
        if self.active() is not None:
            return False
        artifact = source()
        load_artifact(artifact)
        manifest = (artifact / MANIFEST_NAME).read_bytes()
        arrays = (artifact / ARRAYS_NAME).read_bytes()
        version = _new_version(artifact)

        def tx(conn: Connection) -> bool:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SEED_LOCK})
            if conn.execute(select(model_active.c.version)).scalar() is not None:
                return False
            taken = conn.execute(select(func.count()).select_from(model_versions)
                                 .where(_V.version == version)).scalar_one()
            if not taken:
                _insert(conn, version, manifest, arrays)
            _point(conn, version)
            return True

        return self.db.run(tx, what="seeding the shared model registry")


def _insert(conn: Connection, version: str, manifest: bytes, arrays: bytes) -> None:
    conn.execute(insert(model_versions).values(
        version=version, created_at=datetime.now(UTC), manifest=manifest, arrays=arrays,
        sha256=checksum(manifest, arrays)))


def _point(conn: Connection, version: str) -> None:
    now = datetime.now(UTC)
    if conn.execute(update(model_active).where(model_active.c.id == 1)
                    .values(version=version, activated_at=now)).rowcount == 0:
        conn.execute(insert(model_active).values(id=1, version=version, activated_at=now))
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:c, :v)"), {"c": MODELS_CHANNEL, "v": version})
