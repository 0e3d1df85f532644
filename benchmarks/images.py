"""What reading images costs: barcodes and OCR per image, the engine's start, the worst
case at the caps, and OCR inside a parse worker's memory cap.

The images are generated here (Pillow's own font, zxing-cpp's writer, fixed seeds):
a screenshot-like 800 x 600 image of text, a one-line banner, a 12 Mpx phone-photo
JPEG with a sign of text on it, a QR code and a tracking pixel. Each is read through
``extract_image`` with the default ``ImageLimits``, once with OCR off (decode and
barcodes) and once with it on; medians of ``--repeat`` runs after one warm-up.

The worst case at the caps is a 25 Mpx PNG (the pixel cap) covered in text: what one
image can cost a message. The memory figures come from fresh processes: the engine's
start (import, models, first image), and OCR under the address-space limit a parse
worker runs with (spamsift.parse.sandbox: its size at start plus
``sandbox_memory_mb``). ``--corpus`` also reads every image part of the SpamAssassin
corpus (few: it predates image spam).

Run: ``python benchmarks/images.py`` (about 5 minutes on 2 shared cores).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import io
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_CORPUS, RESULTS, ROOT, replace_block  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from spamsift.config import ImageLimits  # noqa: E402
from spamsift.parse.extract import ocr  # noqa: E402
from spamsift.parse.extract.images import ImageBudget, extract_image  # noqa: E402

LIMITS = ImageLimits()
WORDS = ("verify your account payment invoice refund click here to claim the parcel "
         "delivery failed update billing details security alert login now").split()


def _text_lines(rng: np.random.Generator, n: int, words: int = 9) -> list[str]:
    return [" ".join(rng.choice(WORDS, words)) + f" https://l{i}.example/x" for i in range(n)]


def _encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _draw_text(im: Image.Image, lines: list[str], size: int, top: int = 20,
               left: int = 20) -> None:
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default(size=size)
    for i, line in enumerate(lines):
        draw.text((left, top + i * int(size * 1.45)), line, fill="black", font=font)


def images() -> dict[str, tuple[bytes, str]]:
    rng = np.random.default_rng(0)
    shot = Image.new("RGB", (800, 600), "white")
    _draw_text(shot, _text_lines(rng, 20, 7), 18)
    banner = Image.new("RGB", (600, 150), (240, 240, 255))
    _draw_text(banner, ["Your account is suspended: verify now"], 28, top=55)
    # A phone photo: noisy gradient, a light sign with four lines of text on it.
    h, w = 3024, 4032
    grad = np.linspace(60, 180, w, dtype=np.float32)[None, :].repeat(h, 0)
    noise = rng.normal(0, 12, (h, w)).astype(np.float32)
    photo = Image.fromarray(np.clip(grad + noise, 0, 255).astype(np.uint8)).convert("RGB")
    sign = Image.new("RGB", (2200, 700), (235, 230, 220))
    _draw_text(sign, _text_lines(rng, 4, 5), 90, top=60, left=60)
    photo.paste(sign, (900, 1100))
    qr = zxingcpp.write_barcode_to_image(
        zxingcpp.create_barcode("https://qr-pay.example/s?id=1234", zxingcpp.BarcodeFormat.QRCode),
        scale=8)
    return {
        "screenshot 800 x 600, 20 lines of 18 px text (PNG)": (_encode(shot, "PNG"), "png"),
        "banner 600 x 150, one line (PNG)": (_encode(banner, "PNG"), "png"),
        "phone photo 4032 x 3024 with a sign of 4 lines (JPEG)": (
            _encode(photo, "JPEG", quality=88), "jpeg"),
        "QR code 264 x 264 (PNG)": (_encode(Image.fromarray(np.asarray(qr)), "PNG"), "png"),
        "tracking pixel 1 x 1 (GIF)": (_encode(Image.new("P", (1, 1)), "GIF"), "gif"),
    }


def worst_case(side: int = 5000) -> bytes:
    """A side x side PNG of text lines as small as stay legible once the image is
    scaled to OCR's 2,000 px (60 px at 5,000; 20 px text there is not even detected).
    At the pixel cap (5,000) it costs the most; at 1,800 it is small enough to be
    parsed in-process (under sandbox_min_bytes)."""
    rng = np.random.default_rng(1)
    im = Image.new("L", (side, side), 255)
    size = max(24, 60 * side // 5000)
    _draw_text(im, _text_lines(rng, side // int(size * 1.45), 22), size)
    return _encode(im, "PNG")


def _timed(data: bytes, ctype: str, limits: ImageLimits) -> tuple[float, list, set[str]]:
    flags: set[str] = set()
    start = time.perf_counter()
    parts = extract_image(data, f"image/{ctype}", "", limits, flags, ImageBudget(limits))
    return time.perf_counter() - start, parts, flags


def per_image(repeat: int) -> list[dict[str, object]]:
    rows = []
    off = LIMITS.model_copy(update={"ocr": False})
    for name, (data, ctype) in images().items():
        _timed(data, ctype, LIMITS)  # warm-up (and the engine's load, the first time)
        t_off = [_timed(data, ctype, off)[0] for _ in range(repeat)]
        runs = [_timed(data, ctype, LIMITS) for _ in range(repeat)]
        _, parts, flags = runs[-1]
        text = " | ".join(p.text.replace("\n", " / ") for p in parts)
        rows.append({"image": name, "kb": round(len(data) / 1024),
                     "decode_barcodes_s": statistics.median(t_off),
                     "with_ocr_s": statistics.median(r[0] for r in runs),
                     "sources": sorted({p.source for p in parts}), "flags": sorted(flags),
                     "text": text[:80]})
        print(rows[-1], flush=True)
    return rows


_CHILD = """
import io, json, resource, sys, time
sys.path.insert(0, {src!r})
start = time.perf_counter()
import spamsift.parse.mime  # what a parse worker has imported
from spamsift.config import ImageLimits
from spamsift.parse.extract.images import extract_image
from spamsift.parse.sandbox import _vm_size
data = sys.stdin.buffer.read()
if {warm}:
    from spamsift.parse.extract.ocr import load_engine
    load_engine()
mb = {mb}
if mb:
    resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + (mb << 20), resource.RLIM_INFINITY))
flags = set()
t = time.perf_counter()
parts = extract_image(data, "image/png", "", ImageLimits(ocr={ocr}), flags)
print(json.dumps({{"seconds": time.perf_counter() - t, "process_s": time.perf_counter() - start,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sources": sorted({{p.source for p in parts}}), "flags": sorted(flags)}}))
"""


def child(data: bytes, memory_mb: int = 0, warm: bool = False,
          ocr: bool = True) -> dict[str, object]:
    """One image read in a fresh process, under an address-space limit of its size at
    start plus ``memory_mb`` (0: none); the engine loaded first (``warm``) or not."""
    code = _CHILD.format(src=str(ROOT / "src"), mb=memory_mb, warm=warm, ocr=ocr)
    out = subprocess.run([sys.executable, "-c", code],
                         input=data, capture_output=True, timeout=600, check=True)
    return json.loads(out.stdout.decode().strip().splitlines()[-1])


def corpus_images(root: Path, limit_s: float) -> dict[str, object]:
    """Every image part of the corpus's messages, read with the default limits."""
    index = root / "index.csv"
    if not index.is_file():
        return {}
    import csv
    times, kinds, sources, n_msgs = [], {}, {"qr": 0, "ocr": 0}, 0
    deadline = time.monotonic() + limit_s
    with index.open() as fh:
        for row in csv.DictReader(fh):
            raw = (root / row["path"]).read_bytes()
            if b"image/" not in raw.lower():
                continue
            msg = email.message_from_bytes(raw, policy=email.policy.compat32)
            found = False
            for part in msg.walk():
                ctype = part.get_content_type()
                if not ctype.startswith("image/"):
                    continue
                data = part.get_payload(decode=True) or b""
                found = True
                flags: set[str] = set()
                start = time.perf_counter()
                parts = extract_image(data, ctype, "", LIMITS, flags)
                times.append(time.perf_counter() - start)
                kinds[ctype] = kinds.get(ctype, 0) + 1
                for p in parts:
                    sources[p.source] += 1
            n_msgs += found
            if time.monotonic() > deadline:
                break
    return {"messages": n_msgs, "images": len(times), "types": kinds,
            "median_s": statistics.median(times) if times else None,
            "max_s": max(times) if times else None, "parts": sources}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    result: dict[str, object] = {"machine": f"{platform.machine()}, {platform.python_version()}"}

    shot = images()["screenshot 800 x 600, 20 lines of 18 px text (PNG)"][0]
    result["cold"] = child(shot)
    print("cold", result["cold"], flush=True)
    result["sandbox"] = {mb: child(shot, mb) for mb in (512, 768, 1024)}
    print("sandbox", result["sandbox"], flush=True)
    worst = worst_case()
    result["worst"] = {"kb": round(len(worst) / 1024), **child(worst, warm=True)}
    result["worst_no_ocr"] = child(worst, ocr=False)
    small = worst_case(1800)
    result["worst_small"] = {"kb": round(len(small) / 1024), **child(small, warm=True)}
    print("worst", result["worst"], result["worst_no_ocr"], result["worst_small"], flush=True)

    t0 = time.perf_counter()
    ocr.load_engine()
    result["engine_load_s"] = time.perf_counter() - t0
    result["per_image"] = per_image(args.repeat)
    result["corpus"] = corpus_images(args.corpus.resolve(), 300.0)
    print("corpus", result["corpus"], flush=True)
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "images.json").write_text(json.dumps(result, indent=2) + "\n")
    table = render(result)
    (RESULTS / "images.md").write_text(table + "\n")
    replace_block("images", table)
    print(table)


def render(r: dict) -> str:
    cold, worst, small, sb = r["cold"], r["worst"], r["worst_small"], r["sandbox"]
    lines = [
        f"Generated by `benchmarks/images.py` ({r['machine']}, 2 cores shared with other "
        "work; medians of 5 runs, OCR engine warm). *Decode + barcodes*: `extract_image` "
        "with OCR off; *with OCR*: the default settings.",
        "",
        "| image | KB | decode + barcodes s | with OCR s | found | flags |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["per_image"]:
        lines.append(f"| {row['image']} | {row['kb']} | {row['decode_barcodes_s']:.3f} | "
                     f"{row['with_ocr_s']:.2f} | {', '.join(row['sources']) or '-'} | "
                     f"{', '.join(row['flags']) or '-'} |")
    lines += [
        "",
        f"- OCR engine, cold: a fresh process reading the screenshot took "
        f"{cold['seconds']:.1f} s (import of rapidocr, OpenCV and onnxruntime, the "
        f"models' load, the image) and peaked at {cold['peak_rss_mb']:.0f} MB RSS; the "
        f"models' load alone, once imported, {r['engine_load_s']:.2f} s.",
        f"- Worst case at the caps: a 5000 x 5000 PNG ({worst['kb']} KB) covered in "
        f"text took {worst['seconds']:.1f} s ({', '.join(worst['flags']) or 'no flags'}; "
        f"decoding and barcodes alone {r['worst_no_ocr']['seconds']:.1f} s), peak "
        f"{worst['peak_rss_mb']:.0f} MB RSS. The same at 1800 x 1800 is "
        f"{small['kb']} KB, small enough to be parsed in-process (under "
        f"`sandbox_min_bytes`, 256 KiB): {small['seconds']:.1f} s "
        f"({', '.join(small['flags']) or 'no flags'}).",
        "- OCR in a parse worker (address space capped at its size at start plus "
        "`sandbox_memory_mb`): " + "; ".join(
            f"{mb} MB: {'read' if 'ocr' in v['sources'] else ', '.join(v['flags'])}"
            for mb, v in sb.items()) + ".",
    ]
    c = r.get("corpus") or {}
    if c:
        lines.append(
            f"- SpamAssassin corpus: {c['images']} image parts in {c['messages']} messages "
            f"({', '.join(f'{k} {v}' for k, v in sorted(c['types'].items()))}); median "
            f"{c['median_s']:.2f} s per image, slowest {c['max_s']:.2f} s; parts found: "
            f"{c['parts']['ocr']} OCR, {c['parts']['qr']} barcodes.")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
