"""Which language a text is written in: py3langid's model, shipped inside its wheel.

py3langid (a maintained fork of langid.py) is a naive Bayes over byte n-grams for
140 languages; its model is a file of its package, read with ``allow_pickle=False``,
so nothing is fetched at run time. Loading it takes ~0.7 s of CPU, once per process,
on first use: 0.3 s of LZMA, 0.16 s writing the result to a temporary file, then the
float16 weights widened. The first process to load it keeps the result, as plain
``.npy`` files, in ``$XDG_CACHE_HOME/spamsift`` (``~/.cache/spamsift``); later
processes map those (~0.02 s), which is most of a one-message ``spamsift classify``'s
start-up it used to cost. Where no cache folder can be written, every process loads
the packaged file. Classifying walks the text byte by byte in Python
(~0.1 us a byte), which is why :func:`detect_language` reads a bounded head.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from array import array
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

try:
    from spamsift._speedups import langid_counts as _c_walk
except ImportError:  # built without a C compiler: py3langid walks its automaton itself
    _c_walk = None

__all__ = ["detect_language"]

_lock = threading.Lock()
_identifier: Any = None


_CACHE_FORMAT = 1  # bump when what the cache holds changes
_PARTS = ("ptc", "pc", "classes", "nextmove", "row", "output")


def _cache_dir() -> Path | None:
    """Where this py3langid version's model is kept unpacked, or None without a home."""
    import py3langid

    # Its own attribute where it has one: reading the installed metadata imports
    # importlib.metadata (~10 ms of a one-message classify).
    version = getattr(py3langid, "__version__", None)
    if not isinstance(version, str):
        from importlib import metadata

        try:
            version = metadata.version("py3langid")
        except metadata.PackageNotFoundError:
            return None
    base = os.environ.get("XDG_CACHE_HOME") or (
        str(Path.home() / ".cache") if Path.home() != Path("/") else "")
    if not base:
        return None
    return Path(base) / "spamsift" / f"langid-{version}-{_CACHE_FORMAT}"


@cache
def _identifier_class() -> type:
    """py3langid's identifier, with its automaton walked in C where spamsift._speedups
    is built (and py3langid still has the two methods this replaces one of)."""
    from py3langid.langid import LanguageIdentifier

    if _c_walk is None or not all(hasattr(LanguageIdentifier, m)
                                  for m in ("_raw_score", "_sparse_score")):
        return LanguageIdentifier

    class WalkedInC(LanguageIdentifier):  # type: ignore[misc, valid-type]
        # The walk (py3langid's visit_counts, one Python step a byte) was most of a
        # detection: 0.11 of 0.18 ms a corpus message. The C walk returns the same
        # counts in the same order, so the same scores (tests/features/test_language.py).
        _tables: tuple[Any, ...] | None = None

        def _raw_score(self, text: bytes) -> Any:
            if self._tables is None:
                self._tables = (np.asarray(self.tk_nextmove, dtype=np.uint32),
                                np.asarray(self.tk_row, dtype=np.int64) << 8,
                                np.asarray(self.tk_output, dtype=np.int64))
            visits = _c_walk(*self._tables, text)
            if not visits:  # no feature: py3langid's own answer for that
                return super()._raw_score(text)
            return self._sparse_score(visits, self.nb_ptc)

    return WalkedInC


def _from_cache(folder: Path) -> Any:
    LanguageIdentifier = _identifier_class()  # noqa: N806

    # The automaton's tables are mapped, not copied: copying the 39 MB of nextmove into
    # an array took 65 ms of each process's start; py3langid indexes them one integer at
    # a time, which a memoryview serves as fast (27 us for 200 bytes, against 44 us).
    a = {k: np.load(folder / f"{k}.npy", allow_pickle=False,
                    mmap_mode="r" if k in ("ptc", "nextmove", "output") else None)
         for k in _PARTS}
    return LanguageIdentifier(a["ptc"], a["pc"], a["classes"].tolist(),
                              memoryview(a["nextmove"]), memoryview(a["output"]),
                              tk_row=a["row"].tolist())


def _save_cache(ident: Any, folder: Path) -> None:
    """Write the unpacked model beside ``folder`` and rename it into place (a reader sees
    all of it or none); any failure leaves no cache and is not an error."""
    with contextlib.suppress(OSError):
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".langid-"))
        try:
            parts = {"ptc": np.asarray(ident.nb_ptc, dtype=np.float32),
                     "pc": np.asarray(ident.nb_pc), "classes": np.asarray(ident.nb_classes),
                     "nextmove": np.frombuffer(ident.tk_nextmove, dtype=_np_code(
                         ident.tk_nextmove)),
                     "row": np.frombuffer(ident.tk_row, dtype=_np_code(ident.tk_row)),
                     "output": np.asarray(ident.tk_output, dtype=np.int64)}
            for k, v in parts.items():
                np.save(tmp / f"{k}.npy", v, allow_pickle=False)
            os.replace(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _np_code(a: array) -> np.dtype:
    return np.dtype(a.typecode)


def _load() -> Any:
    folder = _cache_dir()
    if folder is not None and (folder / "output.npy").is_file():
        try:
            return _from_cache(folder)
        except (OSError, ValueError, TypeError):
            # A damaged cache: load the packaged model and write it again.
            shutil.rmtree(folder, ignore_errors=True)
    ident = _load_packaged()
    if folder is not None:
        _save_cache(ident, folder)
    return ident


def _load_packaged() -> Any:
    from py3langid.langid import MODEL_FILE

    ident = _identifier_class().from_model_file(MODEL_FILE)
    # The model's weights come as float16, which numpy converts element by element at
    # every call: 40 of the 60 us a 150-byte text cost. As float32 (+28 MB, the float16
    # copy dropped) the same scores (equal to the last bit here) take 7 us.
    full = getattr(ident, "_full_model", None)
    if full is not None and getattr(ident.nb_ptc, "dtype", None) == np.float16:
        ident.nb_ptc = np.asarray(ident.nb_ptc, dtype=np.float32)
        ident._full_model = (ident.nb_ptc, *full[1:])
    return ident


def _get_identifier() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                _identifier = _load()
    return _identifier


def detect_language(text: str, max_bytes: int = 1000) -> str:
    """The ISO 639 code of the most likely language of ``text`` (``zxx``: none).

    Only the first ``max_bytes`` bytes of its UTF-8 form are read (a character cut in
    two is dropped), so the cost is bounded whatever the script.

    >>> detect_language("Die Besprechung beginnt morgen um zehn Uhr im großen Saal.")
    'de'
    """
    data = text[:max_bytes].encode("utf-8", "surrogatepass")[:max_bytes]
    lang, _ = _get_identifier().classify(data)
    return str(lang)
