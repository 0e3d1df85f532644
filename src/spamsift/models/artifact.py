"""Model artifacts: a directory holding ``manifest.json`` and ``arrays.npz``.

A model file is versioned data, never code. The manifest (JSON) names the format and
its version, the library versions that wrote it, the sha256 of the arrays file and the
shape and dtype of every array, beside whatever the caller records (settings,
training-data fingerprint, metrics, thresholds). The arrays are plain ``.npy`` members
of a zip, read with ``allow_pickle=False``: loading never executes anything from the
file. Layout::

    model/
      manifest.json   {"format": "spamsift-model", "format_version": 1, ...}
      arrays.npz      one .npy per array: numeric, bool or fixed-width unicode

Example
-------
>>> save_artifact(folder, manifest={"metrics": {"fn_rate": 0.02}},
...               arrays={"coef": np.zeros(3)})                    # doctest: +SKIP
>>> manifest, arrays = load_artifact(folder)                        # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from spamsift.exceptions import ModelError, ModelFormatError, ModelIntegrityError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "SUPPORTED_FORMAT_VERSIONS",
    "MANIFEST_NAME",
    "ARRAYS_NAME",
    "MAX_MANIFEST_BYTES",
    "GENERATED_KEYS",
    "save_artifact",
    "load_artifact",
    "read_manifest",
    "fingerprint",
]

FORMAT = "spamsift-model"
FORMAT_VERSION = 1
SUPPORTED_FORMAT_VERSIONS: tuple[int, ...] = (1,)
MANIFEST_NAME = "manifest.json"
ARRAYS_NAME = "arrays.npz"
# A real manifest is a few kB; the cap keeps a hostile one from exhausting memory.
MAX_MANIFEST_BYTES = 10 * 1024 * 1024
# Keys save_artifact writes itself: they describe the file, so a caller's values are replaced.
GENERATED_KEYS = frozenset(
    {"format", "format_version", "created", "library_versions", "arrays_sha256", "arrays"}
)

# bool, signed and unsigned integers, floats, complex, fixed-width unicode. No objects
# (pickles), bytes, datetimes or records.
_ALLOWED_KINDS = frozenset("biufcU")
_DTYPE_STR = re.compile(r"[<>|][biufcU][0-9]{1,6}")
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with members, an empty zip
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member times: same arrays, same bytes, same sha256
_CHUNK = 1 << 20


def save_artifact(
    path: str | os.PathLike[str],
    *,
    manifest: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    overwrite: bool = False,
) -> Path:
    """Write a model artifact directory atomically and return its path.

    The directory is built beside ``path`` under a temporary name, fsynced, then renamed
    into place, so a reader sees no artifact or a whole one.

    Parameters
    ----------
    path : path-like
        The artifact directory to create. Parents are created as needed.
    manifest : mapping
        JSON-serialisable caller data (settings, fingerprint, metrics, thresholds). The
        keys in :data:`GENERATED_KEYS` are filled in here and replace any given.
    arrays : mapping of str to numpy.ndarray
        Names match ``[A-Za-z0-9_][A-Za-z0-9_.-]*``; dtypes are numeric, bool or
        fixed-width unicode (``<U..``). Numpy scalars are stored as 0-d arrays. Convert
        sparse matrices before saving.
    overwrite : bool, default False
        Replace an existing non-empty ``path``. The old artifact is moved aside first,
        so for a moment neither exists.

    Raises
    ------
    ModelFormatError
        An array or the manifest cannot be stored in this format.
    ModelError
        ``path`` exists and is not empty, and ``overwrite`` is false.
    """
    target = Path(path)
    checked = _check_arrays(arrays)
    if not isinstance(manifest, Mapping):
        raise ModelFormatError(f"manifest: expected a mapping, got {type(manifest).__name__}")
    if _occupied(target) and not overwrite:
        raise ModelError(
            f"refusing to overwrite {target}: it exists and is not empty; "
            "pass overwrite=True to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _make_temp_dir(target.parent, f".{target.name}.tmp-")
    try:
        digest = _write_arrays(staging / ARRAYS_NAME, checked)
        full = {
            **manifest,
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "library_versions": _library_versions(),
            "arrays_sha256": digest,
            "arrays": {
                name: {"shape": list(a.shape), "dtype": a.dtype.str} for name, a in checked.items()
            },
        }
        try:
            text = json.dumps(full, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            data = text.encode("utf-8")  # lone surrogates fail here, inside the check
        except (TypeError, ValueError) as exc:
            raise ModelFormatError(f"manifest: expected JSON-serialisable values: {exc}") from exc
        with open(staging / MANIFEST_NAME, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(staging)
        _move_into_place(staging, target, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _fsync_dir(target.parent)
    return target


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check the manifest of the artifact directory ``path``, without its arrays.

    Raises
    ------
    ModelFormatError
        The directory or manifest is missing, too large, not a JSON object, or of an
        unknown format or format version.
    """
    folder = Path(path)
    file = folder / MANIFEST_NAME
    if not folder.is_dir():
        found = "a file" if folder.exists() else "nothing"
        raise ModelFormatError(f"expected a model artifact directory at {folder}, found {found}")
    if not file.is_file():  # also keeps open() from blocking on a FIFO
        raise ModelFormatError(f"{file} is missing: a model artifact needs a manifest")
    try:
        with open(file, "rb") as fh:
            too_big = os.fstat(fh.fileno()).st_size > MAX_MANIFEST_BYTES
            raw = b"" if too_big else fh.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ModelFormatError(f"{file} cannot be read: {exc}") from exc
    if too_big or len(raw) > MAX_MANIFEST_BYTES:
        raise ModelFormatError(f"{file} is larger than the {MAX_MANIFEST_BYTES}-byte limit")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        raise ModelFormatError(f"{file} is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{file}: expected a JSON object, found {type(manifest).__name__}")
    _check_format(manifest, file)
    return manifest


def load_artifact(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Load the artifact directory ``path``: its manifest and its arrays, verified.

    The arrays file is checked against the manifest's sha256 before it is parsed, and
    parsed with ``allow_pickle=False``, so nothing in it can execute.

    Raises
    ------
    ModelFormatError
        Missing files, malformed JSON, unknown format or format version, arrays that
        differ from the manifest's listing, or a dtype outside numeric, bool and unicode.
    ModelIntegrityError
        ``arrays.npz`` does not match the sha256 recorded in the manifest.
    """
    folder = Path(path)
    manifest = read_manifest(folder)
    listing, expected = _check_listing(manifest, folder / MANIFEST_NAME)
    file = folder / ARRAYS_NAME
    try:
        fh = open(file, "rb")
    except FileNotFoundError:
        raise ModelFormatError(f"{file} is missing: the manifest lists arrays for it") from None
    except OSError as exc:
        raise ModelFormatError(f"{file} cannot be read: {exc}") from exc
    with fh:  # hash and parse the same open file, whatever renames happen meanwhile
        actual = _sha256(fh)
        if actual != expected:
            raise ModelIntegrityError(
                f"{file}: sha256 is {actual}, the manifest expects {expected}; "
                "the file was altered or damaged"
            )
        fh.seek(0)
        return manifest, _read_arrays(fh, file, listing)


def fingerprint(items: Iterable[tuple[str, bytes | str]]) -> str:
    """A sha256 hex digest naming a set of training items, independent of their order.

    Each item is ``(id, content)``; ``str`` content counts as its UTF-8 bytes. The digest
    covers the sorted ``(id, sha256(content))`` pairs, so it changes when an item is
    added, removed, renamed or edited, and a repeated item counts twice. Put the label in
    the id (``"spam/0042"``) if relabelling should change the fingerprint.

    >>> fingerprint([("b", b"two"), ("a", "one")]) == fingerprint([("a", b"one"), ("b", "two")])
    True
    """
    pairs: list[tuple[str, bytes]] = []
    for item_id, content in items:
        if not isinstance(item_id, str):
            raise TypeError(f"fingerprint: expected a str id, got {type(item_id).__name__}")
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogatepass")
        elif not isinstance(content, bytes | bytearray | memoryview):
            raise TypeError(
                f"fingerprint: expected bytes or str content for {item_id!r}, "
                f"got {type(content).__name__}"
            )
        pairs.append((item_id, hashlib.sha256(content).digest()))
    pairs.sort()
    total = hashlib.sha256(b"spamsift-fingerprint-v1\n")
    for item_id, digest in pairs:
        raw = item_id.encode("utf-8", "surrogatepass")
        total.update(len(raw).to_bytes(8, "big") + raw + digest)  # length prefix: unambiguous
    return total.hexdigest()


# --- saving ------------------------------------------------------------------------


def _check_arrays(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(arrays, Mapping):
        raise ModelFormatError(f"arrays: expected a mapping, got {type(arrays).__name__}")
    checked = {}
    for name, array in arrays.items():
        if not isinstance(name, str) or not _ARRAY_NAME.fullmatch(name):
            raise ModelFormatError(
                f"array name: expected letters, digits, '_', '.' or '-' (at most 128), got {name!r}"
            )
        if isinstance(array, np.generic):  # a numpy scalar: store it as a 0-d array
            array = np.asarray(array)
        if not isinstance(array, np.ndarray):
            raise ModelFormatError(
                f"array {name!r}: expected a numpy.ndarray, got {type(array).__name__}"
            )
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise ModelFormatError(
                f"array {name!r}: expected a numeric, bool or fixed-width unicode dtype, "
                f"got {array.dtype}; object arrays would need pickle and are refused"
            )
        checked[name] = array
    return dict(sorted(checked.items()))


def _write_arrays(file: Path, arrays: Mapping[str, np.ndarray]) -> str:
    # The .npz layout numpy.savez writes, done by hand: savez would take an array named
    # "file" or "allow_pickle" as its own argument, and stamps members with the clock.
    with open(file, "xb") as fh:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, array in arrays.items():
                info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_EPOCH)
                with zf.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    with open(file, "rb") as fh:
        return _sha256(fh)


def _library_versions() -> dict[str, str | None]:
    from importlib import metadata  # saving only: its import costs loading ~10 ms

    versions: dict[str, str | None] = {}
    for dist in ("spamsift", "numpy", "scipy", "scikit-learn"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    versions["python"] = platform.python_version()
    return versions


def _occupied(target: Path) -> bool:
    if not os.path.lexists(target):
        return False
    return target.is_symlink() or not target.is_dir() or any(target.iterdir())


def _move_into_place(staging: Path, target: Path, *, overwrite: bool) -> None:
    if not _occupied(target) and target.is_dir():
        target.rmdir()  # an empty directory counts as free (and Windows cannot rename onto it)
    if not os.path.lexists(target):
        try:
            os.rename(staging, target)
            return
        except OSError as exc:
            if not overwrite or not os.path.lexists(target):
                raise ModelError(f"cannot move the new artifact into {target}: {exc}") from exc
    if not overwrite:
        raise ModelError(f"refusing to overwrite {target}: it appeared while writing")
    old = _make_temp_dir(target.parent, f".{target.name}.old-")
    os.rename(target, old / "previous")
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old / "previous", target)
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --- loading -----------------------------------------------------------------------


def _check_format(manifest: dict[str, Any], file: Path) -> None:
    found = manifest.get("format")
    if found != FORMAT:
        raise ModelFormatError(f"{file}: expected format {FORMAT!r}, found {_brief(found)}")
    version = manifest.get("format_version")
    supported = ", ".join(map(str, SUPPORTED_FORMAT_VERSIONS))
    if type(version) is not int:
        raise ModelFormatError(
            f"{file}: expected an integer format_version ({supported}), found {_brief(version)}"
        )
    if version not in SUPPORTED_FORMAT_VERSIONS:
        newer = version > max(SUPPORTED_FORMAT_VERSIONS)
        hint = " (written by a newer spamsift?)" if newer else ""
        raise ModelFormatError(
            f"{file}: format_version {version} is not supported{hint}; "
            f"this spamsift reads format_version {supported}"
        )


def _check_listing(
    manifest: dict[str, Any], file: Path
) -> tuple[dict[str, tuple[list[int], str]], str]:
    expected = manifest.get("arrays_sha256")
    if not isinstance(expected, str) or not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise ModelFormatError(
            f"{file}: expected 'arrays_sha256' as 64 hex digits, found {_brief(expected)}"
        )
    listing = manifest.get("arrays")
    if not isinstance(listing, dict):
        raise ModelFormatError(f"{file}: expected 'arrays' as an object, found {_brief(listing)}")
    checked = {}
    for name, entry in listing.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if (
            not _ARRAY_NAME.fullmatch(name)
            or not isinstance(shape, list)
            or not all(type(n) is int and n >= 0 for n in shape)
            or not isinstance(dtype, str)
            or not _DTYPE_STR.fullmatch(dtype)
        ):
            raise ModelFormatError(
                f"{file}: array {_brief(name)}: expected {{'shape': [int, ...], 'dtype': "
                f"numeric, bool or unicode like '<f8'}}, found {_brief(entry)}"
            )
        checked[name] = (shape, dtype)
    return checked, expected


def _read_arrays(
    fh: BinaryIO, file: Path, listing: dict[str, tuple[list[int], str]]
) -> dict[str, np.ndarray]:
    if fh.read(4) not in _ZIP_MAGIC:
        raise ModelFormatError(f"{file}: expected a zip of .npy arrays (an .npz)")
    fh.seek(0)
    arrays = {}
    try:
        with np.load(fh, allow_pickle=False) as npz:
            names = set(npz.files)
            if missing := sorted(set(listing) - names):
                raise ModelFormatError(f"{file} lacks arrays the manifest lists: {missing}")
            if extra := sorted(names - set(listing)):
                raise ModelFormatError(f"{file} holds arrays the manifest does not list: {extra}")
            for name, (shape, dtype) in sorted(listing.items()):
                array = npz[name]
                if list(array.shape) != shape or array.dtype.str != dtype:
                    raise ModelFormatError(
                        f"{file}: array {name!r}: the manifest lists shape {shape} dtype "
                        f"{dtype}, the file holds shape {list(array.shape)} dtype {array.dtype.str}"
                    )
                arrays[name] = array
    except ModelError:
        raise
    except Exception as exc:  # any failure to parse untrusted bytes is a format problem
        raise ModelFormatError(f"{file} cannot be read as numeric arrays: {exc}") from exc
    return arrays


# --- file-system helpers (also used by the registry) -------------------------------


def _sha256(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _make_temp_dir(parent: Path, prefix: str) -> Path:
    # Not tempfile.mkdtemp: its 0700 mode would travel with the rename and lock out a
    # serving process running as another user. os.mkdir honours the umask.
    while True:
        candidate = parent / f"{prefix}{secrets.token_hex(6)}"
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":  # directories cannot be opened for fsync elsewhere
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _brief(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
