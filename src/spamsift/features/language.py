"""Which language a text is written in: py3langid's model, shipped inside its wheel.

py3langid (a maintained fork of langid.py) is a naive Bayes over byte n-grams for
140 languages; its model is a file of its package, read with ``allow_pickle=False``,
so nothing is fetched at run time. Loading it takes ~0.8 s of CPU and ~100 MB, once
per process, on first use. Classifying walks the text byte by byte in Python
(~0.1 us a byte), which is why :func:`detect_language` reads a bounded head.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["detect_language"]

_lock = threading.Lock()
_identifier: Any = None


def _load() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
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
