"""Attachment extraction: what it costs per message, ordinary and hostile.

    python benchmarks/extract.py [--corpus DIR] [--repeat N]

Three tables (benchmarks/results/extract.{json,md}, and the README's block):

- **ordinary documents**: a message with one attachment of each kind (written here
  by tests/documents.py), parsed with extraction on and off; the difference is what
  extraction costs (median of ``--repeat`` runs, after one warm-up run that pays
  pypdf's import);
- **hostile documents**: each class at its worst as a message small enough to be
  parsed in-process (under the sandbox's 256 KiB where it fits), in a fresh process:
  wall time of ``parse_message``, peak RSS of the process, and the flags;
- **the corpus**: how many messages carry something extractable, and the parse time
  of the whole corpus with extraction on and off.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from _common import DEFAULT_CORPUS, RESULTS, replace_block  # noqa: E402

import documents as docs  # noqa: E402
from spamsift.config import ParseLimits  # noqa: E402
from spamsift.parse import parse_message  # noqa: E402

ON, OFF = ParseLimits(), ParseLimits(extract=False)
PDF = "application/pdf"
_PHISH = ("Your mailbox storage is full. Messages will be deleted in 24 hours unless "
          "you verify your account at the link below. " * 3)


def ordinary() -> dict[str, tuple[str, str, bytes]]:
    page = _PHISH + "\n" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 30
    return {
        "pdf, 1 page": ("a.pdf", PDF, docs.pdf([_PHISH], links=["http://x.example/"],
                                                compress=True)),
        "pdf, 20 pages": ("b.pdf", PDF, docs.pdf([page] * 20, compress=True)),
        "docx, 5 pages": ("a.docx", docs.OOXML_TYPES["docx"], docs.docx([page] * 25)),
        "xlsx, 500 cells": ("a.xlsx", docs.OOXML_TYPES["xlsx"],
                            docs.xlsx([f"cell {i} {_PHISH[:40]}" for i in range(500)])),
        "pptx, 10 slides": ("a.pptx", docs.OOXML_TYPES["pptx"], docs.pptx([page] * 10)),
        "odt, 5 pages": ("a.odt", docs.ODF_TYPES["odt"], docs.odf([page] * 25)),
        "rtf, 5 pages": ("a.rtf", "application/rtf", docs.rtf("\n".join([page] * 25))),
        "html attachment": ("a.html", "text/html",
                            f"<html><body><form><p>{_PHISH}</p></form></body></html>".encode()),
        "zip of a pdf and a docx": ("a.zip", "application/zip", docs.zip_of(
            {"a.pdf": docs.pdf([_PHISH]), "b.docx": docs.docx([_PHISH])})),
    }


def hostile() -> dict[str, tuple[str, str, bytes]]:
    flood = b"(hello world) Tj\n" * 150_000
    return {
        "pdf: stream inflating to 180 MB": ("a.pdf", PDF, docs.pdf(
            raw_content=b"0 0 m " * (30 << 20), compress=True)),
        "pdf: 300,000 text operators": ("b.pdf", PDF, docs.pdf(
            raw_content=b"(hello world) Tj\n" * 300_000, compress=True)),
        "pdf: 20 pages of 150,000 operators": ("c.pdf", PDF, docs.pdf(
            ["x"] * 20, raw_content=flood, compress=True)),
        "pdf: 20,000 pages": ("d.pdf", PDF, docs.pdf(["page"], n_pages=20_000)),
        "pdf: arrays nested 100,000 deep": ("e.pdf", PDF, docs.pdf_nested(100_000)),
        "pdf: page tree 5,000 deep": ("f.pdf", PDF, docs.pdf_deep_pages(5_000)),
        "zip: 200 MB member (bomb)": ("a.zip", "application/zip",
                                      docs.zip_of({"a.html": b"\0" * (200 << 20)})),
        "zip: 3 MiB of zeros (ratio 1,000)": ("c.zip", "application/zip",
                                             docs.zip_of({"a.html": b"\0" * (3 << 20)})),
        "zip: 5,000 members": ("b.zip", "application/zip",
                               docs.zip_of({f"{i}.pdf": b"%PDF-1.4" for i in range(5000)})),
        "docx: 3,000,000 paragraphs": ("a.docx", docs.OOXML_TYPES["docx"], docs._zip({
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": "<w:document xmlns:w='x'><w:body>"
                                 + "<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 3_000_000
                                 + "</w:body></w:document>"})),
        "docx: entity expansion (DTD)": ("b.docx", docs.OOXML_TYPES["docx"], docs.docx(
            ["&c;"], prolog='<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">'
                            '<!ENTITY c "&b;&b;&b;">]>')),
        "rtf: 30,000 unclosed fields": ("a.rtf", "application/rtf", (
            "{\\rtf1 " + "{\\field{\\*\\fldinst{x HYPERLINK \"a" * 30_000).encode()),
        "rtf: 4 MB of text": ("b.rtf", "application/rtf", (
            "{\\rtf1 " + "hello world \\par " * 240_000 + "}").encode()),
    }


def time_parse(raw: bytes, limits: ParseLimits, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        parse_message(raw, limits)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


_CHILD = r"""
import json, sys, time
from pathlib import Path
from spamsift.parse import parse_message
from spamsift.parse.extract.pdf import extract_pdf  # noqa: F401 (imports as a parse would)
import pypdf  # noqa: F401  (paid before the clock starts)
data = Path(sys.argv[1]).read_bytes()
t0 = time.perf_counter()
m = parse_message(data)
seconds = time.perf_counter() - t0
peak = 0
for line in Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "flags": sorted(m.flags),
                  "chars": sum(len(p.text) for p in m.parts)}))
"""


def run_child(raw: bytes, tmp: Path) -> dict:
    path = tmp / "m.eml"
    path.write_bytes(raw)
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def corpus_stats(corpus: Path, rounds: int = 5) -> dict:
    """Extraction's cost on the corpus: each message with a non-text part parsed with
    extraction off and on in turn, ``rounds`` times (the machine is shared), the
    medians compared. Messages without one take the same path either way."""
    rows = list(csv.DictReader(open(corpus / "index.csv")))
    datas = [(corpus / r["path"]).read_bytes() for r in rows]
    parse_message(docs.message_with([("w.pdf", PDF, docs.pdf(["warm"]))]))  # import pypdf
    with_att = [d for d in datas if parse_message(d, OFF).attachments]
    extra = []
    for d in with_att:
        times: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(rounds):
            for name, limits in (("off", OFF), ("on", ON)):
                t0 = time.perf_counter()
                parse_message(d, limits)
                times[name].append(time.perf_counter() - t0)
        extra.append(statistics.median(times["on"]) - statistics.median(times["off"]))
    parsed = [parse_message(d, ON) for d in with_att]
    sources: dict[str, int] = {}
    for m in parsed:
        for p in m.parts:
            sources[p.source] = sources.get(p.source, 0) + 1
    return {
        "messages": len(datas), "with_attachments": len(with_att),
        "with_parts": sum(1 for m in parsed if m.parts), "parts_by_source": sources,
        "extra_ms_median": statistics.median(extra) * 1e3, "extra_ms_max": max(extra) * 1e3,
        "extra_s_total": sum(extra),
        "extract_flags": sorted({f for m in parsed for f in m.flags
                                 if f.startswith(("extract", "pdf:", "office:", "zip:",
                                                  "rtf:", "html-attachment:"))}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=21)
    args = ap.parse_args()
    import tempfile

    parse_message(docs.message_with([("w.pdf", PDF, docs.pdf(["warm"]))]))  # import pypdf
    ordinary_rows = []
    for name, att in ordinary().items():
        raw = docs.message_with([att])
        on, off = time_parse(raw, ON, args.repeat), time_parse(raw, OFF, args.repeat)
        chars = sum(len(p.text) for p in parse_message(raw, ON).parts)
        ordinary_rows.append({"case": name, "kib": len(att[2]) / 1024, "ms_on": on * 1e3,
                              "ms_off": off * 1e3, "chars": chars})
        print(ordinary_rows[-1], flush=True)
    hostile_rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = run_child(docs.message_with([]), Path(tmp))
        for name, att in hostile().items():
            raw = docs.message_with([att])
            r = run_child(raw, Path(tmp))
            r.update(case=name, kib=len(raw) / 1024)
            hostile_rows.append(r)
            print(r, flush=True)
    results = {"ordinary": ordinary_rows, "hostile": hostile_rows, "baseline_peak_mb":
               base["peak_mb"]}
    corpus = args.corpus.resolve()
    if (corpus / "index.csv").is_file():
        results["corpus"] = corpus_stats(corpus)
        print(results["corpus"], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "extract.json").write_text(json.dumps(results, indent=2))
    md = table(results)
    (RESULTS / "extract.md").write_text(md)
    replace_block("extract", md)
    print(md)


def table(r: dict) -> str:
    lines = ["| ordinary attachment | size KiB | parse ms, extraction off | on | text chars |",
             "|---|---|---|---|---|"]
    for row in r["ordinary"]:
        lines.append(f"| {row['case']} | {row['kib']:.0f} | {row['ms_off']:.2f} | "
                     f"{row['ms_on']:.2f} | {row['chars']:,} |")
    lines += ["", f"| hostile attachment (fresh process; its peak RSS less "
                  f"{r['baseline_peak_mb']:.0f} MB for an empty message) | message KiB | "
                  "parse s | peak RSS MB | flags |", "|---|---|---|---|---|"]
    for row in r["hostile"]:
        flags = ", ".join(f for f in row["flags"] if not f.startswith("missing:"))
        lines.append(f"| {row['case']} | {row['kib']:.0f} | {row['seconds']:.3f} | "
                     f"{row['peak_mb'] - r['baseline_peak_mb']:+.0f} | {flags} |")
    c = r.get("corpus")
    if c:
        found = ", ".join(f"{k} {v}" for k, v in c["parts_by_source"].items()) or "none"
        lines += ["", f"SpamAssassin corpus: {c['messages']:,} messages, "
                      f"{c['with_attachments']} with a non-text part, {c['with_parts']} with "
                      f"extracted text ({found}; flags seen: "
                      f"{', '.join(c['extract_flags']) or 'none'}). Extraction added "
                      f"{c['extra_ms_median']:.2f} ms to the median of those messages' "
                      f"parse (at most {c['extra_ms_max']:.1f} ms; "
                      f"{c['extra_s_total']:.2f} s for all of them)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
