"""Text in pictures: RapidOCR (PP-OCR models on onnxruntime), loaded once per process.

The models ship inside the ``rapidocr`` wheel. The engine is built with each model's
path given explicitly, so rapidocr's fallback (download a model it cannot find, from
the network) is never on the code path: a missing file is an error here, not a
download. It is given arrays only, never a path or URL (its loader fetches URLs).

Nothing is imported until the first image that needs OCR: importing rapidocr (OpenCV,
onnxruntime) takes about 1.2 s and 230 MB of address space, which ``spamsift
classify`` of a message without images should not pay. The ``ocr`` extra installs it;
without it :func:`load_engine` raises :class:`OcrUnavailable` and images are still read
for barcodes.

Detection runs once per image; recognition one text line at a time, so a deadline is
checked between lines: an image dense with text stops at the deadline instead of
running to its end inside onnxruntime. Recognising line by line is no slower than
rapidocr's batches of six (measured 2.4 s against 3.4 s for an 800 x 600 image of 20
lines, single thread, on the loaded 2-core dev machine).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["OcrUnavailable", "load_engine", "read_lines", "warm_up"]

# The models rapidocr 3.x ships in its wheel (rapidocr/models/); the classifier of
# upside-down lines is not used (see _PARAMS) but its path is given so that nothing
# would be looked up for it either.
_MODELS = {"Det": "PP-OCRv6_det_small.onnx", "Rec": "PP-OCRv6_rec_small.onnx",
           "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}

_PARAMS: dict[str, Any] = {
    "Global.log_level": "critical",
    # Mail images are upright; the 180-degree classifier misread upright lines of an
    # 800 x 200 test image as upside down (and returned garbage) once detection was
    # limited as below, and costs a pass of its own.
    "Global.use_cls": False,
    # Detection on the image scaled down to 960 px on its longest side, never up:
    # rapidocr's default scales the shortest side UP to 736 px (an 800 x 200 banner
    # became 2944 x 736; 2.7 s of detection against 0.2 s).
    "Det.limit_type": "max",
    "Det.limit_side_len": 960,
    # One thread per engine: parallelism comes from the parse workers; two threads
    # were no faster for one image on 2 shared cores (5.5-6.4 s against 2.4-4.6 s).
    "EngineConfig.onnxruntime.intra_op_num_threads": 1,
    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
}

# Recognised text below this confidence is dropped (rapidocr's own default cut-off).
_MIN_SCORE = 0.5


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot be loaded here (the ``ocr`` extra is not installed)."""


_lock = threading.Lock()
_engine: Any = None
_failure: str | None = None


def warm_up(ocr: bool) -> threading.Thread | None:
    """Load the OCR engine on a thread of its own when ``ocr`` is on, so that a
    daemon's first message with a picture of text does not wait for it: loading takes
    about 1 s of CPU (onnxruntime, OpenCV and the models; 0.95 s in a cProfile of
    `spamsift score`), and a daemon scores the messages of concurrent requests in one
    batch, so all of them would wait. A message that needs the engine meanwhile waits
    for the same load, not a second one. Failures are left for that message's own call.
    """
    if not ocr:
        return None

    def load() -> None:
        with contextlib.suppress(Exception):
            load_engine()

    thread = threading.Thread(target=load, name="spamsift-ocr-warm-up", daemon=True)
    thread.start()
    return thread


def load_engine() -> Any:
    """The process's OCR engine, loaded on first use (about 0.5 s once imported).

    Raises
    ------
    OcrUnavailable
        Where it is not installed; remembered, so later calls fail at once. Other
        failures (out of memory in a parse worker) are raised as they are, and the
        next call tries again.
    """
    global _engine, _failure
    with _lock:
        if _engine is not None:
            return _engine
        if _failure is not None:
            raise OcrUnavailable(_failure)
        # onnxruntime >= 1.32's Linux wheels send usage telemetry to Microsoft (a
        # device id and host details, queued in ~/.cache/Microsoft/DeveloperTools and
        # uploaded); a mail filter must not. The switch is read once, when onnxruntime
        # starts: 1.32 reads ORT_DISABLE_TELEMETRY, later sources ORT_TELEMETRY_DISABLED.
        for name in ("ORT_DISABLE_TELEMETRY", "ORT_TELEMETRY_DISABLED"):
            os.environ.setdefault(name, "1")
        try:
            with _one_blas_thread():
                import cv2  # noqa: F401
            import onnxruntime
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as exc:
            _failure = f"rapidocr is not installed (the 'ocr' extra): {exc}"
            raise OcrUnavailable(_failure) from exc
        onnxruntime.disable_telemetry_events()
        models = Path(rapidocr.__file__).parent / "models"
        params = dict(_PARAMS)
        for task, name in _MODELS.items():
            path = models / name
            if not path.is_file():
                _failure = f"rapidocr's model {name} is missing from {models}"
                raise OcrUnavailable(_failure)
            params[f"{task}.model_path"] = str(path)
        _engine = RapidOCR(params=params)
        return _engine


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """OPENBLAS_NUM_THREADS=1 while OpenCV loads its own OpenBLAS, which reserves
    buffers per thread when it loads: 320 MB of address space on import, 180 MB so.
    A parse worker may grow by 512 MB (sandbox_memory_mb); the engine then fits, with
    an image (peak 655-674 MB against 695 MB allowed; without this, OCR failed there).
    OpenCV's resizing and cropping do not use BLAS. Restored after, for what the
    process starts later."""
    old = os.environ.get("OPENBLAS_NUM_THREADS")
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = old


def read_lines(gray: np.ndarray, deadline: float, max_lines: int) -> tuple[list[str], bool]:
    """Text lines read from a greyscale image, top to bottom, until ``deadline``.

    Parameters
    ----------
    gray : ndarray
        2-D ``uint8`` image, already downscaled to the caller's cap.
    deadline : float
        ``time.monotonic()`` value past which no further line is read.
    max_lines : int
        At most this many detected lines are read.

    Returns
    -------
    lines, complete
        ``complete`` is False when the deadline or ``max_lines`` cut the reading short.

    Raises
    ------
    OcrUnavailable
        Where the engine cannot be loaded.
    """
    engine = load_engine()
    with _lock:  # rapidocr keeps per-call switches on the engine: one call at a time
        det = engine(gray, use_det=True, use_cls=False, use_rec=False)
        boxes = getattr(det, "boxes", None)
        if boxes is None or len(boxes) == 0:
            return [], True
        boxes = np.asarray(boxes, dtype=np.float64)
        # Reading order: top to bottom, then left to right.
        order = sorted(range(len(boxes)), key=lambda i: (boxes[i][:, 1].min() // 8,
                                                         boxes[i][:, 0].min()))
        complete = len(order) <= max_lines
        h, w = gray.shape[:2]
        lines: list[str] = []
        for i in order[:max_lines]:
            if time.monotonic() >= deadline:
                return lines, False
            x0, y0 = np.floor(boxes[i].min(axis=0)).astype(int)
            x1, y1 = np.ceil(boxes[i].max(axis=0)).astype(int)
            crop = gray[max(y0, 0):min(y1, h), max(x0, 0):min(x1, w)]
            if crop.shape[0] < 2 or crop.shape[1] < 2:
                continue
            rec = engine(np.ascontiguousarray(crop), use_det=False, use_cls=False,
                         use_rec=True)
            for text, score in zip(getattr(rec, "txts", None) or (),
                                   getattr(rec, "scores", None) or (), strict=False):
                if score >= _MIN_SCORE and text.strip():
                    lines.append(text.strip())
        return lines, complete
