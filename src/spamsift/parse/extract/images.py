"""Images to text: barcodes (zxing-cpp) and OCR, as hostile input.

Phishing puts its link where a text filter does not look: in a QR code or a picture
of text. Each image is checked before it is decoded: its bytes, then the width and
height its header declares (a 1 KiB PNG can declare 100,000 x 100,000 pixels), and
only PNG, JPEG, GIF, BMP, WebP and TIFF are opened at all. It is decoded once, to
greyscale (transparency laid on white, JPEGs decoded at a reduced scale where they
are larger than OCR needs), and that one image goes to both readers. Animated images
give their first frame.

Flags name what was cut or skipped (``truncated:image_pixels``, ``image:unsupported``
...): :data:`FLAGS` lists them all. A site's choice to turn a reader off
(``SPAMSIFT_OCR=false``), or OCR not installed (the ``ocr`` extra; logged once), sets
no flag: flags are evidence for the model, and neither says anything of the message.

The caps per message (images, OCR time) are kept by an :class:`ImageBudget` that the
caller makes once per message and hands to every :func:`extract_image` call.
"""

from __future__ import annotations

import io
import logging
import time
import warnings

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from spamsift.config import ImageLimits
from spamsift.parse.extract.ocr import OcrUnavailable, load_engine, read_lines
from spamsift.parse.message import ExtractedPart

__all__ = ["extract_image", "is_image", "ImageBudget", "FLAGS", "FORMATS"]

#: What Pillow may open; anything else is ``image:unsupported``.
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF")

#: Every flag :func:`extract_image` sets.
FLAGS = frozenset({
    "truncated:image_bytes",   # larger than limits.max_image_bytes: not opened
    "truncated:image_pixels",  # declares more than limits.max_image_pixels: not decoded
    "truncated:images",        # past the message's max_images or max_total_pixels
    "truncated:image_frames",  # animated or multi-page: first frame only
    "truncated:image_text",    # OCR text past limits.max_text_chars
    "truncated:ocr_time",      # OCR stopped at the message's limits.ocr_seconds
    "truncated:ocr_lines",     # more text lines than limits.ocr_max_lines
    "image:unsupported",       # not one of FORMATS (or not an image at all)
    "image:unreadable",        # damaged, truncated or undecodable
    "image:ocr_failed",        # the OCR engine failed on this image
    "image:barcodes_failed",   # zxing-cpp failed on this image
})

log = logging.getLogger(__name__)
_warned = False

# Below this many pixels an image holds neither a barcode nor text: tracking pixels
# and spacers, not counted against max_images.
_TINY_PIXELS = 400
# A QR code holds at most 7,089 characters; nothing longer is a real code.
_MAX_BARCODE_CHARS = 8192
_MAX_BARCODES = 20


# Signatures strong enough to read a part as an image whatever type it declares
# (phishing sends its QR code as application/octet-stream too). BMP's "BM" is not:
# plenty of text starts so; a BMP is read when it says it is an image.
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00",
          b"MM\x00*")


def is_image(content_type: str, content: bytes) -> bool:
    """Whether a part should go to :func:`extract_image`: it says ``image/...``, or its
    bytes start with a PNG, JPEG, GIF, TIFF or WebP signature.

    >>> is_image("application/octet-stream", bytes.fromhex("89504e470d0a1a0a"))
    True
    >>> is_image("text/plain", b"BM is a bitmap")
    False
    """
    if content_type.lower().startswith("image/"):
        return True
    return content.startswith(_MAGIC) or (content[:4] == b"RIFF" and content[8:12] == b"WEBP")


class ImageBudget:
    """What one message may still spend on images; one per message, made by the caller.

    >>> budget = ImageBudget(ImageLimits())
    >>> budget.images_left, budget.ocr_seconds_left
    (10, 5.0)
    """

    __slots__ = ("images_left", "pixels_left", "ocr_seconds_left")

    def __init__(self, limits: ImageLimits) -> None:
        self.images_left = limits.max_images
        self.pixels_left = limits.max_total_pixels
        self.ocr_seconds_left = limits.ocr_seconds


def extract_image(content: bytes, content_type: str, filename: str, limits: ImageLimits,
                  flags: set[str], budget: ImageBudget | None = None) -> list[ExtractedPart]:
    """The barcodes (source ``qr``) and text (source ``ocr``) of one image.

    Never raises on bad input: what is cut or skipped is added to ``flags``.

    Parameters
    ----------
    content : bytes
        The image file's decoded bytes.
    content_type, filename : str
        As the part declares them; copied into the parts.
    limits : ImageLimits
        Caps and the two switches (``ocr``, ``barcodes``).
    flags : set of str
        The message's flags, added to (see :data:`FLAGS`).
    budget : ImageBudget, optional
        The message's remaining images and OCR time; a fresh one (this image alone)
        when not given.
    """
    if not (limits.ocr or limits.barcodes):
        return []
    budget = budget if budget is not None else ImageBudget(limits)
    if len(content) > limits.max_image_bytes:
        flags.add("truncated:image_bytes")
        return []
    gray = _decode(content, limits, budget, flags)
    if gray is None:
        return []
    parts: list[ExtractedPart] = []
    if limits.barcodes:
        try:
            texts, boxes = _barcodes(gray)
        except Exception:  # zxing-cpp's C++ raising on an image it was handed
            flags.add("image:barcodes_failed")
            texts, boxes = [], []
        parts += [ExtractedPart("qr", content_type, filename, text) for text in texts]
        if boxes and limits.ocr:
            # Blanked for OCR, which otherwise reads a QR code's finder patterns as
            # characters ("口").
            gray = gray.copy()
            draw = ImageDraw.Draw(gray)
            for box in boxes:
                draw.rectangle(box, fill=255)
    if limits.ocr and _holds_text(gray.size, limits):
        text = _ocr(gray, limits, budget, flags)
        if text:
            parts.append(ExtractedPart("ocr", content_type, filename, text))
    return parts


def _decode(content: bytes, limits: ImageLimits, budget: ImageBudget,
            flags: set[str]) -> Image.Image | None:
    """The first frame as greyscale, or None (flagged) where it should not be read."""
    with warnings.catch_warnings():
        # Pillow warns of damaged files (TIFF tags past the end, bad EXIF): noise on a
        # server's log, and the damage shows when the image is decoded. Past its own
        # pixel cap (89 Mpx) it warns as well, and raises at twice it; ours is lower
        # and checked below, that warning is made an error to catch.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(content), formats=FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            flags.add("truncated:image_pixels")
            return None
        except UnidentifiedImageError:
            flags.add("image:unsupported")
            return None
        except Exception:  # a header that breaks a plugin's parser
            flags.add("image:unreadable")
            return None
        w, h = im.size  # from the header: nothing is decoded yet
        if w * h > limits.max_image_pixels:
            flags.add("truncated:image_pixels")
            return None
        if w * h < _TINY_PIXELS:
            return None
        if budget.images_left <= 0 or budget.pixels_left < w * h:
            flags.add("truncated:images")
            return None
        budget.images_left -= 1
        budget.pixels_left -= w * h
        try:
            # is_animated looks for a second frame only (n_frames would walk a TIFF's
            # every page, as many as fit in the bytes).
            if getattr(im, "is_animated", False):
                flags.add("truncated:image_frames")
            if im.format in ("JPEG", "MPO") and max(w, h) > limits.ocr_max_side:
                # Decoded at 1/2, 1/4 or 1/8 scale, no smaller than OCR's cap: a 12 Mpx
                # photo costs a quarter of the memory and time.
                scale = limits.ocr_max_side / max(w, h)
                im.draft("L", (max(1, int(w * scale)), max(1, int(h * scale))))
            gray = _greyscale(im)
        except Exception:  # truncated data, a bad palette, an unsupported mode
            flags.add("image:unreadable")
            return None
        try:
            return ImageOps.exif_transpose(gray) or gray
        except Exception:  # damaged EXIF: the pixels are still good, as stored
            return gray


def _greyscale(im: Image.Image) -> Image.Image:
    """``im`` as 8-bit greyscale, transparent pixels as white (text on a transparent
    background is drawn over whatever colour the invisible pixels hold, often black)."""
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("L")
    return im.convert("L")


def _barcodes(gray: Image.Image) -> tuple[list[str], list[tuple[int, int, int, int]]]:
    """Distinct texts of the valid barcodes zxing-cpp finds, and each code's bounding
    box (with a margin for its quiet zone)."""
    texts: list[str] = []
    boxes: list[tuple[int, int, int, int]] = []
    for code in zxingcpp.read_barcodes(gray)[:_MAX_BARCODES]:
        text = code.text[:_MAX_BARCODE_CHARS]
        if not (code.valid and text):
            continue
        if text not in texts:
            texts.append(text)
        p = code.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y]
        pad = max(max(xs) - min(xs), max(ys) - min(ys)) // 8 + 2
        boxes.append((min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad))
    return texts, boxes


def _holds_text(size: tuple[int, int], limits: ImageLimits) -> bool:
    w, h = size
    return w * h >= limits.ocr_min_pixels and min(w, h) >= limits.ocr_min_side


def _ocr(gray: Image.Image, limits: ImageLimits, budget: ImageBudget,
         flags: set[str]) -> str:
    if budget.ocr_seconds_left <= 0:
        flags.add("truncated:ocr_time")
        return ""
    if max(gray.size) > limits.ocr_max_side:
        gray = gray.copy()
        gray.thumbnail((limits.ocr_max_side, limits.ocr_max_side), Image.Resampling.LANCZOS,
                       reducing_gap=3.0)
    try:
        load_engine()  # once per process, before the clock: not this message's cost
    except OcrUnavailable as exc:
        # Said once in the log, not flagged: a flag is evidence for the model, and what
        # a site installed says nothing of the message.
        global _warned
        if not _warned:
            _warned = True
            log.warning("OCR is on but cannot run (%s); images are read for barcodes "
                        "only. Install spamsift[ocr], or set SPAMSIFT_OCR=false.", exc)
        return ""
    except Exception:  # out of memory in a parse worker: this message's, flagged
        flags.add("image:ocr_failed")
        return ""
    start = time.monotonic()
    deadline = start + budget.ocr_seconds_left
    try:
        lines, complete = read_lines(np.asarray(gray), deadline, limits.ocr_max_lines)
    except Exception:  # onnxruntime or OpenCV on an odd image: flagged, never a crash
        flags.add("image:ocr_failed")
        return ""
    finally:
        budget.ocr_seconds_left -= time.monotonic() - start
    if not complete:
        flags.add("truncated:ocr_time" if time.monotonic() >= deadline
                  else "truncated:ocr_lines")
    text = "\n".join(lines)
    if len(text) > limits.max_text_chars:
        flags.add("truncated:image_text")
        text = text[: limits.max_text_chars]
    return text
