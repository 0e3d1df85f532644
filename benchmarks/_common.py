"""Shared bits of the benchmarks: corpus location, README table blocks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT / ".." / "shared" / "corpora" / "spamassassin"
RESULTS = ROOT / "benchmarks" / "results"


def replace_block(name: str, text: str, path: Path = ROOT / "README.md") -> None:
    """Swap the README block between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``."""
    readme = path.read_text()
    pat = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pat.search(readme):
        print(f"README has no {name} block; table left in {RESULTS}")
        return
    path.write_text(pat.sub(lambda m: m.group(1) + text.rstrip() + "\n" + m.group(2), readme))


def describe(rev: str) -> str:
    """The short commit ``rev`` names (what a README table can be traced to)."""
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev],
                          capture_output=True, text=True)
    return done.stdout.strip() or "no git"


def export(rev: str, into: Path) -> Path:
    """The ``src`` folder of git revision ``rev``, exported under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    setup = ROOT / "setup.py"
    if (into / "src" / "spamsift" / "_speedups.c").exists() and setup.exists():
        # Its C extension, where it has one, built beside its sources as `pip install -e .`
        # builds it (without a compiler it runs on its pure-Python paths).
        subprocess.run([sys.executable, str(setup), "-q", "build_ext", "--build-lib",
                        str(into / "src")], cwd=into, check=False, capture_output=True)
    return into / "src"
