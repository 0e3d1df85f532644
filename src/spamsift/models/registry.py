"""A folder of model versions with one active pointer.

Layout::

    root/
      ACTIVE                         the active version's name and a newline
      versions/
        20261128T140102Z-ab12cd/     an artifact directory (manifest.json, arrays.npz)
        ...

A version is staged inside ``versions/`` under a hidden name, verified, then renamed
into place, and never changed after. ``ACTIVE`` is written to a temporary file and
swapped in with ``os.replace``, so a process reading while another activates sees the
old name or the new one, never a torn write. Rolling back is activating an earlier
version.

Example
-------
>>> registry = ModelRegistry(root)                                   # doctest: +SKIP
>>> version = registry.add(lambda p: save_artifact(p, manifest=m, arrays=a))
>>> registry.activate(version)
>>> manifest, arrays = registry.load_active()
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from spamsift.exceptions import ModelError, ModelFormatError
from spamsift.models.artifact import (
    ARRAYS_NAME,
    MANIFEST_NAME,
    _fsync_dir,
    _make_temp_dir,
    load_artifact,
    read_manifest,
)

__all__ = ["ModelRegistry", "VersionInfo", "ACTIVE_NAME"]

ACTIVE_NAME = "ACTIVE"
# Starts with a letter or digit: no ".", "..", hidden staging names or option-like "-x".
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

ArtifactSource = str | os.PathLike[str] | Callable[[Path], object]


@dataclass(frozen=True)
class VersionInfo:
    """One version as :meth:`ModelRegistry.versions` lists it.

    ``metrics`` holds the scalar entries of the manifest's ``metrics`` object, if any.
    ``problem`` says why the manifest could not be read; the version is listed anyway.
    """

    version: str
    created: str | None
    metrics: dict[str, Any] = field(default_factory=dict)
    is_active: bool = False
    problem: str | None = None


@contextlib.contextmanager
def staged_artifact(root: Path, source: ArtifactSource, version: str | None = None
                    ) -> Iterator[tuple[Path, str]]:
    """``source`` copied (or built) into a temporary folder under ``root`` and verified
    in full; yields its path and version name (checked, or made from the manifest).
    The folder is removed afterwards, whatever the caller did with it.

    Raises
    ------
    ModelError
        A bad version name; its subclasses when the artifact is broken.
    """
    if version is not None:
        _check_version(version)
    root.mkdir(parents=True, exist_ok=True)
    staging = _make_temp_dir(root, ".incoming-")
    try:
        staged = staging / "artifact"
        if callable(source):
            source(staged)
        else:
            _copy_artifact(Path(source), staged)
        load_artifact(staged)
        yield staged, version or _new_version(staged)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


class ModelRegistry:
    """Model versions kept under ``root``, one of them active.

    Parameters
    ----------
    root : path-like
        The registry folder; created on the first :meth:`add`.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    @property
    def versions_dir(self) -> Path:
        return self.root / "versions"

    def add(self, source: ArtifactSource, version: str | None = None) -> str:
        """Copy an artifact into the registry and return its version name.

        Parameters
        ----------
        source : path-like or callable
            An artifact directory to copy (``manifest.json`` and ``arrays.npz``; other
            files are left behind), or a builder called with a path that does not exist
            yet, which it must create as an artifact, e.g.
            ``lambda p: save_artifact(p, manifest=m, arrays=a)``.
        version : str, optional
            Letters, digits, ``.``, ``_``, ``-``, starting with a letter or digit. By
            default the UTC time plus a short hash of the manifest, e.g.
            ``20261128T140102Z-ab12cd``, which sorts by time.

        Raises
        ------
        ModelError
            A bad or taken version name. Its subclasses when the artifact is broken: it
            is verified in full before it is registered.
        """
        with staged_artifact(self.versions_dir, source, version) as (staged, version):
            target = self.versions_dir / version
            if os.path.lexists(target):
                raise ModelError(f"version {version!r} already exists in {self.root}")
            for name in (MANIFEST_NAME, ARRAYS_NAME):
                _fsync_file(staged / name)
            _fsync_dir(staged)
            try:
                os.rename(staged, target)
            except OSError as exc:  # another process took the name meanwhile
                raise ModelError(f"cannot add version {version!r} to {self.root}: {exc}") from exc
            _fsync_dir(self.versions_dir)
        return version

    def versions(self) -> list[VersionInfo]:
        """Every version, sorted by name (default names sort by time)."""
        if not self.versions_dir.is_dir():
            return []
        active = self.active()
        infos = []
        for name in sorted(p.name for p in self.versions_dir.iterdir() if p.is_dir()):
            if not _VERSION.fullmatch(name):  # staging folders and strays
                continue
            problem = None
            try:
                manifest = read_manifest(self.versions_dir / name)
            except ModelError as exc:
                manifest, problem = {}, str(exc)
            created = manifest.get("created")
            infos.append(
                VersionInfo(
                    version=name,
                    created=created if isinstance(created, str) else None,
                    metrics=_metrics_summary(manifest.get("metrics")),
                    is_active=name == active,
                    problem=problem,
                )
            )
        return infos

    def active(self) -> str | None:
        """The active version's name, or ``None`` before any :meth:`activate`."""
        file = self.root / ACTIVE_NAME
        try:
            with open(file, "rb") as fh:
                raw = fh.read(256)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ModelError(f"{file} cannot be read: {exc}") from exc
        name = raw.decode("utf-8", "replace").strip()
        if not _VERSION.fullmatch(name):
            raise ModelError(f"{file}: expected a version name, found {raw[:80]!r}")
        return name

    def activate(self, version: str) -> None:
        """Point ``ACTIVE`` at ``version``, after verifying its artifact in full.

        Raises
        ------
        ModelError
            An unknown version, or (as a subclass) a broken artifact.
        """
        load_artifact(self.path(version))
        tmp = self.root / f".{ACTIVE_NAME}-{secrets.token_hex(6)}"
        try:
            with open(tmp, "x", encoding="utf-8") as fh:
                fh.write(version + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.root / ACTIVE_NAME)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)

    def path(self, version: str) -> Path:
        """The artifact directory of ``version``.

        Raises
        ------
        ModelError
            A malformed or unknown version name.
        """
        _check_version(version)
        folder = self.versions_dir / version
        if not folder.is_dir():
            known = [info.version for info in self.versions()]
            shown = ", ".join(known[-10:]) or "none"
            raise ModelError(f"unknown version {version!r} in {self.root}; latest known: {shown}")
        return folder

    def load_active(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(manifest, arrays)`` of the active version, via :func:`load_artifact`."""
        version = self.active()
        if version is None:
            raise ModelError(f"no active version in {self.root}: activate one first")
        return load_artifact(self.path(version))


def _check_version(version: object) -> None:
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise ModelError(
            "version: expected letters, digits, '.', '_' or '-' (at most 128, starting "
            f"with a letter or digit), got {version!r}"
        )


def _new_version(staged: Path) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    digest = hashlib.sha256((staged / MANIFEST_NAME).read_bytes()).hexdigest()
    return f"{stamp}-{digest[:6]}"


def _copy_artifact(source: Path, dest: Path) -> None:
    load_artifact(source)  # refuse a broken source with errors that name it
    dest.mkdir()
    for name in (MANIFEST_NAME, ARRAYS_NAME):
        try:
            shutil.copyfile(source / name, dest / name)
        except OSError as exc:
            raise ModelFormatError(f"cannot copy {source / name}: {exc}") from exc


def _fsync_file(file: Path) -> None:
    with open(file, "rb") as fh:
        os.fsync(fh.fileno())


def _metrics_summary(metrics: object) -> dict[str, Any]:
    if not isinstance(metrics, dict):
        return {}
    return {
        key: value
        for key, value in metrics.items()
        if value is None or isinstance(value, bool | int | float | str)
    }
