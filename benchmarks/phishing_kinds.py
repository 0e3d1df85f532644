"""Hand-written phishing of each kind, and its legitimate controls, through ``score``.

    python benchmarks/phishing_kinds.py [--model NAME=DIR ...]

The messages are tests/phishing.py's (PDF, QR code, picture of text, forged
authentication, Word and HTML attachments; and controls of the same shapes). They
are written to a temporary folder with an index, and scored through the exact
``score`` form, the site's MTA trusted (``SPAMSIFT_TRUSTED_AUTHSERV_IDS``). Per kind:
how many were marked spam, and how many spam or unsure. The quality benchmark
(benchmarks/quality.py) runs this on the models it trains and on the bundled one;
run alone, it scores the models given (default: the bundled model).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
import phishing  # noqa: E402
from spamsift.models.bundled import bundled_model_path  # noqa: E402

SPAMSIFT = [sys.executable, "-m", "spamsift.cli"]


def write_set(folder: Path) -> tuple[Path, list[phishing.Sample]]:
    """The messages as files under ``folder`` and an index of them (split ``test``)."""
    samples = phishing.samples()
    (folder / "msgs").mkdir(parents=True, exist_ok=True)
    index = folder / "index.csv"
    with open(index, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["path", "label", "split"])
        for s in samples:
            (folder / "msgs" / f"{s.name}.eml").write_bytes(s.data)
            w.writerow([f"msgs/{s.name}.eml", s.label, "test"])
    return index, samples


def score_set(index: Path, model: Path | None, env: dict[str, str] | None = None
              ) -> dict[str, tuple[float, str]]:
    """path -> (score, verdict), through ``spamsift score`` (``model`` None: bundled)."""
    out = index.parent / "scores.csv"
    env = {**(env or os.environ), "SPAMSIFT_TRUSTED_AUTHSERV_IDS": phishing.SITE_AUTHSERV}
    cmd = SPAMSIFT + ["score", "--index", str(index), "--root", str(index.parent),
                      "--split-column", "split", "--out", str(out)]
    # Named, not left to the default: a data folder's registry (./data/models after
    # `make run`) would stand in for the bundled model.
    cmd += ["--model", str(bundled_model_path() if model is None else model)]
    subprocess.run(cmd, check=True, env=env)
    return {Path(r["path"]).stem: (float(r["score"]), r["verdict"])
            for r in csv.DictReader(open(out))}


def per_kind(samples: list[phishing.Sample], scored: dict[str, tuple[float, str]]
             ) -> dict[str, dict]:
    """Per kind: its label, n, how many were marked spam, unsure and ham, and each
    message's score (for comparing runs)."""
    out: dict[str, dict] = {}
    for s in samples:
        row = out.setdefault(s.kind, {"label": s.label, "n": 0, "spam": 0, "unsure": 0,
                                      "ham": 0, "scores": {}})
        score, verdict = scored[s.name]
        row["n"] += 1
        row[verdict] += 1
        row["scores"][s.name] = score
    return out


def run(models: dict[str, Path | None], env: dict[str, str] | None = None) -> dict:
    """Score the set with each model; {model name: per-kind counts}."""
    with tempfile.TemporaryDirectory() as tmp:
        index, samples = write_set(Path(tmp))
        return {name: per_kind(samples, score_set(index, path, env))
                for name, path in models.items()}


def table(results: dict[str, dict]) -> str:
    """One row per kind, two columns per model: phishing caught as spam / as spam or
    unsure, controls marked spam / spam or unsure."""
    names = list(results)
    kinds = list(next(iter(results.values())))
    head = ("| kind | n | " + " | ".join(f"{m}: spam | {m}: spam or unsure" for m in names)
            + " |\n|---|---|" + "---|---|" * len(names) + "\n")
    rows = []
    for label, title in (("spam", "phishing caught"), ("ham", "controls marked")):
        rows.append(f"| **{title}** |" + " |" * (1 + 2 * len(names)))
        total: Counter[str] = Counter()
        for kind in kinds:
            first = results[names[0]][kind]
            if first["label"] != label:
                continue
            cells = []
            for m in names:
                r = results[m][kind]
                cells += [f"{r['spam']}", f"{r['spam'] + r['unsure']}"]
                total[f"{m}:spam"] += r["spam"]
                total[f"{m}:any"] += r["spam"] + r["unsure"]
            total["n"] += first["n"]
            rows.append(f"| {kind} | {first['n']} | " + " | ".join(cells) + " |")
        rows.append(f"| all | {total['n']} | " + " | ".join(
            f"{total[f'{m}:spam']} | {total[f'{m}:any']}" for m in names) + " |")
    return head + "\n".join(rows) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", default=[],
                    help="NAME=DIR, repeatable (default: the bundled model)")
    args = ap.parse_args()
    models: dict[str, Path | None] = {"bundled": None}
    if args.model:
        models = {m.partition("=")[0]: Path(m.partition("=")[2]) for m in args.model}
    print(table(run(models)))


if __name__ == "__main__":
    main()
